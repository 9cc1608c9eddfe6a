"""One mutation per rule: it breaks exactly what the rule guards, on every resource the rule
applies to, in any captured tenant stack (synthetic or planned from the real program).

``needs`` names the resource types a mutation works on. A planned stack that has none of them
yet (the program is still growing) gets the synthetic stack's compliant ones injected first,
so every rule is still exercised against the planned stack's provider, names and neighbours.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Callable

from platformctl.engine.capture import CapturedResource
from platformctl.engine.runner import StackRun
from platformctl.policy.runner import PolicyContext
from policies.rules import aws
from ubertruck.registry.model import Exemption, PolicySection

from .stacks import ACCOUNT, REGION, of_type


def _doc(r: CapturedResource, key: str = "policy") -> dict[str, Any]:
    value = r.wire_inputs[key]
    return json.loads(value) if isinstance(value, str) else value


def _set_doc(r: CapturedResource, doc: dict[str, Any], key: str = "policy") -> None:
    r.wire_inputs[key] = json.dumps(doc)


def _statements(doc: dict[str, Any]) -> list[dict[str, Any]]:
    raw = doc.get("Statement", [])
    return raw if isinstance(raw, list) else [raw]


def _env(run: StackRun) -> list[dict[str, Any]]:
    return [r.wire_inputs.setdefault("environment", {}).setdefault("variables", {}) for r in of_type(run, aws.FUNCTION)]


def _prefix(run: StackRun) -> str:
    return run.stack


def _tenant(run: StackRun) -> str:
    return run.stack.rsplit("-", 1)[0]


def _each(run: StackRun, type_: str, change: Callable[[dict[str, Any]], None]) -> None:
    for r in of_type(run, type_):
        change(r.wire_inputs)


def _add_statement(run: StackRun, statement: dict[str, Any]) -> None:
    for r in of_type(run, aws.ROLE_POLICY):
        doc = _doc(r)
        doc["Statement"] = [*_statements(doc), statement]
        _set_doc(r, doc)


def _drop_config_reads(run: StackRun) -> None:
    for r in of_type(run, aws.ROLE_POLICY):
        doc = _doc(r)
        kept = []
        for st in _statements(doc):
            actions = st.get("Action", [])
            actions = actions if isinstance(actions, list) else [actions]
            if not any(str(a).startswith("ssm:Get") for a in actions):
                kept.append(st)
        doc["Statement"] = kept
        _set_doc(r, doc)


def _rename_parameters(run: StackRun) -> None:
    def change(p: dict[str, Any]) -> None:
        p["name"] = p["name"].replace("/global/", "/globals/").replace("/services/", "/service/")

    _each(run, aws.PARAMETER, change)


def _drop_fallback(run: StackRun) -> None:
    for r in of_type(run, aws.FUNCTION):
        assets = r.wire_inputs.get("code", {}).get("assets", {})
        assets.pop("fallback.json", None)


def _open_methods(run: StackRun) -> None:
    def change(p: dict[str, Any]) -> None:
        if p.get("httpMethod") != "OPTIONS":
            p["authorization"] = "NONE"
            p.pop("authorizerId", None)

    _each(run, aws.METHOD, change)


def _rename_one(run: StackRun) -> None:
    target = next(r for r in run.resources if r.type.startswith("aws:"))
    old = target.name
    target.name = f"misc-{old}"
    target.urn = target.urn.rsplit("::", 1)[0] + f"::misc-{old}"


def _peer_reference(run: StackRun) -> None:
    env = run.stack.rsplit("-", 1)[1]
    target = next(r for r in run.resources if "tags" in r.wire_inputs)
    target.wire_inputs["tags"] = {**target.wire_inputs["tags"], "peer": f"globex-{env}-bookings"}


def _open_key_policy(run: StackRun) -> None:
    for r in of_type(run, aws.KEY):
        doc = _doc(r)
        doc["Statement"] = [*_statements(doc), {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*"}]
        _set_doc(r, doc)


def _drop(run: StackRun, predicate: Callable[[CapturedResource], bool]) -> None:
    run.resources[:] = [r for r in run.resources if not predicate(r)]


def with_policy(context: PolicyContext, tenant_id: str, exemptions: list[Exemption] | None = None,
                settings: dict[str, dict[str, Any]] | None = None) -> PolicyContext:
    """``context`` with the tenant's registry ``policy`` section replaced."""
    section = PolicySection(exemptions=exemptions or [], settings=settings or {})
    tenant = context.tenants[tenant_id].model_copy(update={"policy": section})
    return dataclasses.replace(context, tenants={**context.tenants, tenant_id: tenant})


