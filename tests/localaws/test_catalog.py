"""Every AWS resource type the components create has its own facts, not the generic guess."""

from __future__ import annotations

import importlib
import inspect
import re

from platformctl.localaws.catalog import TYPES
from ubertruck import PROJECT_ROOT

_CONSTRUCTED = re.compile(r"aws\.([a-z0-9_]+)\.([A-Z][A-Za-z0-9]*)\(")
_TOKEN = re.compile(r"__init__\(\s*'(aws:[^']+)'")


def _component_types() -> set[str]:
    classes = {match for path in (PROJECT_ROOT / "components").glob("*.py") for match in _CONSTRUCTED.findall(path.read_text(encoding="utf-8"))}
    tokens = set()
    for module, name in classes:
        source = inspect.getsource(inspect.getmodule(getattr(importlib.import_module(f"pulumi_aws.{module}"), name)))
        tokens.add(_TOKEN.search(source).group(1))
    return tokens


def test_every_type_the_components_create_is_in_the_catalog():
    used = _component_types()
    assert used, "no aws resources found in components/"
    assert sorted(used - set(TYPES)) == []
