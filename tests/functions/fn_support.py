"""Test support for the functions: tenant config, moto provisioning, events.

Config is built by the production code, never re-implemented here: the merged tree by
``ubertruck.settings`` (``merged_config``), the SSM parameters by ``TenantSettings.parameters``
and ``components.config_params`` (the published ``integration/resources`` entries), and
``fallback.json`` by ``TenantSettings.fallback_document``. A test tenant is a registered one
(``tenants/<id>.yaml``: its identity and compliance) with the platform defaults' config, unless
the test asks for its registry config too; tests then change the tree as they need.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import importlib
import importlib.util
import json
import os
import sys
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any, Iterator, Mapping

import boto3
import yaml

from components.config_params import published_resources_path, published_resources_value
from ubertruck.defaults import load_defaults
from ubertruck.registry.loader import load_tenant, tenant_file
from ubertruck.registry.model import ConfigTree
from ubertruck.settings import TenantSettings, tenant_settings

REPO = Path(__file__).resolve().parents[2]
FUNCTIONS_DIR = REPO / "functions"
TABLE_KINDS = ("bookings", "tracking", "payments", "audit")
TABLE_TTL = "expires_at"
IDEMPOTENCY_TABLE_TTL = "expiration"


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


#: ``defaults.yaml`` as written, for tests that check a default value itself.
DEFAULTS = load_yaml(REPO / "defaults.yaml")


@lru_cache(maxsize=None)
def registered_settings(tenant_id: str, environment: str, registry_config: bool = False) -> TenantSettings:
    """The production settings of registered tenant ``tenant_id`` in ``environment``: over the
    platform defaults, with its registry file's ``config`` only when ``registry_config``."""
    tenant = load_tenant(tenant_file(tenant_id))
    if not registry_config:
        tenant = tenant.model_copy(update={"config": ConfigTree()})
    return tenant_settings(tenant, environment, load_defaults())


def tenant_config(tenant: str, environment: str, registry_config: bool = False) -> dict[str, Any]:
    """The merged config tree of ``tenant`` in ``environment`` (a copy the test may change)."""
    return copy.deepcopy(registered_settings(tenant, environment, registry_config).config)


