"""Engine target resolution, stack selection, the per-backend workspace and failure classification."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from platformctl.apply import target as target_module
from platformctl.apply.operations import Failure
from platformctl.apply.prepare import Selection, select_stacks
from platformctl.apply.stack_run import classify, deployed_resources, prepare_workspace, resource_change, retained_resources
from platformctl.apply.target import PASSPHRASE_FILE_VAR, materialise, resolve_target
from ubertruck import PROJECT_ROOT
from ubertruck.defaults import load_defaults
from ubertruck.errors import UserError
from ubertruck.registry import load_registry
from ubertruck.stacks import StackRef

DEFAULTS = load_defaults()
BACKEND_VAR = DEFAULTS.engine.backend_env_var
PASSPHRASE_VAR = DEFAULTS.engine.passphrase_env_var


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake `pulumi` in a tools folder of its own; no ambient backend or passphrase."""
    tools = tmp_path / "tools"
    tools.mkdir()
    binary = tools / "pulumi"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    monkeypatch.setenv(DEFAULTS.engine.tools_env_var, str(tools))
    for name in (BACKEND_VAR, PASSPHRASE_VAR, PASSPHRASE_FILE_VAR):
        monkeypatch.delenv(name, raising=False)
    return binary


def test_the_built_engine_is_found_in_the_tools_folder(engine: Path) -> None:
    assert target_module.find_engine(DEFAULTS) == engine


def test_no_engine_is_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DEFAULTS.engine.tools_env_var, str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(UserError, match="make engine"):
        target_module.find_engine(DEFAULTS)


def test_local_isolates_home_and_backend_and_makes_its_own_passphrase(engine: Path, tmp_path: Path) -> None:
    state = tmp_path / "state"
    target = resolve_target(DEFAULTS, local=True, state=state)
    assert not state.exists(), "resolving writes nothing"
    assert target.pulumi_home == str(state / "local" / "home") and target.env["PULUMI_HOME"] == target.pulumi_home
    assert target.backend_url == f"file://{state / 'local' / 'backend'}"
    assert target.env.get("PULUMI_SKIP_CHECKPOINTS") == ("true" if DEFAULTS.engine.local_skip_checkpoints else None)
    materialise(target)
    passphrase = Path(target.env[PASSPHRASE_FILE_VAR])
    assert passphrase.is_file() and oct(passphrase.stat().st_mode & 0o777) == "0o600"
    before = passphrase.read_text()
    materialise(target)
    assert passphrase.read_text() == before, "a second run keeps the first passphrase"


def test_backend_comes_from_the_option_then_the_variable_then_the_state_folder(engine: Path, tmp_path: Path,
                                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSPHRASE_VAR, "test-only")
    state = tmp_path / "state"
    assert resolve_target(DEFAULTS, state=state).backend_url == f"file://{state / 'backend'}"
    monkeypatch.setenv(BACKEND_VAR, "s3://from-the-environment")
    assert resolve_target(DEFAULTS, state=state).backend_url == "s3://from-the-environment"
    chosen = resolve_target(DEFAULTS, state=state, backend="s3://from-the-option")
    assert chosen.backend_url == "s3://from-the-option" and chosen.env[BACKEND_VAR] == "s3://from-the-option"
    assert chosen.pulumi_home == "" and "PULUMI_HOME" not in chosen.env, "the user's own home unless --local"
    assert "PULUMI_SKIP_CHECKPOINTS" not in chosen.env, "real backends checkpoint every step"
    assert resolve_target(DEFAULTS, state=state, backend="s3://a").workspace_dir != resolve_target(DEFAULTS, state=state, backend="s3://b").workspace_dir


def test_a_passphrase_backend_without_a_passphrase_is_refused_but_kms_needs_none(engine: Path, tmp_path: Path) -> None:
    with pytest.raises(UserError, match=PASSPHRASE_VAR):
        resolve_target(DEFAULTS, state=tmp_path, backend="s3://bucket")
    kms = resolve_target(DEFAULTS, state=tmp_path, backend="s3://bucket", secrets_provider="awskms://alias/ubertruck")
    assert kms.secrets_provider == "awskms://alias/ubertruck"
    with pytest.raises(UserError, match="--local"):
        resolve_target(DEFAULTS, state=tmp_path, local=True, backend="s3://bucket")


def test_selection_by_stack_tenant_env_and_all() -> None:
    tenants = load_registry([PROJECT_ROOT / "tenants"]).tenants
    names = lambda selection: [s.name for s in select_stacks(selection, tenants, DEFAULTS)]  # noqa: E731
    assert names(Selection(stacks=("acme-dev", "dev"))) == ["dev", "acme-dev"]
    assert names(Selection(tenants=("acme",))) == ["acme-dev", "acme-prod"]
    assert names(Selection(environments=("prod",))) == ["prod", "acme-prod", "globex-prod"]
    assert len(names(Selection(every=True))) == 7
    with pytest.raises(UserError, match="--stack S"):
        select_stacks(Selection(), tenants, DEFAULTS)
    with pytest.raises(UserError, match="unknown tenant 'nobody'"):
        select_stacks(Selection(stacks=("nobody-dev",)), tenants, DEFAULTS)
    with pytest.raises(UserError, match="does not run in 'prod'"):
        select_stacks(Selection(stacks=("initech-prod",)), tenants, DEFAULTS)


