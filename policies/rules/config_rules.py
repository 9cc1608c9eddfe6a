"""Configuration: no hardcoded values, the config service wired in, the seed hierarchy,
fallback values.

Checklist: "No hardcoded values in code", "All configs retrieved from service",
"Configuration schemas defined", "Fallback values configured".
"""

from __future__ import annotations

import fnmatch
import json
import re
from typing import Any, Iterable, Iterator, Mapping, Sequence

from .aws import FUNCTION, arn_service_and_type, PARAMETER, STRINGS, Statement, parse_document, platform_param, policy_param
from .base import Param, RuleSpec, StackFacts, Subject, Unknown, get, is_unknown, label
from .roles import role_documents

AREA = "configuration"


def _variables(subject: Subject) -> Mapping[str, Any]:
    variables = get(subject.props, "environment", "variables", default={})
    return variables if isinstance(variables, Mapping) else {}


def check_env_names(subject: Subject, config: Mapping[str, Any]) -> Iterator[str]:
    allowed = set(config["allowed_env_vars"])
    for name in _variables(subject):
        if name not in allowed:
            yield f"environment variable {label(name)} is not one of the allowed names {sorted(allowed)}"


def check_env_business_values(subject: Subject, config: Mapping[str, Any]) -> Iterator[str]:
    pattern = re.compile(config["business_value_pattern"])
    for name, value in _variables(subject).items():
        if is_unknown(value):
            raise Unknown(f"environment.variables.{name}")
        if isinstance(value, (int, float)) or (isinstance(value, str) and pattern.match(value)):
            yield (
                f"environment variable {label(name)} holds what looks like a business value "
                "(a number, rate, count or timeout); read it from the configuration service"
            )


def check_config_service_url(subject: Subject, config: Mapping[str, Any]) -> Iterator[str]:
    value = get(subject.props, "environment", "variables", "CONFIG_SERVICE_URL")
    if value is None:
        yield "environment variable 'CONFIG_SERVICE_URL' is missing: every function reads its config from the configuration service"
        return
    expected = config["config_service_url_template"].format(tenant_id=subject.stack.tenant_id)
    if value != expected:
        yield f"environment variable 'CONFIG_SERVICE_URL' does not point at this tenant's namespace (expected the form {config['config_service_url_template']})"


def _parameter_path_fits(path: str, facts: StackFacts, config: Mapping[str, Any]) -> bool:
    parts = path.split("/")
    segment = re.compile(r"^[A-Za-z0-9_.-]+$")
    if len(parts) < 2 or parts[0] != "" or parts[1] != facts.tenant_id:
        return False
    rest = parts[2:]
    if len(rest) == 3 and rest[0] == "global":
        return rest[1] in config["global_sections"] and bool(segment.match(rest[2]))
    if len(rest) == 5 and rest[0] == "services":
        service, env, section, name = rest[1:]
        return service in config["services"] and env == facts.environment and section in config["service_sections"] and bool(segment.match(name))
    return False


def check_parameter_path(subject: Subject, config: Mapping[str, Any]) -> Iterator[str]:
    path = get(subject.props, "name")
    if not isinstance(path, str) or not _parameter_path_fits(path, subject.stack, config):
        yield (
            "property 'name' does not fit the seed hierarchy for this stack: "
            "/{tenant}/global/{" + "|".join(config["global_sections"]) + "}/<name> or "
            "/{tenant}/services/{service}/{environment}/{" + "|".join(config["service_sections"]) + "}/<name>"
        )


def check_fallback(subject: Subject, config: Mapping[str, Any]) -> Iterator[str]:
    code = get(subject.props, "code")
    fallback = config["fallback_file"]
    asset = (getattr(code, "assets", None) or {}).get(fallback)
    text = getattr(asset, "text", None)
    if is_unknown(text):
        raise Unknown(f"code.{fallback}")
    if not isinstance(text, str):
        yield f"the code archive has no '{fallback}': the function has no fallback values for when the config service is unreachable"
        return
    try:
        document = json.loads(text)
    except ValueError:
        yield f"'{fallback}' in the code archive is not a JSON document"
        return
    if not isinstance(document, Mapping):
        yield f"'{fallback}' in the code archive is not a JSON object"
        return
    missing = [k for k in config["fallback_required_keys"] if k not in document]
    if missing:
        yield f"'{fallback}' lacks {missing}"
    service = _variables(subject).get("SERVICE_NAME")
    expected = {"tenant_id": subject.stack.tenant_id, "environment": subject.stack.environment, "service": service}
    wrong = sorted(k for k, v in expected.items() if k in document and document[k] != v)
    if wrong:
        yield f"'{fallback}' is for another {', '.join(wrong)} than this function's (the fallback values must be this service namespace's)"


def _reads_config(statement: Statement, config: Mapping[str, Any]) -> bool:
    actions = config["config_read_actions"]
    return statement.allows and any(fnmatch.fnmatchcase(a, pattern) for pattern in statement.actions for a in actions)


