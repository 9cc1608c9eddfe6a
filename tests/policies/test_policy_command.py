"""``platformctl policy list|config`` through the CLI's entry point, and ``platformctl plan``'s
exit status for a registry with an expired exemption."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest
from google.protobuf import json_format

from platformctl import cli
from platformctl.commands.policy import register
from platformctl.policy.config import LEVELS
from platformctl.policy.runner import PolicySession
from policies.rules import ALL_RULES, PACK_NAMES, PACKS
from tests.registry.support import run_cli
from ubertruck import PROJECT_ROOT

from .conftest import evaluate
from .stacks import STACK, compliant_run

Run = Callable[..., tuple[int, str, str]]
EXPIRED = "    - {policy: kms-rotation, reason: Rotation waived until the HSM migration lands, expires: 2020-01-31, resource: acme-*-key}\n"


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch) -> Run:
    """``platformctl`` in this process with the policy group registered (cli.py wires it in
    through ``register``); returns (exit code, stdout, stderr)."""
    monkeypatch.setattr(cli, "_register", lambda: register(cli.app))

    def invoke(*args: str) -> tuple[int, str, str]:
        result = run_cli(*args)
        return result.code, result.stdout, result.stderr

    return invoke


@pytest.fixture
def expired_registry(tmp_path: Path) -> Path:
    """A copy of the shipped registry where acme carries an exemption that expired in 2020."""
    registry = tmp_path / "tenants"
    shutil.copytree(PROJECT_ROOT / "tenants", registry)
    with (registry / "acme.yaml").open("a") as acme:
        acme.write("policy:\n  exemptions:\n" + EXPIRED)
    return registry


def _configure(record: list[Any]) -> Callable[[Any], Any]:
    """A Configure that records its request and still configures the pack."""

    def wrap(stub_call: Callable[[Any], Any]) -> Callable[[Any], Any]:
        def call(request: Any) -> Any:
            record.append(request)
            return stub_call(request)

        return call

    return wrap


def _as_file(request: Any) -> dict[str, dict[str, Any]]:
    """A ConfigureAnalyzerRequest in the --policy-pack-config file's shape."""
    return {
        name: {"enforcementLevel": LEVELS[entry.enforcementLevel], **json_format.MessageToDict(entry.properties)}
        for name, entry in request.policyConfig.items()
    }


def test_list_prints_every_rule_with_its_metadata(run: Run) -> None:
    code, out, _ = run("policy", "list", "--format", "json")
    assert code == 0
    rows = json.loads(out)
    assert [r["name"] for r in rows] == [r.name for r in (*PACKS["security"], *PACKS["platform"])]
    by_name = {r["name"]: r for r in rows}
    for spec in ALL_RULES:
        row = by_name[spec.name]
        assert (row["severity"], row["enforcement"], row["description"]) == (spec.severity, spec.enforcement, spec.description)
        assert row["type"] == ("stack" if spec.is_stack_rule else "resource")
    assert by_name["exemptions-current"]["pack"] == PACK_NAMES["platform"]


def test_list_table_names_every_rule(run: Run) -> None:
    code, out, _ = run("policy", "list")
    assert code == 0
    assert all(spec.name in out for spec in ALL_RULES)
    assert f"{len(ALL_RULES)} rules in 2 packs" in out


def test_config_for_acme_prod_is_what_the_offline_driver_sends(run: Run, session: PolicySession, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = run("policy", "config", STACK, "--output", str(tmp_path))
    assert code == 0, err
    sent: dict[str, list[Any]] = {}
    for pack in session.packs:
        monkeypatch.setattr(pack.stub, "Configure", _configure(sent.setdefault(pack.info.name, []))(pack.stub.Configure))
    evaluate(session, compliant_run())
    for pack in session.packs:
        written = json.loads((tmp_path / f"{pack.pack_dir.name}.json").read_text())
        [request] = sent[pack.info.name]
        assert written == _as_file(request)
        assert set(written) == {p.name for p in pack.info.policies}
    platform = json.loads((tmp_path / "platform.json").read_text())
    assert platform["allowed-regions"]["allowed_regions"] == ["ap-south-1"]
    assert platform["log-retention-meets-data-retention"]["data_retention_days"] == 400


def test_config_prints_the_pulumi_preview_line_pairing_each_pack_with_its_file(run: Run, tmp_path: Path,
                                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(PROJECT_ROOT)
    code, out, _ = run("policy", "config", STACK, "--output", str(tmp_path))
    assert code == 0
    argv = shlex.split(out.strip())
    assert argv[:4] == ["pulumi", "preview", "--stack", STACK]
    pairs = [(argv[i + 1], argv[i + 3]) for i, arg in enumerate(argv) if arg == "--policy-pack"]
    assert pairs == [("policies/security", str(tmp_path / "security.json")), ("policies/platform", str(tmp_path / "platform.json"))]
    assert all(argv[i + 2] == "--policy-pack-config" for i, arg in enumerate(argv) if arg == "--policy-pack")


def test_config_carries_the_registry_exemptions_to_pulumi_preview(run: Run, expired_registry: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "config"
    code, _, err = run("policy", "config", STACK, "--registry", str(expired_registry), "--output", str(out_dir))
    assert code == 0, err
    platform = json.loads((out_dir / "platform.json").read_text())
    [entry] = platform["exemptions-current"]["exemptions_in_force"]
    assert (entry["policy"], entry["resource"], entry["expires"]) == ("kms-rotation", "acme-*-key", "2020-01-31")
    assert entry["source"] == str((expired_registry / "acme.yaml").resolve())
    security = json.loads((out_dir / "security.json").read_text())
    assert [e["resource"] for e in security["kms-rotation"]["exemptions"]] == ["acme-*-key"]


@pytest.mark.parametrize(("args", "fragment"), [
    (("nobody-prod",), "unknown tenant 'nobody'"),
    (("acme-staging",), "acme-staging"),
])
def test_config_of_a_bad_stack_exits_2_with_one_line(run: Run, tmp_path: Path, args: tuple[str, ...], fragment: str) -> None:
    code, out, err = run("policy", "config", *args, "--output", str(tmp_path))
    assert code == 2 and out == ""
    [line] = err.strip().splitlines()
    assert line.startswith("error: ") and fragment in line
    assert list(tmp_path.iterdir()) == []


def test_config_with_a_broken_registry_exits_2(run: Run, tmp_path: Path) -> None:
    registry = tmp_path / "tenants"
    registry.mkdir()
    (registry / "broken.yaml").write_text("id: [unclosed\n")
    code, _, err = run("policy", "config", STACK, "--registry", str(registry), "--output", str(tmp_path / "out"))
    assert code == 2 and "malformed YAML" in err
    assert not (tmp_path / "out").exists()


def test_plan_exits_1_for_a_registry_with_an_expired_exemption(expired_registry: Path, tmp_path: Path) -> None:
    report = tmp_path / "plan.json"
    result = subprocess.run(
        [sys.executable, "-m", "platformctl", "plan", "--registry", str(expired_registry), "--tenant", "acme", "--env", "dev",
         "--workers", "1", "--no-cache", "--format", "json", "--output", str(report)],
        cwd=PROJECT_ROOT, capture_output=True, text=True,
    )
    assert result.returncode == 1, result.stderr
    [stack] = [s for s in json.loads(report.read_text())["stacks"] if s["stack"] == "acme-dev"]
    [violation] = [v for v in stack["violations"] if v["level"] == "mandatory"]
    assert violation["policy"] == "exemptions-current" and "2020-01-31" in violation["message"]
