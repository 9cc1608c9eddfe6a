"""Each policy's config for one stack, merged the way the engine merges it.

Order (later wins, per property):

1. the policy's schema defaults (``GetAnalyzerInfo``; read from defaults.yaml by the pack);
2. the pack's initial config (``GetAnalyzerInfo``);
3. what the registry says about this stack's tenant: its allowed regions, data retention,
   TLS minimum, the other tenants' ids (the "pack config platformctl sends");
4. the pack config file (``--policy-pack-config``: ``{"all": level, "<policy>": {...}}``);
5. the tenant's registry ``policy.settings.<policy>`` (for example a stricter retention).

Exemptions are not overridden but collected: those of the pack config file and those of the
tenant's registry ``policy.exemptions``, each tagged with where it came from. A policy with an
``exemptions_in_force`` parameter (the governance rule ``exemptions-current``) receives every
exemption that applies to the stack, across all policies of all packs, so it can report the
expired ones even when they suppress nothing.

:func:`stack_policy_configs` is the one entry point: ``platformctl plan`` sends its result in
``Configure``, and ``platformctl policy config`` writes it as ``--policy-pack-config`` files.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import jsonschema
from google.protobuf import json_format
from pulumi.runtime.proto import analyzer_pb2

from ubertruck.defaults import PlatformDefaults
from ubertruck.errors import UserError
from ubertruck.registry.model import Tenant
from ubertruck.settings import tenant_settings

LEVELS = {
    analyzer_pb2.ADVISORY: "advisory",
    analyzer_pb2.MANDATORY: "mandatory",
    analyzer_pb2.DISABLED: "disabled",
    analyzer_pb2.REMEDIATE: "remediate",
}
LEVEL_VALUES = {name: value for value, name in LEVELS.items()}
SEVERITIES = {
    analyzer_pb2.POLICY_SEVERITY_UNSPECIFIED: "",
    analyzer_pb2.POLICY_SEVERITY_LOW: "low",
    analyzer_pb2.POLICY_SEVERITY_MEDIUM: "medium",
    analyzer_pb2.POLICY_SEVERITY_HIGH: "high",
    analyzer_pb2.POLICY_SEVERITY_CRITICAL: "critical",
}


@dataclass(frozen=True)
class PolicyMeta:
    """One policy as its pack describes it (``GetAnalyzerInfo``)."""

    name: str
    description: str
    enforcement: str
    severity: str
    remediation: str
    tags: tuple[str, ...]
    schema: Mapping[str, Any]
    required: tuple[str, ...]
    stack_policy: bool

    def defaults(self) -> dict[str, Any]:
        return {k: v["default"] for k, v in self.schema.items() if isinstance(v, Mapping) and "default" in v}


@dataclass(frozen=True)
class PackInfo:
    name: str
    version: str
    description: str
    policies: tuple[PolicyMeta, ...]
    initial_config: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_proto(cls, info: analyzer_pb2.AnalyzerInfo) -> "PackInfo":
        policies = tuple(
            PolicyMeta(
                name=p.name,
                description=p.description,
                enforcement=LEVELS[p.enforcementLevel],
                severity=SEVERITIES.get(p.severity, ""),
                remediation=p.remediation_steps,
                tags=tuple(p.tags),
                schema=json_format.MessageToDict(p.configSchema.properties),
                required=tuple(p.configSchema.required),
                stack_policy=p.policy_type == analyzer_pb2.POLICY_TYPE_STACK,
            )
            for p in info.policies
        )
        # Only the properties of the initial config are taken: on the wire an unset level and
        # "advisory" are the same value, so a level there cannot be told apart from none.
        initial = {name: json_format.MessageToDict(cfg.properties) for name, cfg in info.initialConfig.items()}
        return cls(name=info.name, version=info.version, description=info.description, policies=policies, initial_config=initial)

    def policy(self, name: str) -> PolicyMeta | None:
        return next((p for p in self.policies if p.name == name), None)


@dataclass(frozen=True)
class StackTarget:
    """The stack being checked: its name and environment, and its tenant (None when shared)."""

    stack: str
    environment: str
    tenant: Tenant | None = None


def registry_parameters(target: StackTarget, tenants: Mapping[str, Tenant], defaults: PlatformDefaults) -> dict[str, Any]:
    """Parameter values the registry fixes for this stack (by parameter name)."""
    params: dict[str, Any] = {"environments": list(defaults.platform.environments)}
    tenant = target.tenant
    if tenant is None:
        return params
    settings = tenant_settings(tenant, target.environment, defaults)
    params.update(
        allowed_regions=list(tenant.compliance.residency.allowed_regions),
        data_retention_days=tenant.compliance.data_retention_days,
        other_tenant_ids=sorted(t for t in tenants if t != tenant.id),
        tls_minimum_version=settings.global_section("security")["encryption_settings"]["tls_minimum_version"],
    )
    return params


#: Parameters that are collected by the driver, never set by a pack config file or a registry
#: setting: a rule's own exemptions, and the governance rule's list of all of them.
EXEMPTIONS = "exemptions"
IN_FORCE = "exemptions_in_force"
COLLECTED = (EXEMPTIONS, IN_FORCE)


def _registry_exemptions(tenant: Tenant | None, environment: str, source: str) -> list[dict[str, Any]]:
    """The tenant's registry exemptions that apply to ``environment``, each naming its policy."""
    if tenant is None:
        return []
    return [
        {"policy": e.policy, "resource": e.resource, "reason": e.reason, "expires": e.expires.isoformat(), "environments": e.environments, "source": source}
        for e in tenant.policy.exemptions
        if e.environments is None or environment in e.environments
    ]


