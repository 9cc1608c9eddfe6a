"""Support for the hostile-input, outage and fuzz tests: every API function of one tenant, what
the tenant holds (to prove a refused request wrote nothing), and AWS calls made to fail.

``Platform`` is one provisioned tenant (``fn_support.provision`` + ``fn_services.provision_services``)
with the real handler of each API service built for it; ``TenantState`` is every item of the
tenant's tables except the audit table (which records every request, refused ones too) plus every
event published on its topics since the last look; ``fail_calls`` makes a function's boto3 client
answer an operation the way a throttling, failing or unreachable AWS endpoint does, through
botocore's own parsing and retry handling.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterator, Mapping

import boto3
from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError

from .fn_services import FakeProvider, provision_services, subscribe_probe
from .fn_support import FakeLambdaContext, Tenant, api_event, authorizer_for, build_function, import_handler, provision, scan_all, tenant_config

#: The API services, each built with its real handler.
API_SERVICES = ("booking", "configuration", "payment", "tracking")
#: The audit table records every request, refused ones included: never part of "what was written".
AUDIT_KIND = "audit"
TENANT_ID = "acme"
ENVIRONMENT = "dev"
#: A principal granted every operation of the tenant (``admin: ["*"]`` in the default policies).
ADMIN_ROLES = "admin"


def handlers() -> dict[str, ModuleType]:
    """Each API service's handler module, imported as its Lambda function imports it."""
    return {service: import_handler(service) for service in API_SERVICES}


@dataclass
class Platform:
    """One tenant with every API function built for it."""

    tenant: Tenant
    functions: dict[str, Any]
    provider: FakeProvider
    region: str
    _drains: list[Callable[[], list[dict[str, Any]]]] = field(default_factory=list)
    #: Every call a function made that can change the tenant's tables (but the audit table) or
    #: publish an event, as ``service.Operation``; see ``watch_writes``.
    writes: list[str] = field(default_factory=list)

    def call(
        self,
        service: str,
        method: str,
        path: str,
        *,
        body: Any = None,
        raw_body: str | None = None,
        query: Mapping[str, str] | None = None,
        path_parameters: Mapping[str, str] | None = None,
        resource: str | None = None,
        headers: Mapping[str, str] | None = None,
        user: str = "user-1",
        roles: str = ADMIN_ROLES,
    ) -> dict[str, Any]:
        """Invoke ``service``'s Lambda handler with a proxy event from the tenant's authorizer."""
        event = api_event(
            method,
            path,
            resource=resource,
            body=body,
            raw_body=raw_body,
            query=query,
            path_parameters=path_parameters,
            headers=headers,
            authorizer=authorizer_for(self.tenant.tenant_id, user, roles),
        )
        return dict(self.functions[service].lambda_handler(event, FakeLambdaContext()))

    def state(self) -> TenantState:
        """What the tenant holds now, and the events published since the last look."""
        dynamodb = boto3.client("dynamodb", region_name=self.region)
        tables = sorted(name for name in dynamodb.list_tables()["TableNames"] if name.startswith(f"{self.tenant.prefix}-") and not name.endswith(f"-{AUDIT_KIND}"))
        items = {name: sorted(json.dumps(item, sort_keys=True, default=str) for item in scan_all(dynamodb, name)) for name in tables}
        events = [event for drain in self._drains for event in drain()]
        return TenantState(items=items, events=events)


@dataclass(frozen=True)
class TenantState:
    items: dict[str, list[str]]
    events: list[dict[str, Any]]


def build_platform(tenant: Tenant, code_root: Path, region: str, modules: Mapping[str, ModuleType]) -> Platform:
    """Provision the services' resources for ``tenant`` and build every API function for it."""
    # The provider is the in-process fake: any key will do, so the tenant's id names it.
    provision_services(tenant, region, api_key=f"{tenant.tenant_id}-provider-key")
    provider = FakeProvider()
    functions: dict[str, Any] = {}
    for service, module in modules.items():
        options: dict[str, Any] = {"opener": provider, "sleep": lambda _: None} if service == "payment" else {}
        functions[service] = build_function(module, tenant, code_root / service, **options)
    platform = Platform(tenant=tenant, functions=functions, provider=provider, region=region)
    for function in functions.values():
        watch_writes(platform, function)
    topics = [tenant.resources["booking"]["events_topic_arn"], tenant.resources["payment"]["events_topic_arn"]]
    platform._drains = [subscribe_probe(topic, region) for topic in topics]
    return platform


