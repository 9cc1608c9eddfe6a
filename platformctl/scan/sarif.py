"""SARIF 2.1.0 output, in the shape GitHub code scanning reads.

Every rule of the run is described in ``tool.driver.rules``; each result points at its rule by
``ruleId`` and ``ruleIndex`` and at a file by a URI relative to ``%SRCROOT%`` (the scanned
repository's root). Columns count Unicode code points (``columnKind``). Findings that an inline
suppression accepted are included with a ``suppressions`` entry carrying its reason, so the
reason travels with the report; they do not fail the scan.

>>> from ubertruck import PROJECT_ROOT
>>> from platformctl.scan.engine import scan
>>> log = sarif_log(scan([PROJECT_ROOT / "platformctl" / "scan"]))
>>> log["version"], log["runs"][0]["tool"]["driver"]["rules"][0]["id"]
('2.1.0', 'UT001')
"""

from __future__ import annotations

from typing import Any, Optional
from urllib.parse import quote

from .engine import ScanReport
from .findings import Finding
from .ruleset import RuleInfo

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
TOOL_NAME = "platformctl-scan"
ROOT_BASE_ID = "%SRCROOT%"

#: Rule severity to SARIF level: critical and high fail review, medium warns, low notes.
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}


def _descriptor(rule: RuleInfo) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.message},
        "fullDescription": {"text": rule.description},
        "help": {"text": rule.help, "markdown": rule.help},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {"tags": ["anti-pattern", "maintainability"], "severity": rule.severity},
    }


def _result(finding: Finding, index: dict[str, int], rules: dict[str, RuleInfo], reason: Optional[str]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": index[finding.rule_id],
        "level": LEVELS[rules[finding.rule_id].severity],
        "message": {"text": finding.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": quote(finding.path), "uriBaseId": ROOT_BASE_ID},
                    "region": {"startLine": finding.line, "startColumn": finding.column},
                }
            }
        ],
    }
    if reason is not None:
        result["suppressions"] = [{"kind": "inSource", "status": "accepted", "justification": reason}]
    return result


def sarif_log(report: ScanReport) -> dict[str, Any]:
    """The report as a SARIF log (a JSON-ready dict) with one run."""
    rules = report.ruleset.all_rules
    index = {rule.id: i for i, rule in enumerate(rules)}
    by_id = {rule.id: rule for rule in rules}
    results = [_result(f, index, by_id, None) for f in report.findings]
    results += [_result(s.finding, index, by_id, s.reason) for s in report.suppressed]
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": TOOL_NAME, "rules": [_descriptor(rule) for rule in rules]}},
                "originalUriBaseIds": {ROOT_BASE_ID: {"uri": report.root.as_uri().rstrip("/") + "/"}},
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