def test_the_workspace_copies_shared_config_gives_tenants_only_engine_settings_and_keeps_the_salt(engine: Path, tmp_path: Path,
                                                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    target = resolve_target(DEFAULTS, local=True, state=tmp_path, registry_dir=tmp_path / "registry")
    project = yaml.safe_load((PROJECT_ROOT / "Pulumi.dev.yaml").read_text())["config"]
    folder = prepare_workspace(target, StackRef(name="dev", environment="dev"))
    assert (folder / "Pulumi.yaml").read_text() == (PROJECT_ROOT / "Pulumi.yaml").read_text()
    shared = yaml.safe_load((folder / "Pulumi.dev.yaml").read_text())["config"]
    registry_key = f"{DEFAULTS.platform.project}:registryDir"
    assert shared == {**project, registry_key: str((tmp_path / "registry").resolve())}
    tenant_file = folder / "Pulumi.acme-dev.yaml"
    tenant_file.write_text(yaml.safe_dump({"encryptionsalt": "v1:engine-owned"}))
    prepare_workspace(target, StackRef(name="acme-dev", environment="dev", tenant_id="acme"))
    tenant = yaml.safe_load(tenant_file.read_text())
    assert tenant["encryptionsalt"] == "v1:engine-owned", "the engine's own keys survive"
    assert set(tenant["config"]) == {k for k in project if k.startswith("pulumi:")} | {registry_key}
    assert not list(PROJECT_ROOT.glob("Pulumi.acme-dev.yaml"))


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Policy Violations:\n    - [mandatory]  tenant-tag  (aws:s3/bucket:Bucket: b)", Failure.POLICY),
        ("error: [409] Conflict: Another update is currently in progress.", Failure.CONCURRENT),
        ("error: RequestLimitExceeded: Rate exceeded: slow down", Failure.TRANSIENT),
        ("error: an unhandled error occurred: python inline source runtime error: boom", Failure.PROGRAM),
        ("error: something else entirely", Failure.ENGINE),
    ],
)
def test_failures_are_classified_from_the_engines_words(text: str, kind: Failure) -> None:
    assert classify(text, DEFAULTS) is kind


def _event(op: str, urn: str = "urn:pulumi:s::p::aws:sns/topic:Topic::t", diffs=None, detailed=None, outputs: bool = False):
    metadata = SimpleNamespace(op=SimpleNamespace(value=op), urn=urn, type="aws:sns/topic:Topic", diffs=diffs, detailed_diff=detailed)
    step = SimpleNamespace(metadata=metadata)
    return SimpleNamespace(res_outputs_event=step if outputs else None, resource_pre_event=None if outputs else step)


def test_resource_changes_carry_names_only_and_skip_unchanged_steps() -> None:
    assert resource_change(_event("same"), refresh=False) is None
    assert resource_change(_event("update", diffs=["tags"]), refresh=True) is None, "a refresh reads outputs events"
    change = resource_change(_event("update", diffs=["tags"], detailed={"policy.Statement[0]": {}}), refresh=False)
    assert change == {"urn": "urn:pulumi:s::p::aws:sns/topic:Topic::t", "type": "aws:sns/topic:Topic", "op": "update",
                      "properties": ["policy", "tags"]}
    assert resource_change(_event("delete", outputs=True), refresh=True)["op"] == "delete"


def test_deployed_and_retained_resources_from_an_export() -> None:
    deployment = {"resources": [
        {"urn": "u1", "type": "pulumi:pulumi:Stack"},
        {"urn": "u2", "type": "pulumi:providers:aws"},
        {"urn": "u3", "type": "aws:dynamodb/table:Table", "id": "t", "retainOnDelete": True},
        {"urn": "u4", "type": "aws:sqs/queue:Queue", "id": "q"},
    ]}
    assert [r["urn"] for r in deployed_resources(deployment)] == ["u3", "u4"]
    assert retained_resources(deployment) == [{"urn": "u3", "type": "aws:dynamodb/table:Table", "op": "retain", "properties": [], "id": "t"}]
    assert deployed_resources({}) == [] and retained_resources({}) == []


def test_engine_environment_never_points_at_the_users_home(engine: Path, tmp_path: Path) -> None:
    target = resolve_target(DEFAULTS, local=True, state=tmp_path)
    assert not target.env["PULUMI_HOME"].startswith(os.path.expanduser("~/.pulumi"))


def test_a_failure_is_summed_up_by_its_first_specific_error_line() -> None:
    from platformctl.apply.stack_run import _summary_line

    output = "\n".join([
        " +  aws:sns/topic:Topic t creating",
        "    error: cognito: AlreadyExists: admin already exists in account 111111111111",
        "    error: Resource monitor has terminated, shutting down",
        "    error: update failed",
    ])
    assert _summary_line(output, DEFAULTS) == "error: cognito: AlreadyExists: admin already exists in account 111111111111"
    assert _summary_line("error: update failed", DEFAULTS) == "error: update failed"
    assert _summary_line("", DEFAULTS) == "the engine failed without a message"
