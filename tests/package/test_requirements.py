"""The functions' runtime dependency list: exact pins that agree with the project's."""

from __future__ import annotations

from importlib import metadata

import pytest

from platformctl.package.requirements import parse_pins, project_pins, read_pins
from ubertruck import PROJECT_ROOT
from ubertruck.errors import UserError

from .conftest import DEFAULTS

RUNTIME = read_pins(PROJECT_ROOT / DEFAULTS.artifacts.requirements_file)


def test_pins_shared_with_requirements_txt_agree() -> None:
    project = {pin.name: pin.version for pin in project_pins(PROJECT_ROOT / "requirements.txt")}
    shared = [pin for pin in RUNTIME if pin.name in project]
    # The direct dependencies are pinned in both files.
    assert {"aws-lambda-powertools", "aws-xray-sdk", "pydantic", "pyjwt", "boto3"} <= {pin.name for pin in shared}
    assert [(p.name, p.version) for p in shared if project[p.name] != p.version] == []


def test_the_layer_ships_the_versions_the_function_tests_run_against() -> None:
    installed = {pin.name: metadata.version(pin.name) for pin in RUNTIME}
    assert {pin.name: pin.version for pin in RUNTIME} == installed


def test_anything_but_an_exact_pin_is_refused_naming_the_line() -> None:
    with pytest.raises(UserError, match=r"^functions/requirements.txt:2: 'pydantic>=2' is not an exact pin; expected name==version$"):
        parse_pins("boto3==1.0\npydantic>=2\n", "functions/requirements.txt")
