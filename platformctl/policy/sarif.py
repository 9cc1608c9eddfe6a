"""Policy results as SARIF 2.1.0, for code scanning.

One run per policy pack: the pack is the tool, its policies are the rules (metadata from
``GetAnalyzerInfo``: description, remediation, severity, enforcement level). Each result
points at the file a reviewer would change: the tenant's registry file for a tenant stack,
or the component module that made the resource for a shared stack (also given, as a related
location, for tenant stacks). The resource's URN is the logical location.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, Mapping, Sequence

from ubertruck import PROJECT_ROOT
from ubertruck.atomic import write_text_atomic

from ..engine.capture import CapturedResource
from ..engine.runner import StackRun
from .config import PackInfo
from .runner import PolicyContext, StackPolicyResult, Violation

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
#: SARIF result level of each enforcement level.
RESULT_LEVEL = {"mandatory": "error", "advisory": "warning", "remediate": "error", "disabled": "none"}
SEVERITY_SCORE = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "": "5.0"}
_COMPONENT_TYPE = re.compile(r"^ubertruck:([a-z_][a-z0-9_]*):([A-Za-z][A-Za-z0-9]*)$")


def _rule(meta: Any) -> dict[str, Any]:
    return {
        "id": meta.name,
        "name": meta.name,
        "shortDescription": {"text": meta.description},
        "fullDescription": {"text": meta.description},
        "help": {"text": meta.remediation or meta.description},
        "defaultConfiguration": {"level": RESULT_LEVEL.get(meta.enforcement, "warning")},
        "properties": {
            "tags": list(meta.tags),
            "enforcementLevel": meta.enforcement,
            "severity": meta.severity,
            "security-severity": SEVERITY_SCORE.get(meta.severity, "5.0"),
            "policyType": "stack" if meta.stack_policy else "resource",
        },
    }


def component_source(urn: str, resources: Mapping[str, CapturedResource]) -> tuple[str, int] | None:
    """``(components/<module>.py, line of its class)`` of the nearest component above ``urn``."""
    seen: set[str] = set()
    current = resources.get(urn)
    while current is not None and current.urn not in seen:
        seen.add(current.urn)
        match = _COMPONENT_TYPE.match(current.type)
        if match:
            module, cls = match.groups()
            path = PROJECT_ROOT / "components" / f"{module}.py"
            if path.is_file():
                return f"components/{module}.py", _line_of(path, rf"^class {cls}\b")
        current = resources.get(current.parent)
    return None


def _line_of(path: Path, pattern: str) -> int:
    regex = re.compile(pattern)
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if regex.search(line):
            return number
    return 1


def _location(uri: str, line: int, text: str | None = None) -> dict[str, Any]:
    location: dict[str, Any] = {
        "physicalLocation": {"artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"}, "region": {"startLine": line}}
    }
    if text:
        location["message"] = {"text": text}
    return location


def _result(violation: Violation, stack: str, index: int, context: PolicyContext, resources: Mapping[str, CapturedResource]) -> dict[str, Any]:
    target = context.target(stack)
    source = component_source(violation.urn, resources) if violation.urn else None
    related: list[dict[str, Any]] = []
    if target.tenant is not None:
        registry = context.registry_file(target.tenant.id)
        primary = _location(registry, 1)
        if source:
            related.append({"id": 0, **_location(*source, text="component that created the resource")})
    else:
        primary = _location(*(source or ("__main__.py", 1)))
    resource = violation.urn.rsplit("::", 1)[-1] if violation.urn else "(stack)"
    fingerprint = hashlib.sha256(f"{stack}|{violation.policy}|{violation.urn}|{violation.message}".encode()).hexdigest()
    result: dict[str, Any] = {
        "ruleId": violation.policy,
        "ruleIndex": index,
        "level": RESULT_LEVEL.get(violation.level, "warning"),
        "message": {"text": f"[{stack}] {resource}: {violation.message}"},
        "locations": [primary],
        "partialFingerprints": {"ubertruckPolicy/v1": fingerprint},
        "properties": {"stack": stack, "enforcementLevel": violation.level, "pack": violation.pack},
    }
    if violation.urn:
        result["locations"][0]["logicalLocations"] = [{"fullyQualifiedName": violation.urn, "kind": "resource"}]
    if related:
        result["relatedLocations"] = related
    return result


def to_sarif(
    results: Mapping[str, StackPolicyResult],
    infos: Sequence[PackInfo],
    context: PolicyContext,
    runs: Sequence[StackRun] = (),
) -> dict[str, Any]:
    """A SARIF log with one run per pack; exemptions in use are recorded as suppressed notes."""
    by_stack = {run.stack: {r.urn: r for r in run.resources} for run in runs}
    sarif_runs = []
    for info in infos:
        rules = [_rule(meta) for meta in info.policies]
        index = {meta.name: i for i, meta in enumerate(info.policies)}
        sarif_results = []
        for stack, result in results.items():
            resources = by_stack.get(stack, {})
            for violation in result.violations:
                if violation.pack == info.name and violation.policy in index:
                    sarif_results.append(_result(violation, stack, index[violation.policy], context, resources))
            for used in result.exemptions:
                if used.pack != info.name or used.policy not in index:
                    continue
                for urn in used.urns or ("",):
                    note = Violation(used.pack, used.policy, "advisory", urn, f"exempted until {used.expires}: {used.reason}")
                    entry = _result(note, stack, index[used.policy], context, resources)
                    entry["level"] = "note"
                    entry["suppressions"] = [{"kind": "external", "justification": f"{used.reason} (until {used.expires}; {used.source})"}]
                    sarif_results.append(entry)
        sarif_runs.append(
            {
                "tool": {
                    "driver": {
                        "name": info.name,
                        "version": info.version,
                        "informationUri": "https://www.pulumi.com/docs/iac/crossguard/",
                        "fullDescription": {"text": info.description or info.name},
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": PROJECT_ROOT.as_uri() + "/"}},
                "results": sarif_results,
            }
        )
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": sarif_runs}


def write_sarif(path: Path, document: Mapping[str, Any]) -> None:
    """Write the SARIF log atomically."""
    write_text_atomic(path, json.dumps(document, indent=1, sort_keys=True) + "\n")