@contextmanager
def shared_platform(tmp_root: Path, region: str, modules: Mapping[str, ModuleType], config: dict[str, Any] | None = None) -> Iterator[Platform]:
    """A platform of its own moto for a whole module (``scope="module"`` fixtures): building one
    takes seconds, a request milliseconds. Tests that share it compare the tenant's state before
    and after each request, never against an empty tenant. The module must run as one xdist group
    (``pytestmark = pytest.mark.xdist_group(...)``) so no other module's moto runs inside it."""
    from moto import mock_aws

    with mock_aws():
        tenant = provision(TENANT_ID, ENVIRONMENT, config if config is not None else tenant_config(TENANT_ID, ENVIRONMENT), region)
        yield build_platform(tenant, tmp_root, region, modules)


#: The AWS operations that change a table or publish an event.
WRITE_OPERATIONS = {
    "dynamodb": ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"),
    "sns": ("Publish", "PublishBatch"),
    "events": ("PutEvents",),
}


def watch_writes(platform: Platform, function: Any) -> None:
    """Record in ``platform.writes`` each write call ``function`` makes (audit records aside).

    A function reaches AWS only through its ``aws`` clients, one per service and process, so
    creating them here and hooking them sees every write it can make: a request that made none
    cannot have changed what the tenant holds.
    """
    audit_table = f'"{platform.tenant.prefix}-{AUDIT_KIND}"'

    def record(params: Mapping[str, Any], model: Any, **_: Any) -> None:
        service = model.service_model.service_name
        if model.name not in WRITE_OPERATIONS.get(service, ()):
            return
        body = params.get("body")
        text = body.decode() if isinstance(body, bytes) else json.dumps(body, default=str)
        if model.name != "TransactWriteItems" and audit_table in text:
            return  # an audit record: every request writes one
        platform.writes.append(f"{service}.{model.name}")

    for service in WRITE_OPERATIONS:
        function.aws.client(service).meta.events.register("before-call.*.*", record)


def retry_after(response: Mapping[str, Any]) -> str | None:
    """The ``Retry-After`` header of a proxy response, if any."""
    values = (response.get("multiValueHeaders") or {}).get("Retry-After") or [(response.get("headers") or {}).get("Retry-After")]
    return values[0]


# --- failing AWS calls ---------------------------------------------------------------------------


@dataclass
class InjectedFailure:
    """Calls of one client made to fail: the operations failed so far, and how to end the failure."""

    client: Any
    event: str
    handler: Callable[..., Any]
    failed: list[str] = field(default_factory=list)

    def stop(self) -> None:
        self.client.meta.events.unregister(self.event, self.handler)


def fail_calls(client: Any, failure: str, *, operation: str = "*", unless: Callable[[str], bool] = lambda body: False) -> InjectedFailure:
    """Make ``client``'s ``operation`` calls fail until ``stop()``.

    ``failure``: ``throttled`` (400 with the service's throttling code), ``server_error`` (500),
    ``unreachable`` (connection error) or ``timeout`` (read timeout). ``unless(body)`` spares a
    call by its serialized request body (the audit table's writes, say). The answer is given at
    ``before-call``, the hook botocore lets stand in for the whole exchange, so moto (which
    answers at ``before-send``) never sees the call: a failed write writes nothing.
    """
    service = client.meta.service_model.service_name

    def answer(params: Mapping[str, Any], model: Any, **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        body = params.get("body")
        if unless(body.decode() if isinstance(body, bytes) else json.dumps(body, default=str)):
            return None
        injected.failed.append(model.name)
        url = str(params.get("url", ""))
        if failure == "unreachable":
            raise EndpointConnectionError(endpoint_url=url)
        if failure == "timeout":
            raise ReadTimeoutError(endpoint_url=url)
        status, code = (400, THROTTLING_CODE.get(service, "ThrottlingException")) if failure == "throttled" else (500, "InternalServerError")
        parsed = {"Error": {"Code": code, "Message": "injected failure"}, "ResponseMetadata": {"HTTPStatusCode": status}}
        return AWSResponse(url, status, {}, None), parsed

    injected = InjectedFailure(client, f"before-call.{client.meta.service_model.service_id.hyphenize()}.{operation}", answer)
    client.meta.events.register_first(injected.event, answer)
    return injected


#: The code each service answers a throttled call with.
THROTTLING_CODE = {"dynamodb": "ProvisionedThroughputExceededException", "sns": "Throttling", "ssm": "ThrottlingException", "secretsmanager": "ThrottlingException"}


def to_table(table: str) -> Callable[[str], bool]:
    """``unless`` for ``fail_calls``: spare every DynamoDB call but those naming ``table``."""

    def other_table(body: str) -> bool:
        return f'"{table}"' not in body

    return other_table
