"""Monitoring: tracing, access logs, log groups with retention, alarms with actions.

Checklist: "Metrics configured", "Logging implemented", "Tracing enabled", "Alerts configured".
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator, Mapping, Sequence

from .aws import ALARM, FUNCTION, LOG_GROUP, STAGE, STRINGS, policy_param
from .base import RuleSpec, StackFacts, Subject, get

AREA = "monitoring"


def check_function_tracing(subject: Subject, config: Mapping[str, Any]) -> Iterator[str]:
    if get(subject.props, "tracingConfig", "mode") != "Active":
        yield "property 'tracingConfig.mode' is not Active: X-Ray tracing is off"


def check_stage_tracing(subject: Subject, config: Mapping[str, Any]) -> Iterator[str]:
    if get(subject.props, "xrayTracingEnabled") is not True:
        yield "property 'xrayTracingEnabled' is not true: X-Ray tracing is off for the stage"


def check_access_logging(subject: Subject, config: Mapping[str, Any]) -> Iterator[str]:
    if not get(subject.props, "accessLogSettings", "destinationArn") or not get(subject.props, "accessLogSettings", "format"):
        yield "property 'accessLogSettings' has no destinationArn or format: API access logging is off"


def function_name(subject: Subject) -> str:
    return get(subject.props, "name") or subject.name


def function_log_group(subject: Subject) -> str:
    """The log group a function writes to: its logging config's, or Lambda's default."""
    return get(subject.props, "loggingConfig", "logGroup") or f"/aws/lambda/{function_name(subject)}"


def check_log_groups(subjects: Sequence[Subject], config: Mapping[str, Any], facts: StackFacts) -> Iterable[tuple[str, str]]:
    groups = {get(s.props, "name") or s.name: s for s in subjects if s.type == LOG_GROUP}
    for fn in subjects:
        if fn.type != FUNCTION:
            continue
        group = groups.get(function_log_group(fn))
        if group is None:
            yield fn.urn, "the function's log group is not part of the stack: it would be created with no retention and no key"
        elif not get(group.props, "retentionInDays"):
            yield fn.urn, "the function's log group has no 'retentionInDays'"


def _metrics(alarm: Subject) -> Iterator[tuple[str, Any]]:
    """``(metric name, dimensions)`` of an alarm: its own metric and its query metrics."""
    if get(alarm.props, "metricName"):
        yield get(alarm.props, "metricName"), get(alarm.props, "dimensions", default={})
    for query in get(alarm.props, "metricQueries", default=[]) or []:
        metric = get(query, "metric", default={}) or {}
        if get(metric, "metricName"):
            yield get(metric, "metricName"), get(metric, "dimensions", default={})


def check_alarms(subjects: Sequence[Subject], config: Mapping[str, Any], facts: StackFacts) -> Iterable[tuple[str, str]]:
    kinds = {"error": set(config["error_metrics"]), "latency": set(config["latency_metrics"])}
    covered: dict[str, set[str]] = {}
    for alarm in subjects:
        if alarm.type != ALARM or not get(alarm.props, "alarmActions"):
            continue
        for metric, dimensions in _metrics(alarm):
            fn = (dimensions or {}).get("FunctionName")
            for kind, metrics in kinds.items():
                if metric in metrics and isinstance(fn, str):
                    covered.setdefault(fn, set()).add(kind)
    for fn in subjects:
        if fn.type != FUNCTION:
            continue
        missing = sorted(set(kinds) - covered.get(function_name(fn), set()))
        if missing:
            yield fn.urn, f"the function has no {' and no '.join(missing)} alarm with an action"


RULES: tuple[RuleSpec, ...] = (
    RuleSpec(
        name="lambda-tracing-active",
        check=check_function_tracing,
        area=AREA,
        description="X-Ray tracing is Active on every function.",
        severity="medium",
        remediation="Set tracing_config={'mode': 'Active'} (components.function.ServiceFunction does).",
        types=(FUNCTION,),
    ),
    RuleSpec(
        name="apigw-stage-tracing",
        check=check_stage_tracing,
        area=AREA,
        description="X-Ray tracing is on for every API stage.",
        severity="medium",
        remediation="Set xray_tracing_enabled=True on the stage.",
        types=(STAGE,),
    ),
    RuleSpec(
        name="apigw-access-logging",
        check=check_access_logging,
        area=AREA,
        description="Every API stage writes access logs.",
        severity="medium",
        remediation="Set access_log_settings with the API's log group ARN and a JSON format.",
        types=(STAGE,),
    ),
    RuleSpec(
        name="lambda-log-group-retention",
        stack_check=check_log_groups,
        area=AREA,
        description="Every function has its log group in the stack, with a retention.",
        severity="medium",
        remediation="Create the log group with retention_in_days and point the function's logging_config at it (ServiceFunction does).",
    ),
    RuleSpec(
        name="lambda-alarms",
        stack_check=check_alarms,
        area=AREA,
        description="Every function has an error alarm and a latency alarm, each with an action.",
        severity="medium",
        remediation="Create both alarms with alarm_actions set to the platform alarm topic (ServiceFunction does).",
        params={
            "error_metrics": policy_param("error_metrics", STRINGS, "Metrics an error alarm watches."),
            "latency_metrics": policy_param("latency_metrics", STRINGS, "Metrics a latency alarm watches."),
        },
    ),
)
