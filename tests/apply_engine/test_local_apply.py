"""``platformctl up|preview|drift|offboard|destroy --local`` through the real engine, in order.

One shared dev stack and two tenant stacks are applied once (module fixture), then previewed,
edited, drifted, offboarded and destroyed. The tests share that state, so they run in one xdist
group, in file order.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import pytest
import yaml

from platformctl.apply.automation import AutomationStackOperations
from platformctl.apply.operations import Failure
from platformctl.apply.prepare import write_pack_configs
from platformctl.apply.target import resolve_target
from platformctl.localaws.faults import Fault, clear_faults, install_faults
from platformctl.localaws.install import install_plugin
from ubertruck import PROJECT_ROOT
from ubertruck.defaults import load_defaults
from ubertruck.registry import load_registry
from ubertruck.stacks import StackRef

from .conftest import LocalPlatform, stacks_of

pytestmark = pytest.mark.xdist_group("local-engine")

SHARED, FIRST, SECOND = "dev", "globex-dev", "initech-dev"
#: A tenant stack of the registry the fixture never applies.
NEVER_DEPLOYED = "acme-dev"


@pytest.fixture(scope="session")
def applied(platform: LocalPlatform) -> LocalPlatform:
    result = platform.run("up", "--stack", SHARED, "--stack", FIRST, "--stack", SECOND)
    assert result.returncode == 0, result.stdout + result.stderr
    return platform


def _tenant_alarm_actions(platform: LocalPlatform, stack: str) -> set[str]:
    actions: set[str] = set()
    for record in platform.cloud.find(urn_contains=f"urn:pulumi:{stack}::", type_="aws:cloudwatch/metricAlarm:MetricAlarm"):
        actions.update(record.inputs.get("alarmActions") or [])
    return actions


@contextmanager
def registry_edit(platform: LocalPlatform, tenant: str, change: Callable[[dict], None]) -> Iterator[None]:
    """The tenant's registry file changed by ``change`` for the duration of the block."""
    path = platform.registry / f"{tenant}.yaml"
    original = path.read_text()
    document = yaml.safe_load(original)
    change(document)
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    try:
        yield
    finally:
        path.write_text(original)


def booking_memory(mb: int) -> Callable[[dict], None]:
    def change(document: dict) -> None:
        document["config"].setdefault("environments", {})["dev"] = {
            "services": {"booking": {"technical": {"scaling_policies": {"memory_mb": mb, "reserved_concurrency": 50}}}}
        }

    return change


def expired_exemption(document: dict) -> None:
    document.setdefault("policy", {})["exemptions"] = [
        {"policy": "tenant-tag", "reason": "migration of legacy tags, agreed with security", "expires": dt.date(2020, 1, 1)}
    ]


def test_up_applies_the_shared_stack_and_two_tenant_stacks(applied: LocalPlatform) -> None:
    stacks = stacks_of(applied.last_report("up"))
    assert {name: s["result"] for name, s in stacks.items()} == {SHARED: "succeeded", FIRST: "succeeded", SECOND: "succeeded"}
    for name in stacks:
        assert stacks[name]["changes"].get("create", 0) > 0
    # Tenant stacks have no stack file of their own, in the project or anywhere the user sees.
    assert not list(PROJECT_ROOT.glob(f"Pulumi.{FIRST}.yaml")) and not list(PROJECT_ROOT.glob(f"Pulumi.{SECOND}.yaml"))


def test_tenant_alarms_use_the_shared_topic_read_through_the_stack_reference(applied: LocalPlatform) -> None:
    shared_topics = {r.outputs["arn"] for r in applied.cloud.find(urn_contains="urn:pulumi:dev::", type_="aws:sns/topic:Topic")}
    for stack in (FIRST, SECOND):
        actions = _tenant_alarm_actions(applied, stack)
        assert actions, f"{stack} has no alarm actions"
        assert actions <= shared_topics, f"{stack} alarms notify topics the shared stack does not own"


def test_a_second_preview_shows_no_changes(applied: LocalPlatform) -> None:
    result = applied.run("preview", "--stack", FIRST, "--stack", SECOND)
    assert result.returncode == 0, result.stdout + result.stderr
    for stack in stacks_of(applied.last_report("preview")).values():
        assert set(stack["changes"]) == {"same"}, stack
        assert stack["resources"] == []