def set_in(tree: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    """``tree`` with the entry at ``a.b.c`` replaced by ``value`` (a changed copy)."""
    changed = copy.deepcopy(tree)
    node = changed
    parts = dotted.split(".")
    for part in parts[:-1]:
        node = node[part]
    node[parts[-1]] = value
    return changed


@dataclass
class Tenant:
    """One provisioned tenant environment in moto."""

    tenant_id: str
    environment: str
    config: dict[str, Any]
    resources: dict[str, dict[str, str]] = field(default_factory=dict)
    kms_key_id: str = ""

    @property
    def prefix(self) -> str:
        return self.settings.prefix

    @property
    def settings(self) -> TenantSettings:
        """The production settings of this tenant, holding the test's current config tree."""
        return dataclasses.replace(registered_settings(self.tenant_id, self.environment), config=self.config)

    def fallback_document(self, service: str) -> dict[str, Any]:
        """What the infrastructure packages as ``fallback.json`` for ``service``."""
        return self.settings.fallback_document(service, self.resources.get(service))

    def write_fallback(self, code_root: Path, service: str) -> Path:
        code_root.mkdir(parents=True, exist_ok=True)
        path = code_root / "fallback.json"
        path.write_text(json.dumps(self.fallback_document(service), sort_keys=True), encoding="utf-8")
        return path

    def parameters(self) -> Iterator[tuple[str, str, bool]]:
        """(name, value, secure) for every parameter of the tenant's namespace, as the
        infrastructure writes it: the registry hierarchy, then each service's published resources."""
        settings = self.settings
        for param in settings.parameters():
            yield param.path, param.value, param.secure
        for service, resources in sorted(self.resources.items()):
            yield published_resources_path(settings, service), published_resources_value(resources), False


def provision(tenant_id: str, environment: str, config: dict[str, Any], region: str) -> Tenant:
    """Create the tenant's key, tables, topic and config namespace in (mocked) AWS."""
    tenant = Tenant(tenant_id=tenant_id, environment=environment, config=config)
    kms = boto3.client("kms", region_name=region)
    tenant.kms_key_id = kms.create_key(Description=f"{tenant.prefix} tenant key")["KeyMetadata"]["KeyId"]
    dynamodb = boto3.client("dynamodb", region_name=region)
    for kind in TABLE_KINDS:
        create_table(dynamodb, f"{tenant.prefix}-{kind}", hash_key="pk", range_key="sk", ttl=TABLE_TTL)
    create_table(dynamodb, f"{tenant.prefix}-idempotency", hash_key="id", range_key=None, ttl=IDEMPOTENCY_TABLE_TTL)
    topic_arn = boto3.client("sns", region_name=region).create_topic(Name=f"{tenant.prefix}-booking-events")["TopicArn"]
    tables = {kind: f"{tenant.prefix}-{kind}" for kind in TABLE_KINDS}
    pool = f"{region}_{tenant_id}pool"
    issuer = f"https://cognito-idp.{region}.amazonaws.com/{pool}"
    tenant.resources = {
        "booking": {
            "bookings_table": tables["bookings"],
            "audit_table": tables["audit"],
            "idempotency_table": f"{tenant.prefix}-idempotency",
            "events_topic_arn": topic_arn,
        },
        "configuration": {"audit_table": tables["audit"]},
        "auth": {"user_pool_id": pool, "app_client_id": f"{tenant_id}-app-client", "issuer": issuer, "jwks_url": f"{issuer}/.well-known/jwks.json"},
        "secrets": {"audit_table": tables["audit"]},
    }
    write_parameters(tenant, region)
    return tenant


def write_parameters(tenant: Tenant, region: str) -> None:
    """(Re)write the tenant's whole config namespace from ``tenant.config``."""
    ssm = boto3.client("ssm", region_name=region)
    for name, value, secure in tenant.parameters():
        options: dict[str, Any] = {"Type": "SecureString", "KeyId": tenant.kms_key_id} if secure else {"Type": "String"}
        ssm.put_parameter(Name=name, Value=value, Overwrite=True, **options)


def create_table(client: Any, name: str, hash_key: str, range_key: str | None, ttl: str) -> None:
    keys = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    attributes = [{"AttributeName": hash_key, "AttributeType": "S"}]
    if range_key:
        keys.append({"AttributeName": range_key, "KeyType": "RANGE"})
        attributes.append({"AttributeName": range_key, "AttributeType": "S"})
    client.create_table(TableName=name, KeySchema=keys, AttributeDefinitions=attributes, BillingMode="PAY_PER_REQUEST")
    client.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl})


def scan_all(client: Any, table: str) -> list[dict[str, Any]]:
    """Every item of ``table``, as plain values."""
    from common.dynamo_items import from_item

    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table}
    while True:
        page = client.scan(**kwargs)
        items.extend(from_item(item) for item in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


# --- events and contexts -------------------------------------------------------------------------


@dataclass
class FakeLambdaContext:
    """The parts of the Lambda context object Powertools reads."""

    function_name: str = "test-function"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:ap-south-1:123456789012:function:test-function"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    remaining_millis: int = 60_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_millis


def authorizer_for(tenant_id: str | None, user_id: str | None = "user-1", roles: str = "customer") -> dict[str, Any]:
    """An authorizer context as the tenant's authorizer returns it (``None`` leaves a key out)."""
    context: dict[str, Any] = {"principalId": user_id or "anonymous", "roles": roles}
    if tenant_id is not None:
        context["tenant_id"] = tenant_id
    if user_id is not None:
        context["user_id"] = user_id
    return context


def api_event(
    method: str,
    path: str,
    *,
    resource: str | None = None,
    body: Any = None,
    headers: Mapping[str, str] | None = None,
    query: Mapping[str, str] | None = None,
    path_parameters: Mapping[str, str] | None = None,
    authorizer: Mapping[str, Any] | None = None,
    raw_body: str | None = None,
    base64_body: bool = False,
) -> dict[str, Any]:
    """An API Gateway REST proxy event carrying an authorizer context."""
    text = raw_body if raw_body is not None else (None if body is None else json.dumps(body))
    if base64_body and text is not None:
        text = base64.b64encode(text.encode()).decode()
    request_id = str(uuid.uuid4())
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method,
        "headers": dict(headers or {}),
        "multiValueHeaders": {k: [v] for k, v in (headers or {}).items()},
        "queryStringParameters": dict(query) if query else None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": dict(path_parameters) if path_parameters else None,
        "stageVariables": None,
        "requestContext": {
            "requestId": request_id,
            "resourcePath": resource or path,
            "httpMethod": method,
            "stage": "dev",
            "path": f"/dev{path}",
            "authorizer": dict(authorizer) if authorizer is not None else None,
            "identity": {"sourceIp": "203.0.113.10"},
        },
        "body": text,
        "isBase64Encoded": base64_body,
    }


