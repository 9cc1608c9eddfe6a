"""Bad registry input: one line naming the file and field, exit 2, no traceback, nothing written.

Every test runs ``platformctl tenants validate`` in process on files in a temporary registry
and checks the exact ``error: <file>: <field>: ...`` line (``support.validate_errors`` checks the
exit code, the absence of a traceback, and that the folder is unchanged).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Callable

import pytest

from ubertruck.defaults import load_defaults

from .support import assert_reports, valid_document, validate_errors, write_yaml


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    folder = tmp_path / "tenants"
    folder.mkdir()
    return folder


def _broken(registry: Path, change: Callable[[dict[str, Any]], None], tenant_id: str = "north-star") -> Path:
    document = valid_document(tenant_id)
    change(document)
    return write_yaml(registry / f"{tenant_id}.yaml", document)


def _errors_for(registry: Path, change: Callable[[dict[str, Any]], None]) -> tuple[Path, list[str]]:
    path = _broken(registry, change)
    return path, validate_errors(path, watch=registry.parent)


def test_the_valid_document_passes(registry):
    from .support import run_cli

    path = write_yaml(registry / "north-star.yaml", valid_document())
    result = run_cli("tenants", "validate", str(path))
    assert result.code == 0, result.stderr
    assert "1 tenant file(s) valid" in result.stdout


# --- the file itself -------------------------------------------------------------------------


def test_malformed_yaml_names_file_line_and_column(registry):
    path = registry / "north-star.yaml"
    path.write_text("id: north-star\ncontacts: [unclosed\n", encoding="utf-8")
    lines = validate_errors(path, watch=registry)
    line = assert_reports(lines, path, None, "malformed YAML", "line ")
    assert len(lines) == 1 and "\n" not in line


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n"])
def test_empty_file(registry, text):
    path = registry / "north-star.yaml"
    path.write_text(text, encoding="utf-8")
    lines = validate_errors(path, watch=registry)
    assert_reports(lines, path, None, "file is empty", "expected a tenant mapping")


@pytest.mark.parametrize(
    ("text", "kind"),
    [("- id: north-star\n- tier: basic\n", "list"), ("north-star\n", "str"), ("42\n", "int"), ("true\n", "bool")],
)
def test_root_not_a_mapping(registry, text, kind):
    path = registry / "north-star.yaml"
    path.write_text(text, encoding="utf-8")
    lines = validate_errors(path, watch=registry)
    assert_reports(lines, path, None, f"root is {kind}", "expected a mapping")


def test_non_utf8_bytes(registry):
    path = registry / "north-star.yaml"
    path.write_bytes(b"id: north-star\ndisplay_name: \xff\xfe Freight\n")
    lines = validate_errors(path, watch=registry)
    assert_reports(lines, path, None, "not UTF-8")


def test_file_over_the_size_limit(registry, monkeypatch):
    from ubertruck import safe_yaml

    path = registry / "north-star.yaml"
    path.write_text("# padding\n" * (safe_yaml.MAX_DOCUMENT_BYTES // 10 + 1), encoding="utf-8")
    assert path.stat().st_size > safe_yaml.MAX_DOCUMENT_BYTES
    lines = validate_errors(path, watch=registry)
    assert_reports(lines, path, None, "larger than", str(safe_yaml.MAX_DOCUMENT_BYTES))


def test_control_characters_are_one_line(registry):
    path = registry / "north-star.yaml"
    path.write_text("id: north-star\ndisplay_name: a\x00b\n", encoding="utf-8")
    lines = validate_errors(path, watch=registry)
    assert_reports(lines, path, None, "malformed YAML", "#x0000")


def test_duplicate_key_in_a_mapping_is_refused_not_silently_overwritten(registry):
    path = registry / "north-star.yaml"
    path.write_text("id: north-star\ntier: basic\ntier: enterprise\n", encoding="utf-8")
    lines = validate_errors(path, watch=registry)
    assert_reports(lines, path, None, "line 3", "'tier' appears twice")


# --- fields ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.__setitem__("colour", "blue"), "colour"),
        (lambda d: d["compliance"]["residency"].__setitem__("colour", "blue"), "compliance.residency.colour"),
        (lambda d: d["contacts"][0].__setitem__("phone", "123"), "contacts.0.phone"),
        (lambda d: d["config"]["global"].__setitem__("colour", {}), "config.global.colour"),
        (lambda d: d["config"]["services"]["booking"].__setitem__("busines", {}), "config.services.booking.busines"),
        (lambda d: d["secrets"]["payment_provider_api_key"].__setitem__("value", "x"), "secrets.payment_provider_api_key.value"),
    ],
    ids=["top-level", "compliance", "contact", "config-global", "config-service", "secret-ref"],
)
def test_unknown_field(registry, change, field):
    path, lines = _errors_for(registry, change)
    assert_reports(lines, path, field, "unknown field")
    assert len(lines) == 1


@pytest.mark.parametrize(
    ("change", "field", "expected"),
    [
        (lambda d: d["compliance"].__setitem__("data_retention_days", "365"), "compliance.data_retention_days", "expected an integer, got str"),
        (lambda d: d["compliance"].__setitem__("data_retention_days", True), "compliance.data_retention_days", "expected an integer, got bool"),
        (lambda d: d["compliance"].__setitem__("data_retention_days", 365.0), "compliance.data_retention_days", "expected an integer, got float"),
        (lambda d: d.__setitem__("compliance", [{"residency": {}}]), "compliance", "expected a mapping, got list"),
        (lambda d: d.__setitem__("contacts", {"name": "x"}), "contacts", "expected a list, got dict"),
        (lambda d: d.__setitem__("display_name", 42), "display_name", "expected a string, got int"),
        (lambda d: d["compliance"]["audit"].__setitem__("enabled", "yes"), "compliance.audit.enabled", "expected true or false, got str"),
        (lambda d: d["config"]["services"].__setitem__("booking", ["business"]), "config.services.booking", "expected a mapping, got list"),
    ],
    ids=["quoted-number", "bool-for-int", "float-for-int", "list-for-mapping", "mapping-for-list", "int-for-str", "str-for-bool", "nested-list-for-mapping"],
)
def test_wrong_type_is_refused_in_strict_mode(registry, change, field, expected):
    path, lines = _errors_for(registry, change)
    assert_reports(lines, path, field, expected)


def test_missing_required_field(registry):
    path, lines = _errors_for(registry, lambda d: d.pop("tier"))
    assert_reports(lines, path, "tier", "required field is missing")


def _pricing(document: dict[str, Any]) -> dict[str, Any]:
    return document["config"]["services"]["booking"]["business"]["pricing_models"]


def test_config_value_that_is_not_plain_data(registry):
    # An unquoted timestamp is a YAML datetime, not a JSON value an SSM parameter can hold.
    path, lines = _errors_for(registry, lambda d: _pricing(d).__setitem__("currency", dt.datetime(2024, 1, 1, 10, 0)))
    assert "currency: 2024-01-01 10:00:00" in path.read_text()
    assert_reports(lines, path, "config.services.booking.business.pricing_models.currency", "expected plain data", "datetime")


def test_non_finite_number_in_config(registry):
    path = registry / "north-star.yaml"
    text = write_yaml(path, valid_document()).read_text()
    path.write_text(text.replace("base_fare_minor: 50000", "base_fare_minor: .nan"), encoding="utf-8")
    lines = validate_errors(path, watch=registry)
    assert_reports(lines, path, "config.services.booking.business.pricing_models.base_fare_minor", "finite number")


def test_user_keys_are_reported_as_written(registry):
    # The model's `global_` attribute is spelt `global` in files; user keys keep their spelling.
    path, lines = _errors_for(registry, lambda d: d["config"]["global"]["operational"].__setitem__("my_global_limit", float("inf")))
    assert_reports(lines, path, "config.global.operational.my_global_limit", "finite number")


# --- ids -------------------------------------------------------------------------------------


def test_id_not_matching_the_file_name(registry):
    path = write_yaml(registry / "north-star.yaml", valid_document("south-star"))
    lines = validate_errors(path, watch=registry)
    assert_reports(lines, path, "id", "'south-star' does not match the file name", "expected 'north-star'")
    assert len(lines) == 1


def test_id_mismatch_is_reported_with_the_files_other_problems(registry):
    document = valid_document("south-star")
    document["tier"] = "gold"
    path = write_yaml(registry / "north-star.yaml", document)
    lines = validate_errors(path, watch=registry)
    assert_reports(lines, path, "id", "does not match the file name")
    assert_reports(lines, path, "tier", "unknown tier 'gold'")


def test_duplicate_id_across_two_files(tmp_path):
    first = write_yaml(tmp_path / "a" / "north-star.yaml", valid_document())
    second = write_yaml(tmp_path / "b" / "north-star.yaml", valid_document())
    lines = validate_errors(tmp_path / "a", tmp_path / "b", watch=tmp_path)
    assert_reports(lines, second, "id", "'north-star' is already used by", str(first), "unique")
    assert len(lines) == 1


def test_one_file_named_twice_is_not_a_duplicate(registry, monkeypatch):
    from .support import run_cli

    path = write_yaml(registry / "north-star.yaml", valid_document())
    monkeypatch.chdir(registry.parent)
    result = run_cli("tenants", "validate", "tenants", "tenants/north-star.yaml", str(path.resolve()))
    assert result.code == 0, result.stderr
    assert "1 tenant file(s) valid" in result.stdout


_MAX = load_defaults().platform.tenant_id_max_length


@pytest.mark.parametrize(
    ("bad_id", "expected"),
    [
        ("North-Star", "DNS label"),
        ("north star", "DNS label"),
        ("../x", "DNS label"),
        ("a/b", "DNS label"),
        ("a\\b", "DNS label"),
        ("-north", "DNS label"),
        ("north-", "DNS label"),
        ("north_star", "DNS label"),
        ("", "DNS label"),
        ("a" * (_MAX + 1), f"at most {_MAX} characters"),
        ("admin", "reserved"),
        ("dev", "reserved"),
    ],
)
def test_bad_id_is_refused(registry, bad_id, expected):
    # The file keeps a valid name so the id's own problem is what is reported for `id`.
    path = write_yaml(registry / "north-star.yaml", valid_document(bad_id))
    lines = validate_errors(path, watch=registry)
    assert any(line.startswith(f"error: {path}: id: ") and expected in line for line in lines), lines


def test_longest_allowed_id_is_accepted(registry):
    from .support import run_cli

    tenant_id = "a" * _MAX
    path = write_yaml(registry / f"{tenant_id}.yaml", valid_document(tenant_id))
    assert run_cli("tenants", "validate", str(path)).code == 0


# --- sets the project declares -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field", "expected"),
    [
        (lambda d: d.__setitem__("environments", ["dev", "qa"]), "environments", "unknown environment(s) ['qa']"),
        (lambda d: d.__setitem__("environments", ["dev", "dev"]), "environments", "twice"),
        (lambda d: d["config"]["environments"].__setitem__("staging", {}), "config.environments", "unknown environment(s) ['staging']"),
        (lambda d: d.__setitem__("tier", "gold"), "tier", "unknown tier 'gold'"),
        (lambda d: d.__setitem__("region", "mars-north-1"), "region", "unsupported region 'mars-north-1'"),
        (lambda d: d["compliance"]["residency"].__setitem__("allowed_regions", ["ap-south-1", "moon-1"]), "compliance.residency.allowed_regions", "unsupported region(s) ['moon-1']"),
        (lambda d: d["config"]["services"].__setitem__("bookings", {}), "config.services", "unknown service(s) ['bookings']"),
        (lambda d: d["config"]["environments"]["prod"]["services"].__setitem__("ledger", {}), "config.environments.prod.services", "unknown service(s) ['ledger']"),
        (lambda d: d["compliance"].__setitem__("data_retention_days", 1), "compliance.data_retention_days", "at least"),
        (lambda d: d["contacts"][0].__setitem__("email", "not-an-email"), "contacts.0.email", "email address"),
        (lambda d: d["contacts"][0].__setitem__("role", "boss"), "contacts.0.role", "owner"),
    ],
    ids=["env", "env-twice", "config-env", "tier", "region", "residency-region", "service", "env-service", "retention", "email", "role"],
)
def test_value_outside_the_declared_set(registry, change, field, expected):
    path, lines = _errors_for(registry, change)
    assert_reports(lines, path, field, expected)


def test_region_outside_residency_names_the_region_field(registry):
    path, lines = _errors_for(registry, lambda d: d.__setitem__("region", "eu-west-1"))
    assert_reports(lines, path, "region", "'eu-west-1' is not in compliance.residency.allowed_regions")
    assert len(lines) == 1


# --- all problems, all files, one run ----------------------------------------------------------


def test_a_folder_of_bad_files_reports_every_problem_of_every_file(registry):
    good = write_yaml(registry / "north-star.yaml", valid_document())
    malformed = registry / "broken.yaml"
    malformed.write_text("id: broken\ntier: [\n", encoding="utf-8")
    empty = registry / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    several = valid_document("several")
    several["tier"] = "gold"
    several["environments"] = ["qa"]
    several["colour"] = "blue"
    several_path = write_yaml(registry / "several.yaml", several)
    mismatch = write_yaml(registry / "mismatch.yaml", valid_document("other"))
    (registry / "notes.txt").write_text("not a registry file", encoding="utf-8")

    lines = validate_errors(registry, watch=registry)

    assert_reports(lines, malformed, None, "malformed YAML")
    assert_reports(lines, empty, None, "file is empty")
    assert_reports(lines, several_path, "tier", "unknown tier")
    assert_reports(lines, several_path, "environments", "unknown environment")
    assert_reports(lines, several_path, "colour", "unknown field")
    assert_reports(lines, mismatch, "id", "does not match the file name")
    assert not any(str(good) in line for line in lines)
    assert len(lines) == 6


def test_missing_paths_are_reported_with_the_other_problems(registry):
    bad = _broken(registry, lambda d: d.__setitem__("tier", "gold"))
    missing = registry / "absent.yaml"
    lines = validate_errors(missing, bad, watch=registry)
    assert_reports(lines, missing, None, "no such file or folder")
    assert_reports(lines, bad, "tier", "unknown tier")


def test_summary_line_counts_problems_and_files(registry):
    from .support import run_cli

    _broken(registry, lambda d: (d.__setitem__("tier", "gold"), d.__setitem__("region", "mars-1")))
    write_yaml(registry / "fine.yaml", valid_document("fine"))
    result = run_cli("tenants", "validate", str(registry))
    assert result.code == 2
    assert result.stderr.splitlines()[-1] == "2 problem(s) in 2 file(s)"


def test_error_path_inside_config_values_has_no_pydantic_branch_names(registry):
    # pydantic adds `dict`/`list` to locations inside JSON values; a user key named `dict` stays.
    when = dt.datetime(2024, 1, 1, 10, 0)
    path, lines = _errors_for(registry, lambda d: _pricing(d).__setitem__("dict", [1, {"when": when}]))
    assert_reports(lines, path, "config.services.booking.business.pricing_models.dict.1.when", "expected plain data")
