"""Lambda entry point of the configuration service: ``configuration.handler.lambda_handler``.

Its one route, ``GET /config/{path+}``, is declared in ``configuration.routes``: it reads entries of
the caller's own tenant namespace.

The path is relative to the tenant root: ``/config/global/compliance`` lists the compliance
entries, ``/config/services/booking/dev/business/pricing_models`` returns one entry. SecureString
entries are redacted (see ``configuration.namespace_reader``). A path is bounded by SSM's own limits
(2,048 characters and 15 levels with the tenant root); every violation is a 400 with details.
While the parameter store is unreachable or throttling, the answer comes from the function's
fallback document where it holds the path (``"source": "fallback"``, sensitive entries redacted),
else it is a 503 with ``Retry-After``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from common.api import ApiFunction
from common.config_client import OBSERVABILITY_SERVICE
from common.dependencies import is_dependency_failure
from common.environment import FunctionEnvironment
from common.errors import ServiceUnavailable
from common.request_scope import RequestScope
from common.ssm_provider import DescribedSSMProvider

from .config_schema import ConfigurationConfig
from .namespace_reader import FallbackListing, NamespaceReader, checked_path
from .routes import PATH_PARAMETER, ROUTE_PREFIX, ROUTES

CODE_ROOT = Path(__file__).resolve().parent.parent


class ConfigReadApi:
    """The read endpoint over a non-decrypting reader of the function's own tenant root.

    While the parameter store is unreachable or throttling, a path inside a tree the function's
    fallback document holds is answered from it (``source: fallback``, sensitive entries
    redacted); any other path is a 503 with ``Retry-After``.
    """

    def __init__(self, function: ApiFunction[ConfigurationConfig]) -> None:
        # A provider of its own (sharing the SSM client): see NamespaceReader on why.
        provider = DescribedSSMProvider(boto3_client=function.config.provider.client)
        self._reader = NamespaceReader(provider, function.env.config_root)
        self._function = function

    def read(self, scope: RequestScope[ConfigurationConfig]) -> tuple[dict[str, Any], int]:
        path = checked_path(requested_path(scope.event), self._reader.root)
        scope.resource_id = path
        try:
            listing = self._reader.read(path, max_age=scope.config.technical.cache.max_age_seconds)
        except Exception as exc:
            if not is_dependency_failure(exc):
                raise
            document = self._function.config.fallback_document
            fallback = FallbackListing(document, self._function.env, OBSERVABILITY_SERVICE) if document is not None else None
            listing = fallback.listing(path, scope.config.technical.fallback.sensitive_entries) if fallback is not None else None
            if listing is None:
                raise ServiceUnavailable("the config store is unavailable and the fallback holds nothing for this path") from exc
            # Answered, but from the fallback: the outage is counted as a 503 would be.
            self._function.obs.count(ServiceUnavailable.metric)
            self._function.logger.warning("config store unavailable; answered from the fallback", extra={"error_type": type(exc).__name__})
        return listing.as_dict(), 200


def requested_path(event: Mapping[str, Any]) -> str:
    """The ``{path+}`` of ``/config/{path+}``: the path parameter, else the request path after the prefix.

    The path parameter is preferred: the request path also carries any custom-domain base path.
    """
    parameters = event.get("pathParameters") or {}
    if isinstance(parameters.get(PATH_PARAMETER), str):
        return str(parameters[PATH_PARAMETER])
    path = str(event.get("path", ""))
    return path[len(ROUTE_PREFIX) :] if path.startswith(ROUTE_PREFIX) else ""


def build(env: FunctionEnvironment, code_root: Path = CODE_ROOT) -> ApiFunction[ConfigurationConfig]:
    """The config read API function for ``env``."""
    function = ApiFunction(env, ConfigurationConfig, code_root=code_root)
    api = ConfigReadApi(function)
    function.add_routes(ROUTES, {"read": api.read})
    return function


function = build(FunctionEnvironment.from_os())
lambda_handler = function.lambda_handler
