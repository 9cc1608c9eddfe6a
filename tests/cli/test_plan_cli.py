"""`platformctl plan` over the shipped registry: JSON shape, filters, exit codes, cache."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from platformctl.engine.plan import Planner, PlanSettings
from ubertruck import PROJECT_ROOT
from ubertruck.defaults import load_defaults
from ubertruck.registry import load_registry
from ubertruck.stacks import all_stacks


def _platformctl(*args: str, cwd: Path = PROJECT_ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "platformctl", *args], cwd=cwd, capture_output=True, text=True)


#: The tests that read the full plan run on one xdist worker, which plans the registry once for them.
ONE_PLAN = pytest.mark.xdist_group("plan-json")


@pytest.fixture(scope="module")
def plan_json(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("plan") / "plan.json"
    result = _platformctl("plan", "--format", "json", "--output", str(out), "--no-cache")
    assert result.returncode in (0, 1), result.stderr
    return json.loads(out.read_text())


@ONE_PLAN
def test_json_has_the_documented_shape(plan_json):
    assert set(plan_json) == {"stacks", "summary"}
    assert set(plan_json["summary"]) == {"stacks", "resources", "mandatory", "advisory"}
    for stack in plan_json["stacks"]:
        assert {"stack", "tenant", "environment", "resources", "violations"} <= set(stack)
        for resource in stack["resources"]:
            assert set(resource) == {"urn", "type", "name", "parent", "provider", "inputs"}
            assert resource["urn"].startswith(f"urn:pulumi:{stack['stack']}::ubertruck::")
            if resource["provider"] is not None:
                assert set(resource["provider"]) == {"urn", "account", "region"}
        for violation in stack["violations"]:
            assert set(violation) == {"pack", "policy", "level", "urn", "message"}


@ONE_PLAN
def test_every_aws_resource_names_the_account_and_region_it_lands_in(plan_json):
    """Each AWS resource's provider is the stack's pinned provider: the environment's account,
    and the tenant's registry region (tenant stacks) or one of the shared stack's regions."""
    defaults = load_defaults()
    registry = load_registry()
    for stack in plan_json["stacks"]:
        account = defaults.environments[stack["environment"]].account_id
        regions = {registry.tenants[stack["tenant"]].region} if stack["tenant"] else defaults.platform.supported_regions
        aws_resources = [r for r in stack["resources"] if r["type"].startswith("aws:")]
        assert aws_resources
        for resource in aws_resources:
            provider = resource["provider"]
            assert provider["account"] == account, resource["urn"]
            assert provider["region"] in regions, resource["urn"]
            assert provider["urn"].startswith(f"urn:pulumi:{stack['stack']}::ubertruck::")
        components = [r for r in stack["resources"] if r["type"].startswith("ubertruck:")]
        assert components and all(r["provider"] is None for r in components)


@ONE_PLAN
def test_every_shipped_stack_is_planned(plan_json):
    registry = load_registry()
    expected = {"dev", "prod"} | {f"{t}-{e}" for t, tenant in registry.tenants.items() for e in tenant.environments}
    assert {s["stack"] for s in plan_json["stacks"]} == expected
    assert plan_json["summary"]["stacks"] == len(expected)
    assert plan_json["summary"]["resources"] == sum(len(s["resources"]) for s in plan_json["stacks"])


def test_tenant_stacks_carry_their_tenant(plan_json):
    for stack in plan_json["stacks"]:
        if stack["tenant"] is None:
            assert stack["stack"] == stack["environment"]
            continue
        assert stack["stack"] == f"{stack['tenant']}-{stack['environment']}"
        tenant_root = next(r for r in stack["resources"] if r["type"] == "ubertruck:tenant:TenantPlatform")
        assert tenant_root["name"] == stack["stack"]


def test_filters_select_stacks(tmp_path):
    out = tmp_path / "p.json"
    result = _platformctl("plan", "-t", "acme", "-e", "prod", "-f", "json", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert [s["stack"] for s in json.loads(out.read_text())["stacks"]] == ["acme-prod"]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["-e", "qa"], "--env: unknown environment"),
        (["-t", "nobody"], "--tenant: unknown tenant"),
        (["--format", "yaml"], "Invalid value"),
    ],
)
def test_bad_input_exits_2_with_one_line(args, fragment):
    result = _platformctl("plan", *args)
    assert result.returncode == 2
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_registry_fails_before_planning(tmp_path):
    registry = tmp_path / "tenants"
    registry.mkdir()
    (registry / "broken.yaml").write_text("id: [unclosed\n")
    result = _platformctl("plan", "--registry", str(registry))
    assert result.returncode == 2
    assert f"{registry / 'broken.yaml'}: line " in result.stderr
    assert "malformed YAML" in result.stderr


def test_cache_replans_only_the_changed_tenant(tmp_path):
    registry = tmp_path / "tenants"
    shutil.copytree(PROJECT_ROOT / "tenants", registry)
    defaults = load_defaults()
    settings = PlanSettings(defaults=defaults, registry_dir=registry, workers=1, cache_dir=tmp_path / "cache")
    planner = Planner(settings)  # one digest of the program's sources for both plans

    # One environment keeps the test quick; the cache keys stacks the same way in every one.
    environment = defaults.platform.environments[0]

    def plan_once() -> dict[str, bool]:
        tenants = load_registry([registry]).tenants
        planned = planner.plan(all_stacks(tenants, [environment]))
        return {p.ref.name: p.cached for p in planned}

    first = plan_once()
    assert len(first) > 2 and not any(first.values())
    text = (registry / "globex.yaml").read_text().replace("Globex Haulage", "Globex Haulage Ltd")
    (registry / "globex.yaml").write_text(text)
    second = plan_once()
    assert {name for name, cached in second.items() if not cached} == {f"globex-{environment}"}


def test_parallel_and_serial_plans_agree(tmp_path):
    defaults = load_defaults()
    tenants = load_registry().tenants
    # The shared stack and two tenant stacks: enough for two workers to split the work.
    stacks = all_stacks(tenants, defaults.platform.environments[:1])[:3]
    assert len(stacks) == 3

    def resources(workers: int) -> dict[str, list[str]]:
        planner = Planner(PlanSettings(defaults=defaults, workers=workers, use_cache=False))
        return {p.ref.name: sorted(r["urn"] for r in p.resources) for p in planner.plan(stacks)}

    assert resources(1) == resources(2)


def test_onboarding_is_one_new_file_that_plans_clean(tmp_path):
    registry = tmp_path / "tenants"
    shutil.copytree(PROJECT_ROOT / "tenants", registry)
    created = _platformctl("tenants", "new", "northwind", "--registry", str(registry))
    assert created.returncode == 0, created.stderr
    assert sorted(p.name for p in registry.iterdir()) == ["acme.yaml", "globex.yaml", "initech.yaml", "northwind.yaml"]
    out = tmp_path / "plan.json"
    result = _platformctl("plan", "--registry", str(registry), "-t", "northwind", "-f", "json", "-o", str(out), "--no-cache")
    assert result.returncode == 0, result.stderr
    document = json.loads(out.read_text())
    assert [s["stack"] for s in document["stacks"]] == ["northwind-dev"]
    assert document["summary"]["resources"] > 0
    assert document["summary"]["mandatory"] == 0


def test_cache_dir_holds_the_plan_and_registry_caches_and_a_second_run_reads_them(tmp_path):
    cache = tmp_path / "cache"
    outputs = [tmp_path / "first.json", tmp_path / "second.json"]
    summaries = []
    for out in outputs:
        result = _platformctl("plan", "-t", "initech", "-f", "json", "-o", str(out), "--cache-dir", str(cache))
        assert result.returncode == 0, result.stderr
        summaries.append(sorted(p.name for p in cache.rglob("*.summary.json")))
    assert (cache / "registry.json").is_file()
    # Shared dev stack + initech-dev, planned once; the second run added nothing.
    assert len(summaries[0]) == 2 and summaries[1] == summaries[0]
    assert json.loads(outputs[0].read_text()) == json.loads(outputs[1].read_text())
