"""The function template for API Gateway REST functions: routes, tenant, authorization, errors, audit.

Per request, in this order:

1. the tenant context is taken from the authorizer context and must name the function's own
   tenant; otherwise 403 at once, with nothing read or written (no config, no tables, no audit);
2. the route runs: its operation is annotated on the trace, the global and service config are
   loaded, the caller's roles must grant the operation, the body must be within
   ``global/operational/request_limits`` (size, then nesting depth by a linear scan), then the
   endpoint is called with the request scope; an endpoint of a per-object route must check the
   caller against the object (``common.access.check_access``) before it answers;
3. errors become the standard responses (``common.errors``, shaped as ``ErrorResponse``), each
   counted as a metric. A dependency that throttles, fails or cannot be reached (botocore
   throttling, 5xx, connection and timeout errors) and config that cannot be loaded at all answer
   503 with ``Retry-After`` (``global/operational/dependency_outage``); a 500 is a bug;
4. one audit record is written for the operation, whatever its outcome.

Endpoints are plain callables ``endpoint(scope, **path_params)`` returning ``(body, status)``;
they usually are methods of a service object built on the function's AWS clients:

The routes come from the service's manifest (``<service>/routes.py``, see ``common.routes``);
the handler names one endpoint per manifest handler, no more and no fewer.
"""

from __future__ import annotations

import json
from contextvars import ContextVar
from http import HTTPStatus
from pathlib import Path
from typing import Any, Callable, Mapping, TypeVar

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths

from .audit import outcome_for
from .authorization import require
from .config_schema import ServiceConfig
from .environment import FunctionEnvironment
from .dependencies import is_dependency_failure
from .errors import (
    INTERNAL_ERROR_STATUS,
    UNEXPECTED_ERROR_METRIC,
    ConfigurationError,
    ConfigurationUnavailable,
    Forbidden,
    NotFound,
    ServiceError,
    ServiceUnavailable,
    internal_error_body,
)
from .observability import OPERATION_SUCCESS, TENANT_MISMATCH
from .request_scope import RequestScope
from .routes import ApiRoute, RouteManifest
from .runtime import FunctionRuntime
from .ssm_provider import DescribedSSMProvider
from .tenant import TenantRefused, tenant_context
from .validation import check_body_limits

ServiceT = TypeVar("ServiceT", bound=ServiceConfig)
Endpoint = Callable[..., Any]
UNROUTED_ACTION = "unrouted"
RETRY_AFTER_HEADER = "Retry-After"

_current_scope: ContextVar[RequestScope[Any]] = ContextVar("request_scope")


class RouteMismatch(Exception):
    """A handler's endpoints and its service's route manifest disagree (raised at import)."""


class ObjectAccessUnchecked(Exception):
    """An endpoint of a per-object route answered without checking the caller against its object.

    A bug in the endpoint, never the caller's fault: it becomes a 500, and the per-route
    authorization tests fail on it.
    """


def json_response(status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> Response:
    """A JSON response."""
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=json.dumps(body, separators=(",", ":")), headers=dict(headers or {}))


def proxy_response(status: int, body: Mapping[str, Any]) -> dict[str, Any]:
    """A REST proxy integration response, for answers given before the resolver runs."""
    return {
        "statusCode": status,
        "multiValueHeaders": {"Content-Type": [content_types.APPLICATION_JSON]},
        "body": json.dumps(body, separators=(",", ":")),
        "isBase64Encoded": False,
    }