def _exemptions_of(tenant: Tenant | None, environment: str, source: str) -> dict[str, list[dict[str, Any]]]:
    by_policy: dict[str, list[dict[str, Any]]] = {}
    for entry in _registry_exemptions(tenant, environment, source):
        by_policy.setdefault(entry["policy"], []).append({k: v for k, v in entry.items() if k != "policy"})
    return by_policy


def _pack_config_exemptions(pack_config: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The exemptions a pack config file declares, each naming its policy."""
    return [
        {"policy": name, "source": "pack config", **e}
        for name, own in pack_config.items()
        if isinstance(own, Mapping)
        for e in own.get(EXEMPTIONS, [])
    ]


def check_pack_config(packs: Sequence[PackInfo], pack_config: Mapping[str, Any]) -> None:
    """Every pack and policy a pack config names exists (a misspelt name would otherwise be
    ignored, and with it the setting or exemption it carries), and no collected parameter is
    set by hand."""
    by_name = {pack.name: pack for pack in packs}
    for pack_name, config in pack_config.items():
        pack = by_name.get(pack_name)
        if pack is None:
            raise UserError(f"policy pack config '{pack_name}'", f"unknown policy pack; expected one of {sorted(by_name)}")
        if not isinstance(config, Mapping):
            raise UserError(f"policy pack config '{pack_name}'", "expected an object of policy names")
        for name, own in config.items():
            if name != "all" and pack.policy(name) is None:
                raise UserError(f"policy pack config {pack_name}/{name}", f"unknown policy; expected 'all' or one of {sorted(p.name for p in pack.policies)}")
            if isinstance(own, Mapping) and IN_FORCE in own:
                raise UserError(f"policy pack config {pack_name}/{name}.{IN_FORCE}", "is collected from every policy's exemptions; declare each exemption under the policy it exempts from")


def check_registry_references(tenant: Tenant, packs: Sequence[PackInfo], source: str) -> None:
    """Every policy a tenant's registry file names exists, and its settings are parameters of
    that policy. Enforcement levels cannot be lowered from a registry file (that is what
    exemptions, with a reason and an expiry, are for)."""
    known = {p.name: p for pack in packs for p in pack.policies}
    for i, exemption in enumerate(tenant.policy.exemptions):
        if exemption.policy not in known:
            raise UserError(f"{source}: policy.exemptions.{i}.policy", f"unknown policy '{exemption.policy}'; expected one of {sorted(known)}")
        if EXEMPTIONS not in known[exemption.policy].schema:
            raise UserError(f"{source}: policy.exemptions.{i}.policy", f"'{exemption.policy}' cannot be exempted")
    for name, settings in tenant.policy.settings.items():
        meta = known.get(name)
        if meta is None:
            raise UserError(f"{source}: policy.settings.{name}", f"unknown policy; expected one of {sorted(known)}")
        for key in settings:
            if key == "enforcementLevel":
                raise UserError(f"{source}: policy.settings.{name}.enforcementLevel", "cannot be set per tenant; add an exemption with a reason and expiry instead")
            if key in COLLECTED or key not in meta.schema:
                raise UserError(f"{source}: policy.settings.{name}.{key}", f"not a parameter of '{name}'; expected one of {sorted(k for k in meta.schema if k not in COLLECTED)}")


def policy_configs(
    pack: PackInfo,
    target: StackTarget,
    registry_params: Mapping[str, Any],
    pack_config: Mapping[str, Any],
    registry_source: str,
) -> dict[str, dict[str, Any]]:
    """``{policy: {"enforcementLevel": level, **properties}}`` for every policy of ``pack``."""
    tenant = target.tenant
    registry_exemptions = _exemptions_of(tenant, target.environment, registry_source)
    all_level = pack_config.get("all")
    result: dict[str, dict[str, Any]] = {}
    for meta in pack.policies:
        config: dict[str, Any] = {"enforcementLevel": meta.enforcement, **meta.defaults()}
        config.update(pack.initial_config.get(meta.name, {}))
        config.update({k: v for k, v in registry_params.items() if k in meta.schema})
        if isinstance(all_level, str):
            config["enforcementLevel"] = all_level
        elif isinstance(all_level, Mapping) and "enforcementLevel" in all_level:
            config["enforcementLevel"] = all_level["enforcementLevel"]
        own = pack_config.get(meta.name)
        file_exemptions: list[dict[str, Any]] = []
        if isinstance(own, str):
            config["enforcementLevel"] = own
        elif isinstance(own, Mapping):
            file_exemptions = [{"source": "pack config", **e} for e in own.get(EXEMPTIONS, [])]
            config.update({k: v for k, v in own.items() if k not in COLLECTED})
        if tenant is not None:
            config.update(tenant.policy.settings.get(meta.name, {}))
        if EXEMPTIONS in meta.schema or file_exemptions:
            # A rule without the parameter cannot be exempted; _validate refuses file exemptions for it.
            config[EXEMPTIONS] = file_exemptions + registry_exemptions.get(meta.name, [])
        _validate(meta, config, pack.name)
        result[meta.name] = config
    return result


def stack_policy_configs(
    packs: Sequence[PackInfo],
    target: StackTarget,
    tenants: Mapping[str, Tenant],
    defaults: PlatformDefaults,
    pack_config: Mapping[str, Mapping[str, Any]],
    registry_source: str,
) -> dict[str, dict[str, dict[str, Any]]]:
    """``{pack name: {policy: config}}`` for one stack: what ``Configure`` carries offline, and
    what a ``--policy-pack-config`` file must hold for ``pulumi preview`` to see the same.

    ``pack_config`` is the pack config of every pack, by pack name.
    """
    check_pack_config(packs, pack_config)
    params = registry_parameters(target, tenants, defaults)
    in_force = _registry_exemptions(target.tenant, target.environment, registry_source)
    for pack in packs:
        in_force += _pack_config_exemptions(pack_config.get(pack.name, {}))
    params[IN_FORCE] = in_force
    return {pack.name: policy_configs(pack, target, params, pack_config.get(pack.name, {}), registry_source) for pack in packs}


_VALIDATORS: dict[tuple[str, str], Any] = {}


def _validator(pack: str, meta: PolicyMeta) -> Any:
    """The policy's schema validator, built once per pack process lifetime (they are slow to build)."""
    key = (pack, meta.name)
    if key not in _VALIDATORS:
        schema = {"type": "object", "properties": dict(meta.schema), "required": list(meta.required)}
        _VALIDATORS[key] = jsonschema.Draft7Validator(schema)
    return _VALIDATORS[key]


def _validate(meta: PolicyMeta, config: Mapping[str, Any], pack: str) -> None:
    level = config.get("enforcementLevel")
    if level not in LEVEL_VALUES:
        raise UserError(f"policy config {pack}/{meta.name}.enforcementLevel", f"expected one of {sorted(LEVEL_VALUES)}")
    properties = {k: v for k, v in config.items() if k != "enforcementLevel"}
    unknown = sorted(set(properties) - set(meta.schema))
    if unknown:
        raise UserError(f"policy config {pack}/{meta.name}", f"unknown parameter(s) {unknown}; expected some of {sorted(meta.schema)}")
    error = jsonschema.exceptions.best_match(_validator(pack, meta).iter_errors(properties))
    if error is not None:
        where = ".".join(str(p) for p in error.absolute_path)
        raise UserError(f"policy config {pack}/{meta.name}.{where}", error.message)
    for i, exemption in enumerate(properties.get("exemptions", [])):
        try:
            dt.date.fromisoformat(str(exemption["expires"]))
        except ValueError:
            raise UserError(f"policy config {pack}/{meta.name}.exemptions.{i}.expires", "expected a date YYYY-MM-DD") from None


def configure_request(configs: Mapping[str, Mapping[str, Any]]) -> analyzer_pb2.ConfigureAnalyzerRequest:
    request = analyzer_pb2.ConfigureAnalyzerRequest()
    for name, config in configs.items():
        entry = request.policyConfig[name]
        entry.enforcementLevel = LEVEL_VALUES[config["enforcementLevel"]]
        entry.properties.update({k: v for k, v in config.items() if k != "enforcementLevel"})
    return request
