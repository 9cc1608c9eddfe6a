"""Rules → Pulumi policy SDK objects.

Building ``ResourceValidationPolicy``/``StackValidationPolicy`` objects is cheap and starts
nothing; only ``PolicyPack`` starts a server, and only a pack's ``__main__.py`` builds one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import yaml
from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from .. import sdk_compat
from .base import Param, RuleSpec, StackFacts, Subject, Unknown
from .fast_paths import MISS, LastCalls, Memo
from .exemptions import EXEMPTION_SCHEMA, settle

#: The project root (where defaults.yaml lives): policies/rules/sdk.py → ../../
PROJECT_ROOT = Path(__file__).resolve().parents[2]
PLATFORM_DEFAULTS = PROJECT_ROOT / "defaults.yaml"

Documents = Mapping[str, Any]

#: Parameters every rule has: how to read a stack name, and its exemptions.
COMMON_PARAMS: dict[str, Param] = {
    "environments": Param(
        {"type": "array", "items": {"type": "string"}},
        lambda d: d["platform"]["platform"]["environments"],
        "Declared environments: a stack is <env> (shared) or <tenant>-<env>.",
    ),
    "exemptions": Param(
        {"type": "array", "items": EXEMPTION_SCHEMA},
        lambda d: [],
        "Resources or stacks exempted from this rule, each with a reason and an expiry.",
    ),
}


def load_documents(platform_file: Path = PLATFORM_DEFAULTS) -> dict[str, Any]:
    """The defaults parameter defaults are read from: the project's ``defaults.yaml``, whose
    ``policy`` section holds the values only the packs use."""
    platform = yaml.safe_load(platform_file.read_text())
    return {"platform": platform, "policy": platform["policy"]}


def rule_params(rule: RuleSpec) -> dict[str, Param]:
    common = COMMON_PARAMS if rule.exemptible else {k: v for k, v in COMMON_PARAMS.items() if k != "exemptions"}
    return {**common, **rule.params}


def rule_defaults(rule: RuleSpec, documents: Documents) -> dict[str, Any]:
    """Every parameter's default value, read from the defaults documents."""
    return {name: param.source(documents) for name, param in rule_params(rule).items()}


def config_schema(rule: RuleSpec, documents: Documents) -> PolicyConfigSchema:
    properties = {
        name: {**param.schema, "description": param.description, "default": param.source(documents)}
        for name, param in rule_params(rule).items()
    }
    return PolicyConfigSchema(properties=properties)


def plain(value: Any) -> Any:
    """Strip the SDK's unknown-checking proxies: rules work on plain data and check
    unknowns themselves (see :class:`policies.rules.base.Unknown`).

    Only the proxies' public face is used (a ``Mapping`` or ``Sequence`` whose items raise
    ``UnknownValueError`` for an unknown value, which carries the sentinel), so this runs the
    same on every SDK version."""
    if isinstance(value, Mapping):
        return {key: plain(_item(value, key)) for key in value}
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return [plain(_item(value, index)) for index in range(len(value))]
    return value


def _item(container: Any, key: Any) -> Any:
    """``container[key]``, or the unknown sentinel stored there."""
    try:
        return container[key]
    except UnknownValueError as unknown:
        return unknown.unknown_type_sentinel


def unknown_message(path: str) -> str:
    return (
        f"property '{path}' is unknown until the deployment runs; this rule guards a security "
        "property, so an unknown value counts as a violation (make it known at preview time)"
    )


def run_check(rule: RuleSpec, check: Callable[[], Any]) -> list[Any]:
    """Run a rule body; an unknown security property becomes a finding."""
    try:
        return list(check())
    except Unknown as exc:
        if not rule.unknown_is_violation:
            # Not a security property: let the SDK report it as it always does (advisory).
            raise UnknownValueError("04da6b54-80e4-46f7-96ec-b56ff0331ba9", exc.path.split(".")) from None
        return [_UnknownFinding(exc.path)]


class _UnknownFinding(str):
    """A finding produced by an unknown value (a str, so resource checks can carry it)."""

    def __new__(cls, path: str) -> "_UnknownFinding":
        return super().__new__(cls, unknown_message(path))


def _report(rule: RuleSpec, config: Mapping[str, Any], facts: StackFacts, findings: list[tuple[str, str, str]],
            report: ReportViolation, not_applicable: Callable[[str], None]) -> None:
    settlement = settle(findings, config.get("exemptions") or [], facts)
    for urn, message in settlement.report:
        report(message, urn or None)
    marker = settlement.marker()
    if marker:
        not_applicable(marker)


def evaluate_resource(rule: RuleSpec, subject: Subject, config: Mapping[str, Any]) -> list[str]:
    """The rule's messages for one resource (in-process: tests and the benchmark floor)."""
    if not rule.applies_to(subject.type) or (rule.tenant_only and subject.stack.tenant_id is None):
        return []
    assert rule.check is not None
    return [str(m) for m in run_check(rule, lambda: rule.check(subject, config))]


