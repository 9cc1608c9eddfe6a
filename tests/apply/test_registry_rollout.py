"""The registry's optional ``rollout`` section: ``canary`` defaults to false and is strict like the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from ubertruck.registry.loader import load_tenant

from tests.registry.support import assert_reports, run_cli, valid_document, validate_errors, write_yaml


def _file(tmp_path: Path, rollout: object | None) -> Path:
    document = valid_document()
    if rollout is not None:
        document["rollout"] = rollout
    return write_yaml(tmp_path / "tenants" / "north-star.yaml", document)


def test_a_tenant_without_a_rollout_section_is_not_a_canary(tmp_path):
    assert load_tenant(_file(tmp_path, None)).rollout.canary is False


def test_a_canary_tenant_file_is_valid(tmp_path):
    path = _file(tmp_path, {"canary": True})
    result = run_cli("tenants", "validate", str(path))
    assert result.code == 0, result.stderr
    assert load_tenant(path).rollout.canary is True


@pytest.mark.parametrize(
    ("rollout", "field", "words"),
    [({"canary": "yes"}, "rollout.canary", ("expected true or false",)), ({"canary": True, "wave": 1}, "rollout.wave", ("unknown field",))],
)
def test_a_bad_rollout_section_names_the_field(tmp_path, rollout, field, words):
    path = _file(tmp_path, rollout)
    lines = validate_errors(path, watch=path.parent)
    assert_reports(lines, path, field, *words)