def response_json(response: Mapping[str, Any]) -> Any:
    return json.loads(response["body"])


def emitted_metrics(captured_stdout: str) -> list[dict[str, Any]]:
    """The EMF blobs a function printed (log lines are JSON too, but carry no ``_aws`` key)."""
    blobs = []
    for line in captured_stdout.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if isinstance(document, dict) and "_aws" in document:
            blobs.append(document)
    return blobs


def metric_names(captured_stdout: str) -> list[str]:
    """Every metric name emitted, once per emission blob (a name may repeat across blobs)."""
    names: list[str] = []
    for blob in emitted_metrics(captured_stdout):
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            names.extend(metric["Name"] for metric in directive["Metrics"])
    return names


def metric_total(blob: Mapping[str, Any], name: str) -> float:
    """The summed value of metric ``name`` in one EMF blob (Powertools may write a list)."""
    value = blob.get(name, 0)
    return float(sum(value)) if isinstance(value, list) else float(value)


def ssm_outage(client: Any) -> Any:
    """Make ``client`` (an SSM client) fail every call as if the endpoint were unreachable.

    Returns the handler so the test can unregister it to end the outage.
    """
    from botocore.exceptions import EndpointConnectionError

    def unreachable(**kwargs: Any) -> None:
        raise EndpointConnectionError(endpoint_url="https://ssm.unreachable.example")

    client.meta.events.register_first("before-send.ssm.*", unreachable)
    return unreachable


def subscribe_to_events(tenant: Tenant, region: str) -> Any:
    """Subscribe a fresh SQS queue to the tenant's booking events; returns ``drain()`` -> messages."""
    sqs = boto3.client("sqs", region_name=region)
    url = sqs.create_queue(QueueName=f"{tenant.prefix}-events-probe-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    boto3.client("sns", region_name=region).subscribe(
        TopicArn=tenant.resources["booking"]["events_topic_arn"], Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"}
    )

    def drain() -> list[dict[str, Any]]:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        for message in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return [json.loads(m["Body"]) for m in messages]

    return drain


def build_function(handler_module: ModuleType, tenant: Tenant, code_root: Path, **options: Any) -> Any:
    """``handler_module.build`` for ``tenant``, with the tenant's ``fallback.json`` packaged at ``code_root``."""
    from common.environment import FunctionEnvironment

    service = handler_module.__name__.split(".")[0]
    tenant.write_fallback(code_root, service)
    return handler_module.build(FunctionEnvironment(service, tenant.environment, tenant.tenant_id), code_root=code_root, **options)


def import_handler(service: str, tenant_id: str = "acme", environment: str = "dev") -> ModuleType:
    """Import ``<service>.handler`` fresh, under the environment its Lambda function would have."""
    variables = {"SERVICE_NAME": service, "ENVIRONMENT": environment, "CONFIG_SERVICE_URL": f"ssm:///{tenant_id}", "LOG_LEVEL": "INFO"}
    with patched_environ(variables):
        _use_service_package(service)
        sys.modules.pop(f"{service}.handler", None)
        return importlib.import_module(f"{service}.handler")


@contextmanager
def patched_environ(variables: Mapping[str, str]) -> Iterator[None]:
    """``variables`` set in ``os.environ`` for the block; what was there before comes back after."""
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _use_service_package(service: str) -> None:
    """Make ``import <service>`` mean ``functions/<service>``, as it does in Lambda.

    Lambda puts the code root first on ``sys.path``; a test process has usually imported a module
    of the same name already (the standard library's ``secrets``, through pydantic).
    """
    package_dir = FUNCTIONS_DIR / service
    loaded = sys.modules.get(service)
    if loaded is not None and Path(getattr(loaded, "__file__", None) or "").parent == package_dir:
        return
    spec = importlib.util.spec_from_file_location(service, package_dir / "__init__.py", submodule_search_locations=[str(package_dir)])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[service] = module
    spec.loader.exec_module(module)
