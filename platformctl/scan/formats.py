"""The report formats of ``platformctl scan``: text, JSON and SARIF.

Text is one line per finding, ``path:line:col: RULE message``, the form editors and CI logs
link. JSON is a list of findings with their rule's name and severity. Suppressed findings appear
only in SARIF, with their reasons.

>>> from ubertruck import PROJECT_ROOT
>>> from platformctl.scan.engine import scan
>>> render(scan([PROJECT_ROOT / "platformctl" / "scan"]), "json")
'[]\\n'
"""

from __future__ import annotations

import json
from typing import Any

from ubertruck.errors import UserError

from .engine import ScanReport
from .sarif import sarif_log

FORMATS = ("text", "json", "sarif")


def text_lines(report: ScanReport) -> list[str]:
    """``path:line:col: RULE message`` for each active finding."""
    return [f"{f.path}:{f.line}:{f.column}: {f.rule_id} {f.message}" for f in report.findings]


def json_findings(report: ScanReport) -> list[dict[str, Any]]:
    """Each active finding as a JSON object."""
    found = []
    for f in report.findings:
        rule = report.ruleset.info(f.rule_id)
        found.append(
            {"path": f.path, "line": f.line, "column": f.column, "rule": f.rule_id, "name": rule.name,
             "severity": rule.severity, "message": f.message}
        )
    return found


def check_format(name: str) -> str:
    """``name`` if it is a known format; otherwise a ``UserError``."""
    if name not in FORMATS:
        raise UserError("--format", f"unknown format '{name}'; expected one of {', '.join(FORMATS)}")
    return name


def render(report: ScanReport, fmt: str) -> str:
    """The whole report in format ``fmt``, ending with a newline."""
    if check_format(fmt) == "text":
        lines = text_lines(report)
        return "\n".join(lines) + "\n" if lines else ""
    document: Any = json_findings(report) if fmt == "json" else sarif_log(report)
    return json.dumps(document, indent=2) + "\n"
