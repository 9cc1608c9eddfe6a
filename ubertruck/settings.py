"""A tenant stack's effective settings: the registry file merged over the platform defaults.

Merge order (later wins; mappings merge key by key, lists and scalars replace):

1. ``defaults.yaml`` ``tenant_config``
2. ``defaults.yaml`` ``environments.<env>.tenant_config``
3. the tenant's ``config``
4. the tenant's ``config.environments.<env>``

The merged tree is checked against the services' config schemas (``ubertruck.contracts``):
``config_problems`` lists what is wrong with a tree, and ``TenantSettings.service_config`` /
``global_config`` hand components the validated, typed models.

>>> from ubertruck import PROJECT_ROOT
>>> from ubertruck.contracts import auth_schema, booking_schema
>>> from ubertruck.registry.loader import load_tenant
>>> s = tenant_settings(load_tenant(PROJECT_ROOT / "tenants" / "acme.yaml"), "prod")
>>> s.service_config("booking", booking_schema.BookingConfig).business.pricing_models.currency
'INR'
>>> s.service_config("auth", auth_schema.AuthConfig).technical.user_pool.tier
'ESSENTIALS'
"""

from __future__ import annotations

import copy
import fnmatch
import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Iterable, Mapping, Sequence, TypeVar

from pydantic import BaseModel, ValidationError

from .defaults import EnvironmentSettings, PlatformDefaults, TierSettings, load_defaults
from .errors import UserError, UserErrors, type_mismatch
from .registry.model import ConfigOverrides, Tenant
from .contracts import FUNCTIONS_DIR, PUBLISHED_ENTRY, SCHEMA_MODULE, GlobalConfig, ServiceContract, common_schema, registry_schema_for, schema_for

GLOBAL_SECTIONS = ("security", "compliance", "operational")
SERVICE_SECTIONS = ("business", "technical", "integration")
#: The top-level keys of a config tree: the global sections, and the services.
GLOBAL_KEY, SERVICES_KEY = "global", "services"
#: The service whose metrics entry every function reads (a fallback document carries its tree).
OBSERVABILITY = "observability"

ModelT = TypeVar("ModelT", bound=BaseModel)

