"""``ConfigurationClient``: a function's typed, cached, versioned view of its tenant config.

It reads three trees of the tenant's SSM namespace, each lazily and separately:

    global          /{tenant}/global/...                                (GlobalConfig)
    service         /{tenant}/services/{service}/{env}/...              (the service's schema)
    observability   /{tenant}/services/observability/{env}/technical/metrics

Reads go through Powertools Parameters (recursive, decrypted), cached for the service's
``technical.cache.max_age_seconds``; until SSM has answered once, that age comes from the
fallback document. Each tree is validated by its pydantic schema once per fetch, not per call.

``version`` is a digest of the tree's values (BLAKE2b over canonical JSON): identical values give
the same version across cold starts and across SSM re-writes of the same value, and a change
anywhere in the tree changes it. When the fallback is in use, ``version`` is the fallback
document's own version (``"fallback"``), so audit records show that fallback values were used.

When SSM cannot be reached, holds no parameters, or holds a value that fails validation, the
tree's values come from the fallback document instead, a ``ConfigurationError`` metric is
counted, and SSM is asked again once the cache age has passed.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Generic, Mapping, TypeVar

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from pydantic import BaseModel, ValidationError

from .aws_clients import botocore_config
from .config_schema import DependencyOutage, GlobalConfig, ObservabilityConfig, OperationalConfig, ServiceConfig
from .environment import FunctionEnvironment
from .errors import ConfigurationError, ConfigurationUnavailable
from .fallback import FallbackDocument, FallbackUnavailable, fallback_path
from .ssm_provider import DescribedSSMProvider, ParameterRecord

SOURCE_SSM = "ssm"
SOURCE_FALLBACK = "fallback"
OBSERVABILITY_SERVICE = "observability"
METRICS_ENTRY = "technical/metrics"

ModelT = TypeVar("ModelT", bound=BaseModel)
ServiceT = TypeVar("ServiceT", bound=ServiceConfig)


@dataclass(frozen=True)
class ConfigSnapshot(Generic[ModelT]):
    """One validated tree: the typed model, the raw values (read-only), their version and source."""

    model: ModelT
    values: Mapping[str, Any]
    version: str
    source: str


@dataclass(frozen=True)
class ConfigResult:
    """What ``get_config(path)`` returns: the values at ``path`` and the version of their tree."""

    values: Any
    version: str
    source: str


def config_version(values: Mapping[str, Any]) -> str:
    """The stable digest that versions a tree of values.

    >>> config_version({"a": 1, "b": [2]}) == config_version({"b": [2], "a": 1})
    True
    """
    canonical = json.dumps(values, sort_keys=True, separators=(",", ":"))
    return hashlib.blake2b(canonical.encode(), digest_size=10).hexdigest()


def freeze(value: Any) -> Any:
    """A read-only copy of decoded JSON: mappings become ``MappingProxyType``, lists tuples.

    The snapshot is shared by every request of the process, so no caller may change it.
    """
    if isinstance(value, Mapping):
        return MappingProxyType({key: freeze(item) for key, item in value.items()})
    if isinstance(value, list):
        return tuple(freeze(item) for item in value)
    return value


def nest(records: Mapping[str, ParameterRecord]) -> dict[str, Any]:
    """Turn ``{"business/pricing_models": <json text>}`` into ``{"business": {"pricing_models": {...}}}``."""
    tree: dict[str, Any] = {}
    for name, record in records.items():
        parts = [part for part in name.split("/") if part]
        node = tree
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ValueError(f"{name}: a parameter and a path share this name")
        node[parts[-1]] = json.loads(record.value)
    return tree


@dataclass
class _Loaded:
    snapshot: ConfigSnapshot[Any]
    raw: Any
    fallback_until: float | None


@dataclass(frozen=True)
class _Tree:
    """How one tree is fetched, checked and replaced by its fallback."""

    name: str
    schema: type[BaseModel]
    fetch: Callable[[int], Any]
    decode: Callable[[Any], dict[str, Any]]
    fallback: Callable[[FallbackDocument], Mapping[str, Any] | None]


class ConfigurationClient(Generic[ServiceT]):
    """Typed, cached, versioned config of one service in one environment of the function's tenant.

    ``tenant_id`` defaults to the tenant of ``CONFIG_SERVICE_URL``; ``fallback_file`` to
    ``$LAMBDA_TASK_ROOT/fallback.json``. ``provider`` and ``metrics`` may be passed in to share them.
    """

    def __init__(
        self,
        service: str,
        environment: str,
        *,
        schema: type[ServiceT] = ServiceConfig,  # type: ignore[assignment]
        tenant_id: str | None = None,
        fallback_file: Path | None = None,
        provider: DescribedSSMProvider | None = None,
        metrics: Metrics | None = None,
        logger: Logger | None = None,
    ) -> None:
        tenant = tenant_id or FunctionEnvironment.parse_config_url(os.environ.get("CONFIG_SERVICE_URL", ""))
        self.env = FunctionEnvironment(service=service, environment=environment, tenant_id=tenant)
        self.schema = schema
        self._metrics = metrics or Metrics(service=service)
        self._logger = logger or Logger(service=service)
        if fallback_file is None and os.environ.get("LAMBDA_TASK_ROOT"):
            fallback_file = fallback_path(Path(os.environ["LAMBDA_TASK_ROOT"]))
        self._fallback_file = fallback_file
        self._fallback = self._load_fallback()
        self.provider = provider or DescribedSSMProvider(boto3_client=boto3.client("ssm", config=botocore_config(self._bootstrap_operational())))
        self._loaded: dict[str, _Loaded] = {}
        self._trees = {
            "global": _Tree("global", GlobalConfig, self._fetch_path(self.env.global_namespace), nest, lambda doc: doc.global_config),
            "service": _Tree("service", schema, self._fetch_path(self.env.service_namespace), nest, lambda doc: doc.service_config),
            OBSERVABILITY_SERVICE: _Tree(
                OBSERVABILITY_SERVICE,
                ObservabilityConfig,
                self._fetch_one(f"{self.env.namespace_of(OBSERVABILITY_SERVICE)}/{METRICS_ENTRY}"),
                lambda record: nest({METRICS_ENTRY: record}),
                lambda doc: doc.observability,
            ),
        }

    # --- public API ------------------------------------------------------------------------------

    def get_config(self, path: str = "") -> ConfigResult:
        """The values at ``path`` and their version.

        ``path`` is relative to the service namespace (``business/pricing_models``,
        ``technical``) or, when it starts with ``global/``, to the tenant's global namespace
        (``global/compliance/data_retention``). An empty path returns the whole service tree.
        """
        parts = [part for part in path.split("/") if part]
        snapshot: ConfigSnapshot[Any]
        if parts and parts[0] == "global":
            snapshot, parts = self.global_config(), parts[1:]
        else:
            snapshot = self.service_config()
        node: Any = snapshot.values
        for part in parts:
            if not isinstance(node, Mapping) or part not in node:
                raise ConfigurationError(f"config entry {path!r} does not exist in the {snapshot.source} config")
            node = node[part]
        return ConfigResult(values=node, version=snapshot.version, source=snapshot.source)

    def service_config(self) -> ConfigSnapshot[ServiceT]:
        """The service tree, validated by the service's schema."""
        return self._load(self._trees["service"])

    def global_config(self) -> ConfigSnapshot[GlobalConfig]:
        """The tenant's global tree (security, compliance, operational)."""
        return self._load(self._trees["global"])

    def observability_config(self) -> ConfigSnapshot[ObservabilityConfig]:
        """The observability entries every function uses (the metrics namespace)."""
        return self._load(self._trees[OBSERVABILITY_SERVICE])

    def known_metrics_namespace(self) -> str | None:
        """The metrics namespace without any remote read: from the cache, else from the fallback."""
        loaded = self._loaded.get(OBSERVABILITY_SERVICE)
        if loaded is not None:
            return loaded.snapshot.model.technical.metrics.namespace
        if self._fallback is None or self._fallback.observability is None:
            return None
        try:
            return ObservabilityConfig.model_validate(self._fallback.observability).technical.metrics.namespace
        except ValidationError:
            return None

    @property
    def fallback_document(self) -> FallbackDocument | None:
        """The packaged fallback document, when there is a usable one."""
        return self._fallback

    def retry_after_seconds(self) -> int | None:
        """``global/operational/dependency_outage.retry_after_seconds``, for a 503's ``Retry-After``.

        From the global tree (SSM or its fallback); when neither loads now, from the global tree
        this process last loaded, else from the fallback's own entry alone (the rest of its global
        tree may be what is invalid); None when no config anywhere says.
        """
        try:
            return self.global_config().model.operational.dependency_outage.retry_after_seconds
        except ConfigurationError:
            pass
        last = self._loaded.get("global")
        if last is not None:
            return int(last.snapshot.model.operational.dependency_outage.retry_after_seconds)
        if self._fallback is None:
            return None
        try:
            entry = self._fallback.global_config["operational"]["dependency_outage"]
            return DependencyOutage.model_validate(entry).retry_after_seconds
        except (KeyError, TypeError, ValidationError):
            return None

    def clear_cache(self, *, reload_fallback: bool = True) -> None:
        """Forget every cached value and, unless told not to, re-read the fallback file."""
        self.provider.clear_cache()
        self._loaded.clear()
        if reload_fallback:
            self._fallback = self._load_fallback()

    # --- loading ---------------------------------------------------------------------------------

    def _load(self, tree: _Tree) -> ConfigSnapshot[Any]:
        loaded = self._loaded.get(tree.name)
        if loaded is not None and loaded.fallback_until is not None and time.monotonic() < loaded.fallback_until:
            return loaded.snapshot
        try:
            raw = tree.fetch(self._max_age())
        except GetParameterError as exc:
            return self._use_fallback(tree, f"config service unreachable or entry missing ({type(exc.__context__).__name__})")
        if loaded is not None and loaded.raw is raw:
            # Powertools served its cached object: this exact raw tree was validated already.
            return loaded.snapshot
        if not raw:
            return self._use_fallback(tree, "no parameters under the namespace")
        try:
            values = tree.decode(raw)
            model = tree.schema.model_validate(values)
        except ValidationError as exc:
            return self._use_fallback(tree, f"invalid values at {_error_locations(exc)}")
        except (ValueError, RecursionError) as exc:
            # RecursionError: a value nested deeper than json.loads recurses (SSM holds up to 8 KB).
            return self._use_fallback(tree, f"undecodable values ({exc.__class__.__name__})")
        snapshot = ConfigSnapshot(model=model, values=freeze(values), version=config_version(values), source=SOURCE_SSM)
        self._loaded[tree.name] = _Loaded(snapshot=snapshot, raw=raw, fallback_until=None)
        return snapshot

    def _use_fallback(self, tree: _Tree, reason: str) -> ConfigSnapshot[Any]:
        self._metrics.add_metric(name=ConfigurationError.metric, unit=MetricUnit.Count, value=1)
        # The reason names locations and error kinds only: values may be SecureString plaintext.
        self._logger.warning("config fallback", extra={"config_tree": tree.name, "reason": reason})
        document = self._fallback
        values = tree.fallback(document) if document is not None else None
        if document is None or values is None:
            raise ConfigurationUnavailable(f"{tree.name} config unavailable ({reason}) and the fallback document has none")
        try:
            model = tree.schema.model_validate(values)
        except ValidationError as exc:
            raise ConfigurationUnavailable(f"{tree.name} config unavailable ({reason}) and its fallback is invalid at {_error_locations(exc)}") from None
        snapshot = ConfigSnapshot(model=model, values=freeze(values), version=document.version, source=SOURCE_FALLBACK)
        self._loaded[tree.name] = _Loaded(snapshot=snapshot, raw=None, fallback_until=time.monotonic() + self._max_age())
        return snapshot

    def _max_age(self) -> int:
        """Cache age: from the service tree once read, else from the fallback, else no caching."""
        loaded = self._loaded.get("service")
        if loaded is not None:
            return int(loaded.snapshot.model.technical.cache.max_age_seconds)
        if self._fallback is not None:
            try:
                return int(self.schema.model_validate(self._fallback.service_config).technical.cache.max_age_seconds)
            except ValidationError:
                return 0
        return 0

    def _bootstrap_operational(self) -> OperationalConfig | None:
        """Timeouts and retries for the SSM client itself, before any config has been read."""
        if self._fallback is None:
            return None
        try:
            return GlobalConfig.model_validate(self._fallback.global_config).operational
        except ValidationError:
            return None

    def _fetch_path(self, path: str) -> Callable[[int], Any]:
        def fetch(max_age: int) -> Any:
            return self.provider.get_multiple(path, max_age=max_age, recursive=True, decrypt=True)

        return fetch

    def _fetch_one(self, name: str) -> Callable[[int], Any]:
        def fetch(max_age: int) -> Any:
            return self.provider.get(name, max_age=max_age, decrypt=True)

        return fetch

    def _load_fallback(self) -> FallbackDocument | None:
        if self._fallback_file is None:
            return None
        try:
            return FallbackDocument.load(self._fallback_file)
        except FallbackUnavailable as exc:
            self._logger.warning("no usable fallback config", extra={"reason": str(exc)})
            return None


def _error_locations(exc: ValidationError) -> str:
    return ", ".join(".".join(str(part) for part in error["loc"]) or "<root>" for error in exc.errors())
