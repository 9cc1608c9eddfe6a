"""`platformctl tenants new|list|validate`: valid starter files, no overwrites, exit codes, and
tracebacks only under --debug."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.registry.support import run_cli, snapshot, valid_document, write_yaml
from ubertruck import PROJECT_ROOT
from ubertruck.defaults import load_defaults
from ubertruck.registry import load_registry, load_tenant

SHIPPED = PROJECT_ROOT / "tenants"


def _platformctl(*args: str) -> subprocess.CompletedProcess[str]:
    """The real console entry point in a child process (for exit status and stderr as users see them)."""
    return subprocess.run([sys.executable, "-m", "platformctl", *args], cwd=PROJECT_ROOT, capture_output=True, text=True)


# --- tenants new -------------------------------------------------------------------------------


def test_new_writes_a_valid_file_that_validate_accepts(tmp_path):
    result = run_cli("tenants", "new", "north-star", "--registry", str(tmp_path))
    assert result.code == 0, result.stderr
    path = tmp_path / "north-star.yaml"
    assert result.stdout.strip() == f"wrote {path}"
    tenant = load_tenant(path)
    defaults = load_defaults()
    assert tenant.id == "north-star"
    assert tenant.tier == sorted(defaults.tiers)[0]
    assert tenant.region == defaults.platform.supported_regions[0]
    assert tenant.region in tenant.compliance.residency.allowed_regions
    assert run_cli("tenants", "validate", str(tmp_path)).code == 0
    assert list(tmp_path.iterdir()) == [path], "no temporary file is left behind"


def test_new_takes_tier_and_region(tmp_path):
    result = run_cli("tenants", "new", "globex2", "--registry", str(tmp_path), "--tier", "enterprise", "--region", "eu-west-1")
    assert result.code == 0, result.stderr
    tenant = load_tenant(tmp_path / "globex2.yaml")
    assert (tenant.tier, tenant.region) == ("enterprise", "eu-west-1")


@pytest.mark.parametrize("tenant_id", ["123", "1e3", "true", "null", "0x1f"])
def test_new_id_that_yaml_would_read_as_a_number_or_bool_is_written_as_text(tmp_path, tenant_id):
    result = run_cli("tenants", "new", tenant_id, "--registry", str(tmp_path))
    assert result.code == 0, result.stderr
    assert load_tenant(tmp_path / f"{tenant_id}.yaml").id == tenant_id


def test_new_refuses_to_overwrite(tmp_path):
    path = write_yaml(tmp_path / "north-star.yaml", valid_document())
    before = snapshot(tmp_path)
    result = run_cli("tenants", "new", "north-star", "--registry", str(tmp_path))
    assert result.code == 2
    assert result.error_lines == [f"error: {path}: already exists; edit it instead"]
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    ("tenant_id", "expected"),
    [
        ("../x", "DNS label"),
        ("a/b", "DNS label"),
        ("North-Star", "DNS label"),
        ("north star", "DNS label"),
        ("a: b", "DNS label"),
        ("x\nenvironments: [prod]", "DNS label"),
        ("a" * 41, "at most 40 characters"),
        ("admin", "reserved"),
    ],
)
def test_new_refuses_a_bad_id_and_writes_nothing(tmp_path, tenant_id, expected):
    registry = tmp_path / "tenants"
    result = run_cli("tenants", "new", tenant_id, "--registry", str(registry))
    assert result.code == 2
    assert len(result.error_lines) == 1
    assert result.error_lines[0].startswith("error: ID '") and expected in result.error_lines[0]
    assert "Traceback" not in result.stderr
    assert snapshot(tmp_path) == {}
    assert not registry.exists()


@pytest.mark.parametrize(("option", "value"), [("--tier", "gold"), ("--region", "mars-1")])
def test_new_refuses_an_unknown_tier_or_region(tmp_path, option, value):
    result = run_cli("tenants", "new", "north-star", "--registry", str(tmp_path), option, value)
    assert result.code == 2
    assert len(result.error_lines) == 1 and result.error_lines[0].startswith(f"error: {option}: ")
    assert snapshot(tmp_path) == {}


# --- tenants list / validate on the shipped registry ---------------------------------------------


def test_list_shows_every_shipped_tenant():
    result = run_cli("tenants", "list")
    assert result.code == 0, result.stderr
    shipped = load_registry([SHIPPED]).tenants
    assert len(shipped) >= 3
    for tenant_id, tenant in shipped.items():
        row = next(line for line in result.stdout.splitlines() if f" {tenant_id} " in line)
        assert tenant.tier in row and tenant.region in row


def test_shipped_tenants_differ_in_tier_and_environments():
    shipped = load_registry([SHIPPED]).tenants.values()
    assert len({t.tier for t in shipped}) >= 2
    assert len({tuple(t.environments) for t in shipped}) >= 2


def test_list_of_a_registry_with_a_bad_file_exits_2(tmp_path):
    write_yaml(tmp_path / "north-star.yaml", valid_document())
    (tmp_path / "broken.yaml").write_text("id: [\n", encoding="utf-8")
    result = run_cli("tenants", "list", "--registry", str(tmp_path))
    assert result.code == 2
    assert [line.split(": ")[1] for line in result.error_lines] == [str(tmp_path / "broken.yaml")]


def test_validate_the_shipped_registry_exits_0():
    result = run_cli("tenants", "validate")
    assert result.code == 0, result.stderr
    assert result.stdout.strip() == f"ok: {len(list(SHIPPED.glob('*.yaml')))} tenant file(s) valid"


# --- the real process: exit status, no traceback, --debug -------------------------------------


def test_validate_bad_file_in_a_real_process_exits_2_with_one_line_and_no_traceback(tmp_path):
    document = valid_document()
    document["tier"] = "gold"
    path = write_yaml(tmp_path / "north-star.yaml", document)
    result = _platformctl("tenants", "validate", str(path))
    assert result.returncode == 2
    assert result.stderr.splitlines()[0].startswith(f"error: {path}: tier: unknown tier 'gold'")
    assert "Traceback" not in result.stderr


def test_debug_shows_the_traceback(tmp_path):
    plain = _platformctl("tenants", "new", "../x", "--registry", str(tmp_path))
    debug = _platformctl("--debug", "tenants", "new", "../x", "--registry", str(tmp_path))
    assert plain.returncode == 2 and "Traceback" not in plain.stderr
    assert debug.returncode != 0 and "Traceback" in debug.stderr and "UserError" in debug.stderr
    assert list(tmp_path.iterdir()) == []


def test_shipped_registry_validates_in_a_real_process():
    result = _platformctl("tenants", "validate", str(SHIPPED))
    assert result.returncode == 0, result.stderr
