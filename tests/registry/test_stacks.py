"""The stack model: which stack a name means, and clear errors for names that mean none."""

from __future__ import annotations

from pathlib import Path

import pytest

from ubertruck.errors import UserError
from ubertruck.registry import load_registry
from ubertruck.stacks import (
    StackRef,
    TenantStack,
    all_stacks,
    environment_tenant_stacks,
    parse_stack_name,
    read_environment_tenant_stacks,
    resolve_stack,
)

from .support import valid_document, write_yaml

ENVS = ["dev", "prod"]


@pytest.mark.parametrize("env", ENVS)
def test_shared_stack(env):
    ref = parse_stack_name(env, ENVS)
    assert ref == StackRef(name=env, environment=env)
    assert ref.kind == "shared"


@pytest.mark.parametrize(
    ("name", "tenant", "env"),
    [("acme-dev", "acme", "dev"), ("acme-prod", "acme", "prod"), ("north-star-prod", "north-star", "prod"), ("a-b-c-dev", "a-b-c", "dev"), ("42-dev", "42", "dev")],
)
def test_tenant_stack_splits_at_the_last_hyphen(name, tenant, env):
    ref = parse_stack_name(name, ENVS)
    assert (ref.tenant_id, ref.environment, ref.name, ref.kind) == (tenant, env, name, "tenant")


@pytest.mark.parametrize("name", ["acme", "acme-qa", "acme-", "-prod", "", "staging", "acme_prod", "acme-Prod"])
def test_name_of_neither_form_is_a_clear_error(name):
    with pytest.raises(UserError) as caught:
        parse_stack_name(name, ENVS)
    assert caught.value.where == f"stack '{name}'"
    assert "neither a shared stack (dev, prod) nor a tenant stack '<tenant-id>-<env>'" in caught.value.problem


@pytest.mark.parametrize(
    ("name", "expected"),
    [("../x-dev", "DNS label"), ("a/b-prod", "DNS label"), ("Acme-dev", "DNS label"), ("admin-dev", "reserved"), ("a" * 41 + "-dev", "at most")],
)
def test_tenant_part_that_is_not_a_valid_id_is_refused_before_any_file_is_read(name, expected):
    with pytest.raises(UserError) as caught:
        parse_stack_name(name, ENVS)
    assert caught.value.where == f"stack '{name}'"
    assert "is not valid" in caught.value.problem and expected in caught.value.problem


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    folder = tmp_path / "tenants"
    write_yaml(folder / "north-star.yaml", valid_document())
    dev_only = valid_document("trial")
    dev_only["environments"] = ["dev"]
    dev_only["config"]["environments"] = {}
    write_yaml(folder / "trial.yaml", dev_only)
    return folder


def test_resolve_tenant_stack_loads_its_registry_file(registry):
    ref, tenant = resolve_stack("north-star-prod", ENVS, registry)
    assert ref.tenant_id == "north-star" and tenant is not None and tenant.id == "north-star"


def test_resolve_shared_stack_reads_no_tenant(registry):
    assert resolve_stack("dev", ENVS, registry) == (StackRef(name="dev", environment="dev"), None)


def test_resolve_unknown_tenant(registry):
    with pytest.raises(UserError) as caught:
        resolve_stack("nobody-dev", ENVS, registry)
    assert caught.value.where == "stack 'nobody-dev'"
    assert "unknown tenant 'nobody'" in caught.value.problem
    assert str(registry / "nobody.yaml") in caught.value.problem


def test_resolve_env_the_tenant_does_not_run_in(registry):
    with pytest.raises(UserError) as caught:
        resolve_stack("trial-prod", ENVS, registry)
    assert caught.value.where == "stack 'trial-prod'"
    assert "tenant 'trial' does not run in 'prod'" in caught.value.problem
    assert "['dev']" in caught.value.problem


def test_resolve_a_tenant_whose_file_is_bad_names_the_file(registry):
    (registry / "broken.yaml").write_text("id: broken\ntier: [\n", encoding="utf-8")
    with pytest.raises(UserError) as caught:
        resolve_stack("broken-dev", ENVS, registry)
    assert str(caught.value).startswith(f"{registry / 'broken.yaml'}: ")


def test_all_stacks_lists_shared_first_then_every_tenant_environment(registry):
    tenants = load_registry([registry]).tenants
    names = [s.name for s in all_stacks(tenants, ENVS)]
    assert names == ["dev", "prod", "north-star-dev", "north-star-prod", "trial-dev"]


def test_all_stacks_filters(registry):
    tenants = load_registry([registry]).tenants
    assert [s.name for s in all_stacks(tenants, ENVS, only_envs=["prod"])] == ["prod", "north-star-prod"]
    assert [s.name for s in all_stacks(tenants, ENVS, only_tenants=["trial"])] == ["trial-dev"]
    assert [s.name for s in all_stacks(tenants, ENVS, include_shared=False, only_envs=["dev"])] == ["north-star-dev", "trial-dev"]


def test_all_stacks_unknown_filters_are_clear_errors(registry):
    tenants = load_registry([registry]).tenants
    with pytest.raises(UserError, match=r"--env: unknown environment\(s\) \['qa'\]"):
        all_stacks(tenants, ENVS, only_envs=["qa"])
    with pytest.raises(UserError, match=r"--tenant: unknown tenant\(s\) \['nobody'\]"):
        all_stacks(tenants, ENVS, only_tenants=["nobody"])


def test_environment_tenant_stacks_are_each_tenant_of_that_environment_with_its_region(registry):
    tenants = load_registry([registry]).tenants
    region = tenants["north-star"].region
    assert environment_tenant_stacks(tenants, "dev", ENVS) == [TenantStack("north-star-dev", region), TenantStack("trial-dev", tenants["trial"].region)]
    assert environment_tenant_stacks(tenants, "prod", ENVS) == [TenantStack("north-star-prod", region)]
    # What the program hands SharedPlatform: the same, read from the folder.
    assert read_environment_tenant_stacks("dev", ENVS, registry) == environment_tenant_stacks(tenants, "dev", ENVS)


def test_read_environment_tenant_stacks_refuses_a_bad_registry_file(registry):
    (registry / "broken.yaml").write_text("id: broken\ntier: [\n", encoding="utf-8")
    with pytest.raises(UserError):
        read_environment_tenant_stacks("dev", ENVS, registry)