#: Error kinds whose pydantic message never holds the value; any other message (a validator's
#: own words) may, so for a sensitive entry it is replaced by a neutral line.
_VALUE_FREE_KINDS = frozenset(
    {"missing", "extra_forbidden", "int_type", "float_type", "bool_type", "string_type", "list_type", "dict_type",
     "model_type", "model_attributes_type", "greater_than", "greater_than_equal", "less_than", "less_than_equal",
     "too_short", "too_long", "string_too_short", "string_too_long", "string_pattern_mismatch", "literal_error",
     "int_from_float", "finite_number"}
)


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong with a config tree: where (keys from the tree's root) and what, on one line."""

    loc: tuple[str, ...]
    problem: str

    @property
    def dotted(self) -> str:
        return ".".join(self.loc)


def schema_file(loc: Sequence[str]) -> str:
    """The file that defines the entry at ``loc`` of a config tree (for error lines)."""
    if len(loc) > 1 and loc[0] == SERVICES_KEY and (FUNCTIONS_DIR / loc[1] / f"{SCHEMA_MODULE}.py").is_file():
        return f"functions/{loc[1]}/{SCHEMA_MODULE}.py"
    return f"functions/common/{SCHEMA_MODULE}.py"


def describe_config_error(error: Mapping[str, Any], sensitive: bool, defined_in: str = "the service's config schema") -> str:
    """One line for one pydantic error of a config tree; the value is never part of it."""
    kind = str(error["type"])
    if kind == "extra_forbidden":
        return f"unknown entry; remove it or check its spelling against {defined_in}"
    if kind == "missing":
        return "required entry is missing"
    mismatch = type_mismatch(kind, error.get("input"))
    if mismatch:
        return mismatch
    if sensitive and kind not in _VALUE_FREE_KINDS:
        # A validator's message may quote the value, and this entry is stored as a SecureString.
        return "invalid value (not shown: the entry is sensitive config); see the service's config schema"
    return str(error["msg"]).removeprefix("Value error, ")


def ssm_relative_path(loc: Sequence[str], environment: str) -> str:
    """The SSM path, below the tenant, of the entry at ``loc`` of a config tree (what
    ``platform.sensitive_config`` globs are written against)."""
    if loc and loc[0] == SERVICES_KEY and len(loc) > 1:
        return "/".join([SERVICES_KEY, loc[1], environment, *loc[2:]])
    return "/".join(loc)


def _is_sensitive(loc: Sequence[str], environment: str, patterns: Iterable[str]) -> bool:
    # Sensitive globs name an entry (section/name); everything below one is sensitive too.
    parts = ssm_relative_path(loc, environment).split("/")
    prefixes = ["/".join(parts[:end]) for end in range(1, len(parts) + 1)]
    return any(fnmatch.fnmatchcase(prefix, pattern) for prefix in prefixes for pattern in patterns)


def _problems(
    schema: type[BaseModel], tree: Any, base: tuple[str, ...], environment: str, sensitive: Sequence[str], shown_as: tuple[str, ...] | None = None
) -> list[ConfigProblem]:
    """``tree`` (the part of a config tree at ``base``) against ``schema``; each problem's
    location starts with ``shown_as`` (default ``base``): a fallback document holds the
    service's tree under another key."""
    try:
        schema.model_validate(tree)
    except ValidationError as exc:
        found = []
        for error in exc.errors():
            rest = tuple(str(part) for part in error["loc"])
            sensitive_entry = _is_sensitive((*base, *rest), environment, sensitive)
            if error["type"] == "extra_forbidden" and rest[-2:] == ("integration", PUBLISHED_ENTRY):
                problem = "published by the infrastructure (the resources it made for the service); the config never sets it"
            else:
                problem = describe_config_error(error, sensitive_entry, schema_file(base))
            found.append(ConfigProblem((*(shown_as or base), *rest), problem))
        return found
    return []


def config_problems(tree: Mapping[str, Any], services: Sequence[str], environment: str, sensitive: Sequence[str]) -> list[ConfigProblem]:
    """Everything wrong with a merged registry tree (no published resources yet) for
    ``environment``, against the global schema and each of ``services``' contracts."""
    found: list[ConfigProblem] = []
    unknown = sorted(set(tree) - {GLOBAL_KEY, SERVICES_KEY})
    found += [ConfigProblem((key,), "unknown entry; a config tree holds only 'global' and 'services'") for key in unknown]
    found += _problems(GlobalConfig, tree.get(GLOBAL_KEY, {}), (GLOBAL_KEY,), environment, sensitive)
    trees = tree.get(SERVICES_KEY, {})
    for service in services:
        found += _problems(registry_schema_for(service), trees.get(service, {}), (SERVICES_KEY, service), environment, sensitive)
    return found


def complete_tree(tree: dict[str, Any], services: Sequence[str]) -> dict[str, Any]:
    """``tree`` with every declared section present (empty when nobody set it), so it can be
    published and validated section by section. Changes ``tree`` and returns it."""
    tree.setdefault(GLOBAL_KEY, {})
    for section in GLOBAL_SECTIONS:
        tree[GLOBAL_KEY].setdefault(section, {})
    trees = tree.setdefault(SERVICES_KEY, {})
    for service in services:
        for section in SERVICE_SECTIONS:
            trees.setdefault(service, {}).setdefault(section, {})
    return tree


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``override`` over ``base``: mappings recursively, everything else replaced."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _overrides_as_tree(layer: ConfigOverrides) -> dict[str, Any]:
    return layer.model_dump(by_alias=True, exclude={"environments"}, exclude_unset=True)


@dataclass(frozen=True)
class ConfigParameter:
    """One SSM parameter of the tenant's config namespace."""

    path: str
    value: str
    secure: bool
    section: str


@dataclass(frozen=True)
class TenantSettings:
    """Everything a tenant stack needs, resolved once."""

    tenant: Tenant
    environment: str
    defaults: PlatformDefaults
    config: dict[str, Any]
    #: The registry file the tenant came from, for error messages that name it.
    registry_file: str = ""

    @property
    def source(self) -> str:
        return self.registry_file or f"tenants/{self.tenant.id}.yaml"

    @property
    def tenant_id(self) -> str:
        return self.tenant.id

    @property
    def prefix(self) -> str:
        """Every resource name of the stack starts with this."""
        return f"{self.tenant.id}-{self.environment}"

    @property
    def region(self) -> str:
        return self.tenant.region

    @property
    def env(self) -> EnvironmentSettings:
        return self.defaults.environments[self.environment]

    @property
    def tier(self) -> TierSettings:
        return self.defaults.tiers[self.tenant.tier]

    @property
    def log_retention_days(self) -> int:
        return self.defaults.log_retention_for(self.tenant.compliance.data_retention_days)

    @property
    def tags(self) -> dict[str, str]:
        return {
            self.defaults.platform.tenant_tag: self.tenant.id,
            "environment": self.environment,
            "platform": self.defaults.platform.project,
        }

    def global_section(self, section: str) -> dict[str, Any]:
        return self.config["global"][section]

    def service(self, name: str) -> dict[str, Any]:
        """The merged business/technical/integration sections of one service."""
        return self.config["services"][name]

    def technical(self, service: str, name: str) -> dict[str, Any]:
        return self.service(service)["technical"][name]

    # --- the typed view (components read these, never the raw tree) ----------------------------

    def _invalid(self, problems: list[ConfigProblem]) -> UserErrors:
        # Registry validation refuses such a tree first; this is for trees built some other way.
        return UserErrors([UserError(f"{self.source}: config.{p.dotted} ({self.environment})", p.problem) for p in problems])

    @cached_property
    def _service_models(self) -> dict[str, BaseModel]:
        models: dict[str, BaseModel] = {}
        problems: list[ConfigProblem] = []
        sensitive = self.defaults.platform.sensitive_config
        for service in self.defaults.platform.services:
            schema = registry_schema_for(service)
            found = _problems(schema, self.service(service), (SERVICES_KEY, service), self.environment, sensitive)
            if found:
                problems += found
            else:
                models[service] = schema.model_validate(self.service(service))
        if problems:
            raise self._invalid(problems)
        return models

    @cached_property
    def global_config(self) -> common_schema.GlobalConfig:
        """The validated ``global`` tree (security, compliance, operational)."""
        tree = self.config[GLOBAL_KEY]
        problems = _problems(GlobalConfig, tree, (GLOBAL_KEY,), self.environment, self.defaults.platform.sensitive_config)
        if problems:
            raise self._invalid(problems)
        return GlobalConfig.model_validate(tree)

    def service_config(self, service: str, schema: type[ModelT] = ServiceContract) -> ModelT:  # type: ignore[assignment]
        """The validated tree of ``service``, as its contract ``schema`` (without the published
        ``integration.resources``, which only exist once the infrastructure has made them).
        """
        model = self._service_models[service]
        if not isinstance(model, schema):
            raise TypeError(f"service {service!r} is validated by {type(model).__name__}, not {schema.__name__}")
        return model

    def config_namespace(self) -> str:
        return f"/{self.tenant.id}"

    def service_namespace(self, service: str) -> str:
        return f"/{self.tenant.id}/services/{service}/{self.environment}"

    def parameters(self) -> list[ConfigParameter]:
        """The tenant's SSM hierarchy for this environment, one parameter per named entry."""
        params: list[ConfigParameter] = []
        patterns = self.defaults.platform.sensitive_config
        for section in GLOBAL_SECTIONS:
            for name, value in sorted(self.global_section(section).items()):
                rel = f"global/{section}/{name}"
                params.append(self._param(rel, value, patterns, f"global/{section}"))
        for service in self.defaults.platform.services:
            for section in SERVICE_SECTIONS:
                for name, value in sorted(self.service(service)[section].items()):
                    rel = f"services/{service}/{self.environment}/{section}/{name}"
                    params.append(self._param(rel, value, patterns, f"services/{service}/{section}"))
        return params

    def _param(self, rel: str, value: Any, patterns: list[str], section: str) -> ConfigParameter:
        secure = any(fnmatch.fnmatchcase(rel, p) for p in patterns)
        text = json.dumps(value, sort_keys=True, separators=(",", ":"))
        return ConfigParameter(path=f"/{self.tenant.id}/{rel}", value=text, secure=secure, section=section)

    def fallback_document(self, service: str, resources: Mapping[str, str] | None = None) -> dict[str, Any]:
        """The values a function of ``service`` falls back to when the config service is down,
        with the service's published ``resources`` (``integration.resources``) when given.

        The document is validated against the service's contract, the schema its function
        validates it with (without ``integration.resources`` when none are given: a function made
        before its service's resources, such as the pool's pre token trigger, reads none), and a
        ``UserErrors`` names what is wrong, so a function is never packaged with a fallback it
        would refuse. A deep copy: nothing a caller does to it reaches the settings that
        ``parameters()`` reads."""
        document = copy.deepcopy({
            "service": service,
            "environment": self.environment,
            "tenant_id": self.tenant.id,
            "version": "fallback",
            "global": self.config[GLOBAL_KEY],
            "service_config": self.service(service),
            # Every function reads its metrics namespace and dimensions from here.
            OBSERVABILITY: self.service(OBSERVABILITY),
        })
        if resources is not None:
            document["service_config"]["integration"][PUBLISHED_ENTRY] = dict(resources)
        problems = self.fallback_problems(service, document, published=resources is not None)
        if problems:
            raise UserErrors([UserError(f"{self.source}: fallback.json of {service} ({self.environment}): {p.dotted}", p.problem) for p in problems])
        return document

    def fallback_problems(self, service: str, document: Mapping[str, Any], published: bool = True) -> list[ConfigProblem]:
        """What the function of ``service`` would refuse in fallback ``document``: its global
        and service trees against the schemas the function validates them with (the service's
        without ``integration.resources`` unless ``published``)."""
        sensitive = self.defaults.platform.sensitive_config
        schema = schema_for(service) if published else registry_schema_for(service)
        return [
            *_problems(GlobalConfig, document.get(GLOBAL_KEY), (GLOBAL_KEY,), self.environment, sensitive),
            *_problems(schema, document.get("service_config"), (SERVICES_KEY, service), self.environment, sensitive, ("service_config",)),
            *_problems(schema_for(OBSERVABILITY), document.get(OBSERVABILITY), (SERVICES_KEY, OBSERVABILITY), self.environment, sensitive, (OBSERVABILITY,)),
        ]


def merged_config(tenant: Tenant, environment: str, defaults: PlatformDefaults) -> dict[str, Any]:
    """The tenant's whole config tree for ``environment`` (see module docs for the order)."""
    tree = deep_merge(defaults.tenant_config, defaults.environments[environment].tenant_config)
    tree = deep_merge(tree, _overrides_as_tree(tenant.config))
    env_layer = tenant.config.environments.get(environment)
    if env_layer is not None:
        tree = deep_merge(tree, _overrides_as_tree(env_layer))
    # Every declared section exists, so components can index without guessing.
    complete_tree(tree, defaults.platform.services)
    # The registry's compliance block is the source of truth for retention.
    tree["global"]["compliance"]["data_retention"] = {"days": tenant.compliance.data_retention_days}
    return tree


def default_service_config(defaults: PlatformDefaults, environment: str, service: str, schema: type[ModelT]) -> ModelT:
    """``service``'s config as the platform defaults set it for ``environment`` (no tenant's
    choices), validated: for shared stacks, which serve every tenant of the environment."""
    tree = complete_tree(deep_merge(defaults.tenant_config, defaults.environments[environment].tenant_config), defaults.platform.services)
    model = registry_schema_for(service).model_validate(tree[SERVICES_KEY][service])
    if not isinstance(model, schema):
        raise TypeError(f"service {service!r} is validated by {type(model).__name__}, not {schema.__name__}")
    return model


def tenant_settings(tenant: Tenant, environment: str, defaults: PlatformDefaults | None = None, registry_file: str = "") -> TenantSettings:
    """Resolve ``tenant`` in ``environment``."""
    defaults = defaults or load_defaults()
    config = merged_config(tenant, environment, defaults)
    return TenantSettings(tenant=tenant, environment=environment, defaults=defaults, config=config, registry_file=registry_file)
