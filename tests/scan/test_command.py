"""``platformctl scan`` end to end through the CLI's entry point: output, exit codes, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer

from platformctl import cli
from platformctl.commands.scan import register

from .conftest import write


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """Call ``cli.main`` with an app that has the scan command; return (exit code, stdout, stderr)."""
    app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False)
    app.callback()(lambda: None)
    monkeypatch.setattr(cli, "app", app)
    monkeypatch.setattr(cli, "_register", lambda: register(app))

    def invoke(*args: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as done:
            cli.main(list(args))
            raise SystemExit(0)
        out, err = capsys.readouterr()
        return int(done.value.code or 0), out, err

    return invoke


def test_clean_tree_exits_0(run, tmp_path: Path) -> None:
    write(tmp_path, "ok.py", "timeout = settings.timeout\n")
    code, out, err = run("scan", str(tmp_path))
    assert (code, out) == (0, "")
    assert "no findings in 1 file(s)" in err


def test_findings_exit_1_and_print_file_line_col_rule_message(run, tmp_path: Path) -> None:
    write(tmp_path, "client.py", "get(url, timeout=30)\n")
    code, out, err = run("scan", str(tmp_path))
    assert (code, out) == (1, "client.py:1:10: UT002 Hardcoded timeout detected (timeout)\n")
    assert "1 finding(s) in 1 file(s)" in err


def test_output_option_writes_the_report_to_a_file(run, tmp_path: Path) -> None:
    write(tmp_path / "src", "client.py", "get(url, timeout=30)\n")
    target = tmp_path / "out" / "scan.sarif"
    code, out, _ = run("scan", str(tmp_path / "src"), "--format", "sarif", "--output", str(target))
    assert (code, out) == (1, "")
    assert json.loads(target.read_text())["runs"][0]["results"][0]["ruleId"] == "UT002"


def test_json_format_on_stdout(run, tmp_path: Path) -> None:
    write(tmp_path, "client.py", "get(url, timeout=30)\n")
    code, out, _ = run("scan", str(tmp_path), "-f", "json")
    assert code == 1 and json.loads(out)[0]["rule"] == "UT002"


def test_rules_option_is_repeatable(run, tmp_path: Path) -> None:
    for n in (1, 2):
        write(
            tmp_path / "rules", f"r{n}.yaml",
            f"version: 1\nrules: [{{id: X{n}, name: word-{n}, severity: low, message: word{n}, description: d, help: h, "
            f"text: 'word{n}'}}]\n",
        )
    write(tmp_path / "src", "a.yaml", "a: word1\nb: word2\n")
    code, out, _ = run("scan", str(tmp_path / "src"), "--rules", str(tmp_path / "rules/r1.yaml"), "--rules", str(tmp_path / "rules/r2.yaml"))
    assert code == 1 and [line.split()[1] for line in out.splitlines()] == ["X1", "X2"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("scan", "{tmp}/missing"), "error: {tmp}/missing: no such file or folder; expected paths to scan"),
        (("scan", "{tmp}", "--format", "xml"), "error: --format: unknown format 'xml'; expected one of text, json, sarif"),
        (("scan", "{tmp}", "--rules", "{tmp}/bad.yaml"), "error: {tmp}/bad.yaml: version: Input should be 1"),
    ],
)
def test_bad_input_exits_2_with_one_clear_line_and_no_traceback(run, tmp_path: Path, args, message: str) -> None:
    write(tmp_path, "bad.yaml", "version: 3\n")
    code, out, err = run(*(a.format(tmp=tmp_path) for a in args))
    assert (code, out) == (2, "")
    assert err.strip() == message.format(tmp=tmp_path)
