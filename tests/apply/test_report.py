"""run_rollout end to end with a scripted StackOperations: JSON report, summary, progress, dry run, exit code."""

from __future__ import annotations

import io
import json

from rich.console import Console

from platformctl.apply.operations import Failure
from platformctl.apply.options import FailureThreshold
from platformctl.apply.report import SCHEMA_VERSION, exit_code
from platformctl.apply.rollout import plan_rollout, render_plan, run_rollout

from .support import SCRIPTED_CHANGES, FakeClock, RecordingSleep, ScriptedStackOperations, options, registry, stacks_of

#: What a fake clock reading advances by.
CLOCK_STEP = 0.5
#: Wide enough that no line of the output wraps.
CONSOLE_WIDTH = 200

REPORT_KEYS = {
    "schema_version", "operation", "started_at", "duration_seconds", "stopped_by_threshold", "threshold_wave",
    "interrupted", "log_dir", "settings", "totals", "waves",
}
WAVE_KEYS = {"index", "label", "environment", "kind", "tier", "concurrency", "failure_limit", "failed", "tripped", "stacks"}
STACK_KEYS = {
    "stack", "kind", "tenant", "environment", "result", "attempts", "changes", "changed", "duration_seconds",
    "failure", "skip_reason", "message", "log", "resources",
}


def _console(terminal: bool = False) -> Console:
    return Console(file=io.StringIO(), width=CONSOLE_WIDTH, force_terminal=terminal, color_system=None)


def _rollout(tmp_path, script, threshold=None, terminal=False, operation="up", concurrency=2):
    tenants = registry({"acme": "enterprise", "globex": "standard", "initech": "basic", "hooli": "basic"}, canaries=["globex"])
    console = _console(terminal)
    opts = options(tmp_path, concurrency=concurrency, threshold=threshold or FailureThreshold(count=1))
    report = run_rollout(
        operation, stacks_of(tenants), tenants, ScriptedStackOperations(script=script), opts, console,
        clock=FakeClock(CLOCK_STEP), sleep=RecordingSleep(),
    )
    return report, console.file.getvalue(), opts


def test_the_json_report_has_the_documented_shape(tmp_path):
    # One at a time, so which stacks ran before the threshold tripped is certain.
    report, _, opts = _rollout(tmp_path, {"globex-dev": [Failure.TRANSIENT, None], "initech-dev": [Failure.POLICY]}, concurrency=1)
    data = json.loads(opts.report_path.read_text())
    assert set(data) == REPORT_KEYS
    assert data["schema_version"] == SCHEMA_VERSION and data["operation"] == "up"
    assert data["stopped_by_threshold"] is True and data["threshold_wave"] == 2 and data["interrupted"] is False
    assert data["totals"] == {"stacks": 10, "succeeded": 3, "failed": 1, "skipped": 6}
    assert [w["label"] for w in data["waves"]][:3] == ["dev shared", "dev canary", "dev tier basic"]
    for wave in data["waves"]:
        assert set(wave) == WAVE_KEYS
        for stack in wave["stacks"]:
            assert set(stack) == STACK_KEYS
    stacks = {s["stack"]: s for w in data["waves"] for s in w["stacks"]}
    assert sorted(stacks) == sorted(r.stack_name for r in report.records)
    assert stacks["globex-dev"] | {"duration_seconds": None} == {
        "stack": "globex-dev", "kind": "tenant", "tenant": "globex", "environment": "dev", "result": "succeeded", "attempts": 2,
        "changes": SCRIPTED_CHANGES, "changed": 3, "duration_seconds": None, "failure": None, "skip_reason": None,
        "message": "", "log": str(tmp_path / "globex-dev.log"), "resources": [],
    }
    assert stacks["hooli-dev"]["result"] == "succeeded"
    assert (stacks["initech-dev"]["result"], stacks["initech-dev"]["failure"]) == ("failed", "policy")
    assert (stacks["acme-prod"]["result"], stacks["acme-prod"]["skip_reason"], stacks["acme-prod"]["attempts"]) == ("skipped", "threshold", 0)
    assert stacks["acme-prod"]["log"] is None
    assert data["waves"][2]["tripped"] is True and data["waves"][2]["failed"] == 1


def test_the_summary_table_lists_every_stack_with_result_changes_and_duration(tmp_path):
    report, output, _ = _rollout(tmp_path, {"initech-dev": [Failure.PROGRAM]})
    table = output[output.index("stack "):]
    for record in report.records:
        assert record.stack_name in table
    assert "failed (program)" in output and "skipped (threshold)" in output and "+2 ~1" in output
    assert "stopped: wave 2 (dev tier basic) reached its failure limit of 1" in output
    assert f"initech-dev: program: scripted program failure (log: {tmp_path / 'initech-dev.log'})" in output


def test_progress_is_plain_lines_when_the_console_is_not_a_terminal(tmp_path):
    _, output, _ = _rollout(tmp_path, {"hooli-dev": [Failure.CONCURRENT, None]})
    assert "\x1b[" not in output
    assert "wave 0 (dev shared): 1 stack(s), 1 at a time" in output
    assert "hooli-dev: attempt 1 failed (concurrent); retrying in 2.0s" in output
    assert "hooli-dev: started (attempt 2)" in output


def test_progress_is_a_live_display_on_a_terminal(tmp_path):
    report, output, _ = _rollout(tmp_path, {}, terminal=True)
    assert exit_code(report) == 0
    assert "\x1b[" in output  # cursor movement of the live display
    assert "wave 1/8 dev shared" in output and "acme-prod: succeeded" in output


def test_exit_code_is_zero_only_when_every_stack_succeeded(tmp_path):
    ok, _, _ = _rollout(tmp_path / "ok", {})
    below, _, _ = _rollout(tmp_path / "below", {"hooli-dev": [Failure.POLICY]}, threshold=FailureThreshold(count=2))
    tripped, _, _ = _rollout(tmp_path / "tripped", {"hooli-dev": [Failure.POLICY]})
    assert (exit_code(ok), exit_code(below), exit_code(tripped)) == (0, 1, 1)
    assert below.totals()["skipped"] == 0 and tripped.totals()["skipped"] > 0


def test_dry_run_lists_the_waves_their_caps_and_stacks_without_running_anything(tmp_path):
    tenants = registry({"acme": "enterprise", "globex": "standard", "initech": "basic"}, canaries=["globex"])
    opts = options(tmp_path / "logs", concurrency=3, threshold=FailureThreshold(fraction=0.5))
    text = render_plan(plan_rollout("destroy", stacks_of(tenants), tenants, opts))
    lines = text.splitlines()
    assert lines[0].startswith("destroy: 8 stack(s) in 8 wave(s); at most 3 at a time per wave")
    assert "50% of a wave's stacks" in lines[0]
    wave_lines = [line for line in lines if line.startswith("wave ")]
    assert wave_lines[0] == "wave 0  dev canary: 1 stack(s), 1 at a time, stops at 1 failure(s)"
    assert wave_lines[3] == "wave 3  dev shared: 1 stack(s), 1 at a time, stops at 1 failure(s)"
    assert lines[lines.index(wave_lines[0]) + 1] == "  globex-dev"
    assert not (tmp_path / "logs").exists()