#: A mandatory finding in the engine's log: the rule, then the message on the next line.
_MANDATORY = re.compile(r"\[mandatory\] \[severity: \w+\]\s+(\S+)\s+\(.*\n(.*)")
_UNKNOWN = re.compile(r"^property '([^']+)' is unknown until the deployment runs")

#: What no program can know before the first deployment, even from the stand-in (whose create
#: preview leaves only resource ids unknown): ids API Gateway and Cognito invent at creation. Each
#: rule reads one: a method's authorizerId (the authorizer's id), the authorizer's invoke
#: permission (``…/authorizers/<id>``), and the plain-String integration/resources of auth and
#: notification (the user pool's and app client's ids).
AWS_GENERATED = {
    ("apigw-method-authorizer", "authorizerId"),
    ("lambda-permission-source-arn", "sourceArn"),
    ("ssm-no-plaintext-secrets", "value"),
}


def test_a_first_preview_of_a_never_deployed_shared_stack_passes_both_packs(platform: LocalPlatform) -> None:
    # The prod shared stack is never applied here. What the packs read and the program can
    # derive (the artifact bucket's name and ARN, each role's name) is known before anything
    # exists. (Unlike AWS, the stand-in's create preview also fabricates what AWS computes when
    # every input is known, such as the platform key's ARN; the real provider leaves it unknown.)
    result = platform.run("preview", "--stack", "prod")
    assert result.returncode == 0, result.stdout + result.stderr
    stack = stacks_of(platform.last_report("preview"))["prod"]
    assert set(stack["changes"]) == {"create"} and stack["changes"]["create"] == len(stack["resources"])
    assert "[mandatory]" not in Path(stack["log"]).read_text()


def test_a_first_preview_with_both_packs_fails_only_on_ids_aws_generates(applied: LocalPlatform) -> None:
    result = applied.run("preview", "--stack", NEVER_DEPLOYED)
    stack = stacks_of(applied.last_report("preview"))[NEVER_DEPLOYED]
    assert {r["op"] for r in stack["resources"]} == {"create"}, stack["resources"]
    assert {r["type"] for r in stack["resources"]} >= {"aws:lambda/function:Function", "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy"}
    findings = _MANDATORY.findall(Path(stack["log"]).read_text())
    unknowns = [(rule, _UNKNOWN.match(message)) for rule, message in findings]
    # Every finding is an unknown value (no real violation), and only of an AWS-generated id:
    # each function's role and each role policy's role (config-read-own-namespace), the event
    # source mapping's function (tenant-name-prefix) are known.
    assert all(match for _, match in unknowns), findings
    assert {(rule, match.group(1)) for rule, match in unknowns if match} == AWS_GENERATED
    assert (result.returncode, stack["failure"]) == (1, "policy")


def test_a_registry_edit_previews_exactly_the_expected_diff(applied: LocalPlatform) -> None:
    with registry_edit(applied, "globex", booking_memory(768)):
        result = applied.run("preview", "--stack", FIRST)
    assert result.returncode == 0, result.stdout + result.stderr
    stack = stacks_of(applied.last_report("preview"))[FIRST]
    changed = {(r["op"], r["type"], r["urn"].rsplit("::", 1)[-1], tuple(r["properties"])) for r in stack["resources"]}
    assert changed == {
        # The memory setting itself, and the fallback.json inside the code that carries the merged config.
        ("update", "aws:lambda/function:Function", "globex-dev-booking-api", ("code", "memorySize")),
        # The configuration service's copy of the booking service's scaling policies.
        ("update", "aws:ssm/parameter:Parameter", "globex-dev-config-services-booking-dev-technical-scaling_policies", ("value",)),
    }


def test_the_gate_refuses_a_mandatory_violation_before_the_engine_starts(applied: LocalPlatform) -> None:
    with registry_edit(applied, "initech", expired_exemption):
        result = applied.run("up", "--stack", SECOND)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "exemptions-current" in result.stderr and "the engine was not started" in result.stderr