def _expired_exemption(context: PolicyContext, run: StackRun) -> PolicyContext:
    # Exempts a rule the stack already passes: the exemption suppresses nothing, and still counts.
    tenant = context.tenants[_tenant(run)]
    expired = Exemption(policy="kms-rotation", reason="Rotation waived until the HSM migration lands",
                        expires=dt.date.today() - dt.timedelta(days=1), resource=f"{_prefix(run)}-*")
    return with_policy(context, tenant.id, [*tenant.policy.exemptions, expired], dict(tenant.policy.settings))


def _unchanged(run: StackRun) -> None:
    """For mutations of the registry: the resources stay as they are."""


@dataclass(frozen=True)
class Mutation:
    rule: str
    needs: tuple[str, ...]
    apply: Callable[[StackRun], None]
    #: For a rule guarding the registry rather than the resources: the registry change.
    registry: Callable[[PolicyContext, StackRun], PolicyContext] | None = None

    def context(self, context: PolicyContext, run: StackRun) -> PolicyContext:
        """The policy context to evaluate the mutated ``run`` in."""
        return self.registry(context, run) if self.registry is not None else context


MUTATIONS: tuple[Mutation, ...] = (
    Mutation("lambda-env-allowed-names", (aws.FUNCTION,), lambda run: [v.update(EXTRA_SETTING="enabled") for v in _env(run)]),
    Mutation("lambda-env-no-business-values", (aws.FUNCTION,), lambda run: [v.update(LOG_LEVEL="30") for v in _env(run)]),
    Mutation("lambda-config-service-url", (aws.FUNCTION,), lambda run: [v.pop("CONFIG_SERVICE_URL", None) for v in _env(run)]),
    Mutation("config-read-own-namespace", (aws.FUNCTION, aws.ROLE, aws.ROLE_POLICY), _drop_config_reads),
    Mutation("ssm-path-hierarchy", (aws.PARAMETER,), _rename_parameters),
    Mutation("fallback-values", (aws.FUNCTION,), _drop_fallback),
    Mutation("apigw-method-authorizer", (aws.METHOD,), _open_methods),
    Mutation("lambda-url-auth", (aws.FUNCTION_URL,), lambda run: _each(run, aws.FUNCTION_URL, lambda p: p.update(authorizationType="NONE"))),
    Mutation("lambda-permission-source-arn", (aws.PERMISSION,), lambda run: _each(run, aws.PERMISSION, lambda p: p.pop("sourceArn", None))),
    Mutation("iam-no-wildcards", (aws.ROLE_POLICY,), lambda run: _add_statement(
        run, {"Effect": "Allow", "Action": "dynamodb:*", "Resource": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{_prefix(run)}-audit"},
    )),
    Mutation("tenant-roles-own-arns", (aws.ROLE_POLICY,), lambda run: _add_statement(
        run, {"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/platform-shared"},
    )),
    Mutation("dynamodb-tenant-cmk", (aws.TABLE,), lambda run: _each(run, aws.TABLE, lambda p: p.get("serverSideEncryption", {}).pop("kmsKeyArn", None))),
    Mutation("ssm-securestring-tenant-cmk", (aws.PARAMETER,), lambda run: _each(run, aws.PARAMETER, lambda p: p.update(keyId="alias/aws/ssm") if p.get("type") == "SecureString" else None)),
    Mutation("secretsmanager-cmk", (aws.SECRET,), lambda run: _each(run, aws.SECRET, lambda p: p.pop("kmsKeyId", None))),
    Mutation("sqs-encryption", (aws.QUEUE,), lambda run: _each(run, aws.QUEUE, lambda p: [p.pop(k, None) for k in ("kmsMasterKeyId", "sqsManagedSseEnabled")])),
    Mutation("sns-encryption", (aws.TOPIC,), lambda run: _each(run, aws.TOPIC, lambda p: p.pop("kmsMasterKeyId", None))),
    Mutation("logs-encryption", (aws.LOG_GROUP,), lambda run: _each(run, aws.LOG_GROUP, lambda p: p.pop("kmsKeyId", None))),
    Mutation("kms-rotation", (aws.KEY,), lambda run: _each(run, aws.KEY, lambda p: p.update(enableKeyRotation=False))),
    Mutation("apigw-domain-tls12", (aws.DOMAIN,), lambda run: _each(run, aws.DOMAIN, lambda p: p.update(securityPolicy="TLS_1_0"))),
    Mutation("s3-tls-only", (aws.BUCKET_V2, aws.BUCKET_POLICY), lambda run: _drop(run, lambda r: r.type == aws.BUCKET_POLICY)),
    Mutation("lambda-env-no-secrets", (aws.FUNCTION,), lambda run: [v.update(LOG_LEVEL="sk_live_4eC39HqLyjWDarjtT1zdp7dc") for v in _env(run)]),
    Mutation("ssm-no-plaintext-secrets", (aws.PARAMETER,), lambda run: _each(run, aws.PARAMETER, lambda p: p.update(type="String") if p.get("type") == "SecureString" else None)),
    Mutation("tenant-tag", (aws.TABLE,), lambda run: [r.wire_inputs.get("tags", {}).pop("tenant_id", None) for r in run.resources]),
    Mutation("tenant-name-prefix", (aws.TABLE,), _rename_one),
    Mutation("no-cross-tenant-references", (aws.TABLE,), _peer_reference),
    Mutation("kms-key-policy-tenant-principals", (aws.KEY,), _open_key_policy),
    Mutation("lambda-tracing-active", (aws.FUNCTION,), lambda run: _each(run, aws.FUNCTION, lambda p: p.update(tracingConfig={"mode": "PassThrough"}))),
    Mutation("apigw-stage-tracing", (aws.STAGE,), lambda run: _each(run, aws.STAGE, lambda p: p.update(xrayTracingEnabled=False))),
    Mutation("apigw-access-logging", (aws.STAGE,), lambda run: _each(run, aws.STAGE, lambda p: p.pop("accessLogSettings", None))),
    Mutation("lambda-log-group-retention", (aws.FUNCTION, aws.LOG_GROUP), lambda run: _each(run, aws.LOG_GROUP, lambda p: p.pop("retentionInDays", None))),
    Mutation("lambda-alarms", (aws.FUNCTION, aws.ALARM, aws.LOG_GROUP), lambda run: _each(run, aws.ALARM, lambda p: p.pop("alarmActions", None))),
    Mutation("log-retention-meets-data-retention", (aws.LOG_GROUP,), lambda run: _each(run, aws.LOG_GROUP, lambda p: p.update(retentionInDays=1))),
    Mutation("dynamodb-pitr", (aws.TABLE,), lambda run: _each(run, aws.TABLE, lambda p: p.update(pointInTimeRecovery={"enabled": False}))),
    Mutation("dynamodb-deletion-protection", (aws.TABLE,), lambda run: _each(run, aws.TABLE, lambda p: p.update(deletionProtectionEnabled=False))),
    Mutation("audit-store-per-tenant", (aws.TABLE,), lambda run: _drop(run, lambda r: r.type == aws.TABLE and r.name == f"{_prefix(run)}-audit")),
    Mutation("allowed-regions", (aws.AWS_PROVIDER,), lambda run: _each(run, aws.AWS_PROVIDER, lambda p: p.update(region="eu-west-1"))),
    Mutation("exemptions-current", (), _unchanged, registry=_expired_exemption),
)


def provider_ref(run: StackRun) -> str:
    """The provider reference the planned stack's AWS resources use."""
    return next(r.provider for r in run.resources if r.type.startswith("aws:") and r.provider)


def inject(run: StackRun, template: StackRun, types: tuple[str, ...]) -> bool:
    """When ``run`` has no resource of ``types[0]``, add ``template``'s resources of all of
    ``types`` (they belong together: a function with its role and policy). Same stack name,
    so their names fit. Returns whether anything was injected."""
    if not types or of_type(run, types[0]):
        return False
    reference = provider_ref(run)
    for r in of_type(template, *types):
        clone = copy.deepcopy(r)
        clone.provider = reference
        run.resources.append(clone)
    return True
