"""ServiceAudit (append-only JSONL: requests and job transitions, what changed as field paths
only, never a value or a token) and ``platformctl audit`` (filters, --json, the table, the
offboarding log alongside, bad input as one line and exit 2)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from platformctl.apply.audit import AuditLog
from platformctl.service.audit import ServiceAudit, changed_paths
from tests.registry.support import run_cli
from ubertruck.defaults import load_defaults

DEFAULTS = load_defaults()
CHANGE = {"tier": "enterprise", "config": {"services": {"payment": {"business": {"fee_minor": 4242}}}}}


def _lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture()
def state(tmp_path):
    """A state folder with a service trail and an offboarding log."""
    audit = ServiceAudit(tmp_path / DEFAULTS.service.audit_file)
    audit.request(token_id="tok_aaaa", method="POST", path="/tenants", tenant="acme", status=202, change=CHANGE)
    audit.request(token_id=None, method="GET", path="/tenants/acme", tenant="acme", status=401, reason="malformed")
    audit.job(job_id="job_1", tenant="acme", token_id="tok_aaaa", transition="started", outcome="running", detail={"attempt": 1})
    audit.request(token_id="tok_bbbb", method="DELETE", path="/tenants/globex", tenant="globex", status=409, reason="tenant busy")
    AuditLog(tmp_path / DEFAULTS.offboarding.audit_file).record("destroy", "succeeded", tenant="globex", stack="globex-dev")
    return tmp_path


def test_records_are_appended_one_json_object_a_line(tmp_path):
    path = tmp_path / "audit" / "service.jsonl"
    path.parent.mkdir()
    path.write_text('{"earlier": "record"}\n')
    audit = ServiceAudit(path)
    audit.request(token_id="tok_aaaa", method="PATCH", path="/tenants/acme", tenant="acme", status=202, change=CHANGE)
    audit.job(job_id="job_1", tenant="acme", token_id="tok_aaaa", transition="finished", outcome="succeeded", detail={"stacks": ["acme-dev"]})
    first, request, job = _lines(path)
    assert first == {"earlier": "record"}, "appending never rewrites what is there"
    assert {k: request[k] for k in ("action", "outcome", "tenant", "token_id", "method", "path", "status")} == {
        "action": "request", "outcome": "accepted", "tenant": "acme", "token_id": "tok_aaaa", "method": "PATCH", "path": "/tenants/acme", "status": 202,
    }
    assert request["changed"] == ["config.services.payment.business.fee_minor", "tier"]
    assert {k: job[k] for k in ("action", "outcome", "tenant", "token_id", "job_id", "detail")} == {
        "action": "job.finished", "outcome": "succeeded", "tenant": "acme", "token_id": "tok_aaaa", "job_id": "job_1", "detail": {"stacks": ["acme-dev"]},
    }
    assert "time" in request and "time" in job
    assert [e.get("action") for e in audit.entries()] == [None, "request", "job.finished"]


def test_concurrent_writers_leave_whole_lines(tmp_path):
    """The API and several workers append to one trail: every record stays one whole line."""
    path = tmp_path / "service.jsonl"
    writers = [ServiceAudit(path) for _ in range(4)]
    records = 200

    def write(n: int) -> None:
        writers[n % len(writers)].job(job_id=f"job_{n}", tenant="acme", token_id="tok_aaaa", transition="started", outcome="running", detail={"pad": "x" * 512})

    with ThreadPoolExecutor(len(writers)) as pool:
        list(pool.map(write, range(records)))
    assert sorted(entry["job_id"] for entry in _lines(path)) == sorted(f"job_{n}" for n in range(records))


def test_what_changed_is_recorded_as_paths_never_values(tmp_path):
    path = tmp_path / "service.jsonl"
    ServiceAudit(path).request(token_id="tok_aaaa", method="POST", path="/tenants", tenant="acme", status=202, change=CHANGE)
    text = path.read_text()
    assert "4242" not in text and "enterprise" not in text
    assert changed_paths({"a": {}, "b": {"c": None}}) == ["a", "b.c"]


@pytest.mark.parametrize(("status", "outcome"), [(200, "accepted"), (202, "accepted"), (401, "refused"), (409, "refused"), (422, "refused"), (500, "error")])
def test_request_outcome_follows_the_status(tmp_path, status, outcome):
    path = tmp_path / "service.jsonl"
    ServiceAudit(path).request(token_id=None, method="GET", path="/x", tenant=None, status=status)
    (entry,) = _lines(path)
    assert (entry["outcome"], entry["token_id"], entry["tenant"]) == (outcome, None, "")


def _audit_json(state, *args):
    result = run_cli("audit", "--state-dir", str(state), "--json", *args)
    assert result.code == 0, result.stderr
    return json.loads(result.stdout)


def test_audit_reads_both_logs_in_time_order(state):
    entries = _audit_json(state)
    assert len(entries) == 5
    assert [e["log"] for e in entries].count("offboarding") == 1
    assert [e["time"] for e in entries] == sorted(e["time"] for e in entries)


def test_audit_filters(state):
    assert {(e["log"], e["action"]) for e in _audit_json(state, "--tenant", "globex")} == {("service", "request"), ("offboarding", "destroy")}
    assert [e["job_id"] for e in _audit_json(state, "--action", "job")] == ["job_1"]
    assert [e["job_id"] for e in _audit_json(state, "--action", "job.started")] == ["job_1"]
    assert _audit_json(state, "--action", "job.finished") == []
    assert len(_audit_json(state, "--action", "request")) == 3
    assert {e.get("job_id") for e in _audit_json(state, "--token", "tok_aaaa")} == {None, "job_1"}
    assert len(_audit_json(state, "--token", "tok_aaaa")) == 2
    assert _audit_json(state, "--since", "2999-01-01") == []
    assert len(_audit_json(state, "--since", "2000-01-01T00:00:00+00:00")) == 5
    assert len(_audit_json(state, "--tenant", "acme", "--action", "request")) == 2


def test_audit_table_is_readable(state, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    result = run_cli("audit", "--state-dir", str(state))
    assert result.code == 0, result.stderr
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in result.stdout.splitlines() if line.startswith("│")]
    assert len(rows) == 5
    by_detail = {row[5]: row for row in rows}
    assert by_detail["POST /tenants -> 202 changed config.services.payment.business.fee_minor, tier"][1:5] == ["tok_aaaa", "request", "acme", "accepted"]
    assert by_detail["GET /tenants/acme -> 401 (malformed)"][1] == "(no token)"
    assert by_detail["stack globex-dev"][2:5] == ["destroy", "globex", "succeeded"]
    assert "5 record(s)" in result.stderr


def test_audit_with_no_logs_yet_is_empty(tmp_path):
    assert _audit_json(tmp_path) == []


def test_bad_since_is_one_line_and_exit_2(state):
    result = run_cli("audit", "--state-dir", str(state), "--since", "yesterday")
    assert result.code == 2
    assert len(result.stderr.splitlines()) == 1 and "--since" in result.error_lines[0]


@pytest.mark.parametrize("line", ["not json", "42", '["a list"]'])
def test_a_corrupt_log_is_one_line_and_exit_2(state, line):
    with (state / DEFAULTS.service.audit_file).open("a") as handle:
        handle.write(line + "\n")
    result = run_cli("audit", "--state-dir", str(state))
    assert result.code == 2
    assert len(result.stderr.splitlines()) == 1 and "not an audit log" in result.error_lines[0]
