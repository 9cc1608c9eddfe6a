"""Secrets: only in Secrets Manager or SecureString parameters.

Checklist: "Secrets in secrets manager".
"""

from __future__ import annotations

import fnmatch
import re
from typing import Any, Iterator, Mapping

from .aws import FUNCTION, PARAMETER, STRINGS, platform_param, policy_param
from .base import RuleSpec, Subject, Unknown, get, is_unknown, label
from .secret_shapes import looks_secret

AREA = "secrets"


def check_env_secrets(subject: Subject, config: Mapping[str, Any]) -> Iterator[str]:
    name_pattern = re.compile(config["secret_name_pattern"])
    variables = get(subject.props, "environment", "variables", default={}) or {}
    for name, value in variables.items():
        if is_unknown(value):
            raise Unknown(f"environment.variables.{name}")
        if name_pattern.search(str(name)):
            yield f"environment variable {label(name)} is named like a secret; keep secrets in Secrets Manager and read them at run time"
        elif isinstance(value, str) and looks_secret(value):
            yield f"environment variable {label(name)} holds what looks like {looks_secret(value)}; keep secrets in Secrets Manager"


def check_plain_parameters(subject: Subject, config: Mapping[str, Any]) -> Iterator[str]:
    if get(subject.props, "type") == "SecureString":
        return
    path = get(subject.props, "name") or ""
    tenant_relative = path.split("/", 2)[2] if path.count("/") >= 2 else path
    if any(fnmatch.fnmatchcase(tenant_relative, p) for p in config["sensitive_config"]):
        yield "the parameter is in a sensitive part of the hierarchy but property 'type' is not SecureString"
        return
    value = get(subject.props, "value")
    if isinstance(value, str) and looks_secret(value):
        yield f"property 'value' looks like {looks_secret(value)} but property 'type' is not SecureString"
    elif get(subject.props, "insecureValue") is not None and looks_secret(str(get(subject.props, "insecureValue"))):
        yield "property 'insecureValue' looks like a secret; store it as a SecureString"


RULES: tuple[RuleSpec, ...] = (
    RuleSpec(
        name="lambda-env-no-secrets",
        check=check_env_secrets,
        area=AREA,
        description="No secret is passed to a function in its environment.",
        severity="critical",
        remediation="Store the secret in Secrets Manager (tenants/<id>.yaml secrets:) and have the function fetch it.",
        params={"secret_name_pattern": policy_param("secret_name_pattern", {"type": "string"}, "Regex of variable names that announce a secret.")},
        types=(FUNCTION,),
    ),
    RuleSpec(
        name="ssm-no-plaintext-secrets",
        check=check_plain_parameters,
        area=AREA,
        description="Secrets and sensitive config are SecureString parameters, never plain String ones.",
        severity="critical",
        remediation="Make the parameter a SecureString under the tenant key (platform.sensitive_config in defaults.yaml lists sensitive paths).",
        params={"sensitive_config": platform_param(("platform", "sensitive_config"), STRINGS, "Globs (below /{tenant}/) of config that must be SecureString.")},
        types=(PARAMETER,),
    ),
)
