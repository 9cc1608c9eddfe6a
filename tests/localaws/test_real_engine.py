"""The real Pulumi engine drives the stand-in: up, drift on refresh, a transient fault, destroy.

Skipped where the CLI is not built (``make engine``). Programs run inline through the Automation
API, so no language host is needed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pytest
from pulumi import automation as auto

from platformctl.localaws.faults import Fault, install_faults
from platformctl.localaws.install import install_plugin
from platformctl.localaws.store import CloudStore
from ubertruck import PROJECT_ROOT
from ubertruck.defaults import load_defaults

TOOLS = PROJECT_ROOT / ".tools"
PULUMI = TOOLS / "bin" / "pulumi"
TABLE = "aws:dynamodb/table:Table"
QUEUE = "aws:sqs/queue:Queue"
ACCOUNT = "111111111111"

pytestmark = pytest.mark.skipif(not PULUMI.is_file(), reason="the pulumi CLI is not built (make engine)")


def _program() -> None:
    identity = aws.get_caller_identity()
    table = aws.dynamodb.Table(
        "acme-dev-bookings",
        name="acme-dev-bookings",
        hash_key="pk",
        attributes=[aws.dynamodb.TableAttributeArgs(name="pk", type="S")],
        billing_mode="PAY_PER_REQUEST",
        tags={"tenant_id": "acme"},
    )
    aws.sqs.Queue("acme-dev-jobs", name="acme-dev-jobs")
    pulumi.export("account", identity.account_id)
    pulumi.export("table_arn", table.arn)


@pytest.fixture
def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[auto.Stack, CloudStore]:
    home, backend, cloud = tmp_path / "home", tmp_path / "state", CloudStore(tmp_path / "cloud")
    backend.mkdir()
    # The Automation API runs `pulumi version` with this process's environment: keep it off ~/.pulumi.
    monkeypatch.setenv("PULUMI_HOME", str(home))
    install_plugin(PULUMI, home, Path(sys.executable))
    options = auto.LocalWorkspaceOptions(
        pulumi_home=str(home),
        pulumi_command=auto.PulumiCommand(root=str(TOOLS), skip_version_check=True),
        project_settings=auto.ProjectSettings(name="ubertruck", runtime="python", backend=auto.ProjectBackend(url=f"file://{backend}")),
        env_vars={
            load_defaults().localaws.store_env_var: str(cloud.root),
            "PULUMI_CONFIG_PASSPHRASE": "local-test",
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        },
    )
    stack = auto.create_stack("acme-dev", project_name="ubertruck", program=_program, opts=options)
    stack.set_all_config({"aws:region": auto.ConfigValue("eu-west-1"), "aws:allowedAccountIds": auto.ConfigValue(f'["{ACCOUNT}"]')})
    return stack, cloud


def test_up_refresh_with_drift_and_destroy(stack: tuple[auto.Stack, CloudStore]):
    engine, cloud = stack
    up = engine.up()
    assert up.summary.resource_changes == {"create": 3}
    assert up.outputs["account"].value == ACCOUNT
    assert up.outputs["table_arn"].value == f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/acme-dev-bookings"
    assert sorted(r.type for r in cloud.list()) == [TABLE, QUEUE]

    [table] = cloud.find(type_=TABLE)
    cloud.edit(table, {"billingMode": "PROVISIONED"})
    cloud.remove(cloud.find(type_=QUEUE)[0])
    refreshed = engine.refresh()
    assert refreshed.summary.resource_changes == {"same": 1, "update": 1, "delete": 1}

    # The queue comes back on the next up, after one throttled attempt the engine reports.
    install_faults(cloud.root, [Fault("create", type=QUEUE, message="slow down", transient=True, times=1)])
    with pytest.raises(auto.CommandError) as failed:
        engine.up()
    assert load_defaults().localaws.transient_error in str(failed.value)
    again = engine.up()
    assert again.summary.resource_changes == {"same": 2, "create": 1}
    assert cloud.find(type_=TABLE)[0].inputs["billingMode"] == "PAY_PER_REQUEST"

    assert engine.destroy().summary.resource_changes == {"delete": 3}
    assert cloud.list() == []