class ApiFunction(FunctionRuntime[ServiceT]):
    """An API Gateway REST function. The schema's ``integration.resources`` must name ``audit_table``."""

    def __init__(
        self,
        env: FunctionEnvironment,
        schema: type[ServiceT],
        *,
        code_root: Path,
        provider: DescribedSSMProvider | None = None,
    ) -> None:
        super().__init__(env, schema, code_root=code_root, provider=provider)
        self.app = APIGatewayRestResolver()
        self._routes: tuple[ApiRoute, ...] = ()
        self.app.exception_handler(ServiceError)(self._service_error)
        self.app.exception_handler(ConfigurationError)(self._configuration_error)
        self.app.exception_handler(Exception)(self._unexpected_error)
        self.app.not_found(self._route_not_found)
        self.serve(self._handle, correlation_id_path=correlation_paths.API_GATEWAY_REST)

    # --- per request -----------------------------------------------------------------------------

    def _handle(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        request_id = _request_id(event, context)
        try:
            tenant = tenant_context(event, self.env.tenant_id)
        except TenantRefused as exc:
            self.refuse_config_reads()
            self.obs.count(TENANT_MISMATCH)
            self.obs.count(Forbidden.metric)
            self.logger.warning("request refused", extra={"reason": str(exc), "request_id": request_id})
            refusal = Forbidden("forbidden")
            return proxy_response(refusal.status_code, refusal.body(request_id))
        scope: RequestScope[ServiceT] = RequestScope(tenant=tenant, request_id=request_id, event=event, lambda_context=context, headers=event.get("headers") or {})
        token = _current_scope.set(scope)
        try:
            response = self.app.resolve(event, context)
        finally:
            _current_scope.reset(token)
        status = int(response["statusCode"])
        if status < HTTPStatus.BAD_REQUEST:
            self.obs.count(OPERATION_SUCCESS)
        self._audit(scope, status)
        return response

    @property
    def routes(self) -> tuple[ApiRoute, ...]:
        """The routes this function serves, as registered from its manifest."""
        return self._routes

    def add_routes(self, manifest: RouteManifest, handlers: Mapping[str, Endpoint]) -> None:
        """Serve every route of ``manifest``, each by the endpoint ``handlers`` names for it.

        A manifest handler without an endpoint, or an endpoint no route names, is an error here,
        at import, rather than a 404 or dead code found in production. One manifest per function:
        the service's API is declared in one place.
        """
        if self._routes:
            raise RouteMismatch(f"{manifest.service}: routes are registered already; a function serves one manifest")
        missing = sorted(manifest.handlers - handlers.keys())
        extra = sorted(handlers.keys() - manifest.handlers)
        if missing or extra:
            raise RouteMismatch(
                f"{manifest.service}: the handler's endpoints do not match {manifest.service}/routes.py "
                f"(no endpoint for {missing}; no route for {extra}); expected one endpoint per manifest handler"
            )
        for route in manifest.routes:
            self._add_route(route, handlers[route.handler])
        self._routes = manifest.routes

    def _add_route(self, route: ApiRoute, target: Endpoint) -> None:
        """Serve ``route``: its endpoint runs after the operation is authorized for the caller."""

        def endpoint(**path_params: str) -> Any:
            scope = _current_scope.get()
            scope.operation = route.operation
            scope.access = route.access
            self.obs.annotate(tenant_id=scope.tenant.tenant_id, operation=route.operation)
            self.logger.append_keys(operation=route.operation)
            scope.global_snapshot = self.config.global_config()
            scope.service_snapshot = self.config.service_config()
            require(scope.tenant.roles, route.operation, scope.global_config.security.authorization_policies)
            check_body_limits(scope.event, scope.global_config.operational.request_limits)
            answer = target(scope, **path_params)
            if route.access.per_object and not scope.access_checked:
                raise ObjectAccessUnchecked(f"{route.key}: the endpoint did not check the caller against its {route.access.object}")
            return answer

        endpoint.__name__ = route.handler
        self.app.route(route.router_rule, route.method)(endpoint)

    def _audit(self, scope: RequestScope[ServiceT], status: int) -> None:
        self.record_audit(
            action=scope.operation or UNROUTED_ACTION,
            user_id=scope.tenant.user_id,
            request_id=scope.request_id,
            outcome=outcome_for(status),
            status_code=status,
            resource_id=scope.resource_id,
            service_snapshot=scope.service_snapshot,
            global_snapshot=scope.global_snapshot,
        )

    # --- error standard --------------------------------------------------------------------------

    def _service_error(self, exc: ServiceError) -> Response:
        self.obs.count(exc.metric)
        self.logger.info("request failed", extra={"code": exc.code, "status": exc.status_code, "fields": [d.field for d in exc.details]})
        headers: dict[str, str] = {}
        if exc.status_code == HTTPStatus.SERVICE_UNAVAILABLE:
            # Every 503 says when to retry, whichever service error class it is.
            seconds = exc.retry_after_seconds if isinstance(exc, ServiceUnavailable) else None
            if seconds is None:
                seconds = self._retry_after_seconds()
            if isinstance(exc, ServiceUnavailable):
                exc.retry_after_seconds = seconds
            if seconds is not None:
                headers[RETRY_AFTER_HEADER] = str(seconds)
        return json_response(exc.status_code, exc.body(_current_scope.get().request_id), headers)

    def _retry_after_seconds(self) -> int | None:
        """The delay a 503 names: from the config this request loaded, else whatever the client has."""
        snapshot = _current_scope.get().global_snapshot
        if snapshot is not None:
            return snapshot.model.operational.dependency_outage.retry_after_seconds
        return self.config.retry_after_seconds()

    def _configuration_error(self, exc: ConfigurationError) -> Response:
        # The config client has counted the ConfigurationError metric already.
        self.logger.error("configuration unavailable", extra={"reason": str(exc)})
        if isinstance(exc, ConfigurationUnavailable) or is_dependency_failure(exc):
            return self._service_error(ServiceUnavailable("configuration unavailable"))
        return json_response(INTERNAL_ERROR_STATUS, internal_error_body(_current_scope.get().request_id))

    def _unexpected_error(self, exc: Exception) -> Response:
        if is_dependency_failure(exc):
            # Throttling or an outage of an AWS dependency: the request may succeed later.
            self.logger.warning("dependency unavailable", extra={"error_type": type(exc).__name__})
            return self._service_error(ServiceUnavailable("a dependency is unavailable; retry later"))
        self.obs.count(UNEXPECTED_ERROR_METRIC)
        # The traceback goes to the log only; the client gets the request id to quote.
        self.logger.exception("unexpected error", extra={"error_type": type(exc).__name__})
        return json_response(INTERNAL_ERROR_STATUS, internal_error_body(_current_scope.get().request_id))

    def _route_not_found(self, exc: Exception) -> Response:
        missing = NotFound("no such route")
        self.obs.count(missing.metric)
        return json_response(missing.status_code, missing.body(_current_scope.get().request_id))


def _request_id(event: Mapping[str, Any], context: Any) -> str:
    """API Gateway's request id (the one clients see), else the Lambda request id."""
    request_context = event.get("requestContext")
    if isinstance(request_context, Mapping) and request_context.get("requestId"):
        return str(request_context["requestId"])
    return str(getattr(context, "aws_request_id", "") or "unknown")