def _own_namespace(resource: str, facts: StackFacts) -> bool:
    service, _, _, _ = arn_service_and_type(resource)
    if service != "ssm":
        return False
    # The namespace root itself counts: GetParametersByPath is authorised against the path's ARN.
    path, root = resource.split(":", 5)[5], f"parameter/{facts.tenant_id}"
    return path == root or path.startswith(root + "/")


def check_config_read(subjects: Sequence[Subject], config: Mapping[str, Any], facts: StackFacts) -> Iterable[tuple[str, str]]:
    documents = role_documents(subjects)
    for fn in subjects:
        if fn.type != FUNCTION:
            continue
        role_arn = get(fn.props, "role")
        role = role_arn.rsplit("/", 1)[-1] if isinstance(role_arn, str) else ""
        reads_own = False
        for path, document in documents.get(role, []):
            for statement in parse_document(document, path):
                if not _reads_config(statement, config):
                    continue
                outside = [r for r in statement.resources if not _own_namespace(r, facts)]
                if outside or statement.not_resources:
                    yield fn.urn, f"its role grants config reads (statement {statement.index}) outside this tenant's namespace /{facts.tenant_id}/"
                elif statement.resources:
                    reads_own = True
        if not reads_own:
            yield fn.urn, f"its role cannot read this tenant's config namespace /{facts.tenant_id}/: the function cannot reach the configuration service"


def _sections(documents: Mapping[str, Any]) -> list[str]:
    services = documents["platform"]["tenant_config"]["services"]
    return sorted({section for sections in services.values() for section in sections})


ENVIRONMENT_PARAMS: dict[str, Param] = {
    "allowed_env_vars": platform_param(("platform", "allowed_env_vars"), STRINGS, "The only environment variable names a function may carry."),
}

RULES: tuple[RuleSpec, ...] = (
    RuleSpec(
        name="lambda-env-allowed-names",
        check=check_env_names,
        area=AREA,
        description="Lambda environment variables are limited to the allowed names.",
        severity="high",
        remediation="Remove the variable; read the value from the configuration service (ConfigurationClient) instead.",
        params=ENVIRONMENT_PARAMS,
        types=(FUNCTION,),
    ),
    RuleSpec(
        name="lambda-env-no-business-values",
        check=check_env_business_values,
        area=AREA,
        description="No Lambda environment value looks like a business value (rate, count, timeout).",
        severity="high",
        remediation="Move the value into the tenant's config (tenants/<id>.yaml or defaults.yaml) and read it through the config client.",
        params={"business_value_pattern": policy_param("business_value_pattern", {"type": "string"}, "Regex of values that look like numbers, rates or durations.")},
        types=(FUNCTION,),
    ),
    RuleSpec(
        name="lambda-config-service-url",
        check=check_config_service_url,
        area=AREA,
        description="Every function has CONFIG_SERVICE_URL pointing at its own tenant's config namespace.",
        severity="high",
        remediation="Build the function with components.function.ServiceFunction, which sets CONFIG_SERVICE_URL for the stack's tenant.",
        params={"config_service_url_template": policy_param("config_service_url_template", {"type": "string"}, "CONFIG_SERVICE_URL of a tenant's functions; {tenant_id} is replaced.")},
        types=(FUNCTION,),
        tenant_only=True,
    ),
    RuleSpec(
        name="config-read-own-namespace",
        stack_check=check_config_read,
        area=AREA,
        description="Every function's role reads its own tenant's config namespace, and no other.",
        severity="critical",
        remediation="Grant config reads with components.iam.config_read_grants: /{tenant}/global/* and the service's own namespace.",
        params={"config_read_actions": policy_param("config_read_actions", STRINGS, "IAM actions that read the configuration service.")},
        tenant_only=True,
    ),
    RuleSpec(
        name="ssm-path-hierarchy",
        check=check_parameter_path,
        area=AREA,
        description="Every SSM parameter path fits the seed hierarchy for the stack's tenant and environment.",
        severity="medium",
        remediation="Name parameters /{tenant}/global/{section}/<name> or /{tenant}/services/{service}/{env}/{section}/<name> (components.config_params).",
        params={
            "services": platform_param(("platform", "services"), STRINGS, "The platform's services (config namespaces)."),
            "global_sections": Param(STRINGS, lambda d: sorted(d["platform"]["tenant_config"]["global"]), "Sections under /{tenant}/global."),
            "service_sections": Param(STRINGS, _sections, "Sections under /{tenant}/services/{service}/{env}."),
        },
        types=(PARAMETER,),
        tenant_only=True,
    ),
    RuleSpec(
        name="fallback-values",
        check=check_fallback,
        area=AREA,
        description="Every function carries fallback values for its own service namespace.",
        severity="medium",
        remediation="Build the function with components.function.ServiceFunction, which bakes the tenant's merged config into fallback.json.",
        params={
            "fallback_file": policy_param("fallback_file", {"type": "string"}, "Name of the fallback document in the code archive."),
            "fallback_required_keys": policy_param("fallback_required_keys", STRINGS, "Keys the fallback document must carry."),
        },
        types=(FUNCTION,),
        tenant_only=True,
        # The archive embeds the service's published resource names, unknown in a first
        # preview; that is not a security property, so the SDK's advisory stands.
        unknown_is_violation=False,
    ),
)