def evaluate_stack(rule: RuleSpec, subjects: Sequence[Subject], config: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The rule's ``(urn, message)`` findings for a stack (in-process)."""
    if not subjects:
        return []
    facts = subjects[0].stack
    if rule.tenant_only and facts.tenant_id is None:
        return []
    assert rule.stack_check is not None
    found = run_check(rule, lambda: rule.stack_check(subjects, config, facts))
    return [("", f) if isinstance(f, _UnknownFinding) else f for f in found]


def _plain_once(value: Any) -> Any:
    """:func:`plain`, once per proxy (every policy of a request sees the same proxy once the
    conversions of fast_paths are installed)."""
    return _PLAIN(value)


def _subject(type_: str, name: str, urn: str, props: Any, provider: Any, config: Mapping[str, Any], parent: str = "") -> Subject:
    """The rules' view of one resource; built once per request and shared by every policy that
    looks at it (a Subject is immutable), keyed on the request's properties proxy."""
    key = (type_, name, urn, parent, tuple(config["environments"]), provider.resource_type if provider is not None else "",
           id(provider.props) if provider is not None else None)
    found = _SUBJECTS.lookup(props)
    if found is not MISS and found[0] == key:
        return found[1]
    subject = Subject(
        type=type_,
        name=name,
        urn=urn,
        props=_plain_once(props),
        stack=StackFacts.from_urn(urn, config["environments"]),
        provider_type=key[5],
        provider_props=_plain_once(provider.props) if provider is not None else None,
        parent=parent,
    )
    _SUBJECTS.remember(props, (key, subject))
    return subject


def _resource_validate(rule: RuleSpec, defaults: dict[str, Any]) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if not rule.applies_to(args.resource_type):
            return
        config = {**defaults, **args.get_config()}
        subject = _subject(args.resource_type, args.name, args.urn, args.props, args.provider, config)
        messages = evaluate_resource(rule, subject, config)
        findings = [(args.urn, args.name, m) for m in messages]
        _report(rule, config, subject.stack, findings, report, args.not_applicable)

    return validate


def _stack_validate(rule: RuleSpec, defaults: dict[str, Any]) -> Callable[[StackValidationArgs, ReportViolation], None]:
    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        config = {**defaults, **args.get_config()}
        subjects = [
            _subject(r.resource_type, r.name, r.urn, r.props, r.provider, config, r.parent.urn if r.parent else "")
            for r in args.resources
        ]
        if not subjects:
            return
        names = {s.urn: s.name for s in subjects}
        findings = [(urn, names.get(urn, ""), message) for urn, message in evaluate_stack(rule, subjects, config)]
        _report(rule, config, subjects[0].stack, findings, report, args.not_applicable)

    return validate


def to_policy(rule: RuleSpec, documents: Documents) -> Policy:
    """One SDK policy for ``rule``, with defaults and schema from ``documents``."""
    defaults = rule_defaults(rule, documents)
    common: dict[str, Any] = {
        "name": rule.name,
        "description": rule.description,
        "enforcement_level": EnforcementLevel(rule.enforcement),
        "config_schema": config_schema(rule, documents),
        "severity": Severity(rule.severity),
        "tags": [rule.area],
        "remediation_steps": rule.remediation,
    }
    if rule.is_stack_rule:
        return StackValidationPolicy(validate=_stack_validate(rule, defaults), **common)
    return ResourceValidationPolicy(validate=_resource_validate(rule, defaults), **common)


def build_policies(rules: Sequence[RuleSpec], documents: Documents) -> list[Policy]:
    return [to_policy(rule, documents) for rule in rules]


def answer_interrupts() -> None:
    """Make the interrupt that stops a pack (the engine's, and ``platformctl``'s) reach it.

    A process started from a background shell job inherits SIGINT as ignored, and Python then
    leaves it ignored: the SDK's server would never see its KeyboardInterrupt and every pack
    would sit out the shutdown timeout until it is killed."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)


def pack_arguments(pack: str, documents: Documents | None = None) -> dict[str, Any]:
    """The ``PolicyPack`` keyword arguments of pack ``pack`` (a folder name under policies/).

    Chooses the pack's SDK path first: the stock SDK, unless the offline engine started the pack
    at the verified SDK versions (:func:`policies.sdk_compat.configure_pack`)."""
    from . import PACK_DESCRIPTIONS, PACK_NAMES, PACKS

    documents = documents or load_documents()
    offline = documents["platform"]["offline"]
    sdk_compat.configure_pack(offline["pack_fast_paths_env_var"], offline["pack_sdk_path_report_env_var"])
    answer_interrupts()
    return {
        "name": PACK_NAMES[pack],
        "description": PACK_DESCRIPTIONS[pack],
        "enforcement_level": EnforcementLevel.MANDATORY,
        "policies": build_policies(PACKS[pack], documents),
    }


_PLAIN = LastCalls(plain)
_SUBJECTS = Memo()