def test_the_engine_itself_rejects_a_mandatory_violation_through_the_packs(applied: LocalPlatform) -> None:
    with registry_edit(applied, "initech", expired_exemption):
        defaults = load_defaults()
        target = resolve_target(defaults, local=True, state=applied.state, registry_dir=applied.registry)
        loaded = load_registry([applied.registry])
        stack = StackRef(name=SECOND, environment="dev", tenant_id="initech")
        packs = write_pack_configs([stack], loaded.tenants, applied.registry, applied.state / "policy-config-violation")
        install_plugin(Path(target.pulumi), Path(target.pulumi_home), Path(sys.executable))
        lines: list[str] = []
        # No offline gate here: the engine's own preview runs the packs and must refuse.
        outcome = AutomationStackOperations(target, defaults, packs).run("preview", stack, lines.append)
    assert not outcome.succeeded and outcome.failure is Failure.POLICY
    text = "\n".join(lines)
    assert "[mandatory]" in text and "exemptions-current" in text


def test_drift_reports_what_changed_behind_the_engine(applied: LocalPlatform) -> None:
    (topic,) = applied.cloud.find(urn_contains=f"urn:pulumi:{FIRST}::", type_="aws:sns/topic:Topic")[:1]
    applied.cloud.edit(topic, {"tags": {"edited": "by hand"}})
    try:
        result = applied.run("drift", "--stack", FIRST, "--stack", SECOND)
    finally:
        # Put the cloud back as it was for the tests that follow (a drift check changes no state).
        applied.cloud.put(topic)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{FIRST}: drifted (1 resource(s))" in result.stdout
    assert f"update aws:sns/topic:Topic {topic.urn.rsplit('::', 1)[-1]} [tags]" in result.stdout
    assert f"{SECOND}: drifted" not in result.stdout
    assert applied.run("drift", "--stack", FIRST).returncode == 0, "with the cloud put back, nothing drifts"


def test_a_failing_stack_trips_the_threshold_and_later_waves_never_start(applied: LocalPlatform) -> None:
    store = applied.cloud.root
    # initech-dev (tier basic) runs in the wave before globex-dev (standard): make its update fail.
    install_faults(store, [Fault(operation="update", urn_contains=f"urn:pulumi:{SECOND}::", message="injected: the API refused")])
    try:
        with registry_edit(applied, "initech", booking_memory(768)):
            result = applied.run("up", "--stack", SECOND, "--stack", FIRST, "--failure-threshold", "1", "--concurrency", "1")
    finally:
        clear_faults(store)
    assert result.returncode == 1, result.stdout + result.stderr
    report = applied.last_report("up")
    stacks = stacks_of(report)
    assert stacks[SECOND]["result"] == "failed" and stacks[SECOND]["attempts"] == 1
    assert (stacks[FIRST]["result"], stacks[FIRST]["skip_reason"]) == ("skipped", "threshold")
    assert report["stopped_by_threshold"] is True


def test_offboarding_keeps_tables_and_key_and_removes_the_registry_file_last(applied: LocalPlatform) -> None:
    result = applied.run("offboard", "globex", "--yes")
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (applied.registry / "globex.yaml").exists()
    left = sorted(r.type for r in applied.cloud.list() if f"urn:pulumi:{FIRST}::" in r.urn)
    assert left and set(left) == {"aws:dynamodb/table:Table", "aws:kms/key:Key"}
    record = json.loads((applied.state / "retention" / "globex.json").read_text())
    assert sorted(r["type"] for r in record["resources"]) == left
    assert record["retain_until"] == (dt.date.today() + dt.timedelta(days=record["data_retention_days"])).isoformat()
    audit = [json.loads(line) for line in (applied.state / "audit" / "offboarding.jsonl").read_text().splitlines()]
    assert [entry["action"] for entry in audit][-1] == "offboard.registry"
    assert all(entry["tenant"] == "globex" and entry["operator"] for entry in audit)


def test_destroy_removes_every_resource(applied: LocalPlatform) -> None:
    result = applied.run("destroy", "--stack", SECOND, "--stack", SHARED)
    assert result.returncode == 0, result.stdout + result.stderr
    order = [s["stack"] for w in applied.last_report("destroy")["waves"] for s in w["stacks"]]
    assert order == [SECOND, SHARED], "tenants go before their shared stack"
    for stack in (SECOND, SHARED):
        assert not [r for r in applied.cloud.list() if f"urn:pulumi:{stack}::" in r.urn]
