"""Lambda entry point of the configuration service: ``configuration.handler.lambda_handler``.

Its one route, ``GET /config/{path+}``, is declared in ``configuration.routes``: it reads entries of
the caller's own tenant namespace.

The path is relative to the tenant root: ``/config/global/compliance`` lists the compliance
entries, ``/config/services/booking/dev/business/pricing_models`` returns one entry. SecureString
entries are redacted (see ``configuration.namespace_reader``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from common.api import ApiFunction
from common.environment import FunctionEnvironment
from common.request_scope import RequestScope
from common.ssm_provider import DescribedSSMProvider

from .config_schema import ConfigurationConfig
from .namespace_reader import NamespaceReader
from .routes import PATH_PARAMETER, ROUTE_PREFIX, ROUTES

CODE_ROOT = Path(__file__).resolve().parent.parent


class ConfigReadApi:
    """The read endpoint over a non-decrypting reader of the function's own tenant root."""

    def __init__(self, function: ApiFunction[ConfigurationConfig]) -> None:
        # A provider of its own (sharing the SSM client): see NamespaceReader on why.
        provider = DescribedSSMProvider(boto3_client=function.config.provider.client)
        self._reader = NamespaceReader(provider, function.env.config_root)

    def read(self, scope: RequestScope[ConfigurationConfig]) -> tuple[dict[str, Any], int]:
        path = requested_path(scope.event)
        scope.resource_id = path
        listing = self._reader.read(path, max_age=scope.config.technical.cache.max_age_seconds)
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
