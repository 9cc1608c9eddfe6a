"""Plans of tenant stacks that hold the foundation services, made once per test session.

Until ``TenantPlatform`` composes the foundation services, ``FoundationPlatform`` below stands
in for it: the same provider, account, shared-stack reference, key, layer and data stores, then
the configuration, auth, secrets and API components exactly as ``TenantPlatform`` will add them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterator

import pulumi
import pulumi_aws as aws
import pytest

from components.api import ApiGateway, ApiGatewayArgs
from components.auth import AuthService, AuthServiceArgs
from components.configuration import ConfigurationService, ConfigurationServiceArgs
from components.context import TenantContext, child
from components.layer import CommonLayer
from components.secrets import SecretsService, SecretsServiceArgs
from components.tables import TenantDataStores
from components.tenant import shared_stack_reference
from components.tenant_key import TenantKey, TenantKeyArgs
from platformctl.defaults import load_defaults
from platformctl.engine.capture import SECRET_SIG, SIG_KEY, CapturedResource
from platformctl.engine.runner import run_stack
from platformctl.registry.loader import load_tenant, tenant_file
from platformctl.registry.model import Tenant
from platformctl.settings import TenantSettings, tenant_settings


class FoundationPlatform(pulumi.ComponentResource):
    """``TenantPlatform`` with the foundation services, for these tests."""

    def __init__(self, settings: TenantSettings) -> None:
        super().__init__("ubertruck:tenant:TenantPlatform", settings.prefix, None, None)
        provider = aws.Provider(f"{settings.prefix}-aws", region=settings.region, default_tags={"tags": settings.tags}, opts=child(self))
        scoped = pulumi.ResourceOptions(parent=self, providers={"aws": provider})
        account_id = aws.get_caller_identity(opts=pulumi.InvokeOptions(provider=provider)).account_id
        shared = shared_stack_reference(settings, self)
        key = TenantKey(f"{settings.prefix}-key", TenantKeyArgs(settings, account_id), opts=scoped)
        layer = CommonLayer(f"{settings.prefix}-layer", settings, opts=scoped)
        ctx = TenantContext(settings, account_id, key.arn, shared.get_output("alarm_topic_arn"), layer.arn)
        stores = TenantDataStores(f"{settings.prefix}-data", ctx, opts=scoped)
        # --- the lines TenantPlatform gains ---
        configuration = ConfigurationService(f"{settings.prefix}-configuration", ConfigurationServiceArgs(ctx, stores.audit), opts=scoped)
        auth = AuthService(f"{settings.prefix}-auth", AuthServiceArgs(ctx), opts=scoped)
        secrets = SecretsService(f"{settings.prefix}-secrets", SecretsServiceArgs(ctx), opts=scoped)
        api = ApiGateway(f"{settings.prefix}-api", ApiGatewayArgs(ctx, auth.authorizer, [*configuration.routes]), opts=scoped)
        self.outputs = {"kms_key_arn": key.arn, **configuration.outputs, **auth.outputs, **secrets.outputs, **api.outputs}
        self.register_outputs(self.outputs)


@dataclass
class Plan:
    """One planned stack, with the look-ups the tests need."""

    settings: TenantSettings
    resources: list[CapturedResource]
    outputs: dict[str, Any]

    def of_type(self, type_: str) -> list[CapturedResource]:
        return [r for r in self.resources if r.type == type_]

    def named(self, type_: str, name: str) -> CapturedResource:
        (match,) = [r for r in self.of_type(type_) if r.name == name]
        return match

    def under(self, component_type: str) -> list[CapturedResource]:
        """Resources registered (at any depth) inside components of ``component_type``."""
        return [r for r in self.resources if f"{component_type}$" in r.urn.split("::")[2]]

    def text(self) -> str:
        """Every input of every resource, as one JSON text (for isolation checks)."""
        return json.dumps([r.wire_inputs for r in self.resources], sort_keys=True)

    def parameter_value(self, path: str) -> str:
        """The value of the SSM parameter at ``path``, unmasked (the AWS SDK marks every
        parameter value secret, so the plain view masks them all)."""
        (param,) = [r for r in self.of_type("aws:ssm/parameter:Parameter") if r.inputs["name"] == path]
        value = param.wire_inputs["value"]
        return value["value"] if isinstance(value, dict) and value.get(SIG_KEY) == SECRET_SIG else value

    def policies(self, component_type: str) -> list[dict[str, Any]]:
        return [json.loads(r.inputs["policy"]) for r in self.under(component_type) if r.type == "aws:iam/rolePolicy:RolePolicy"]


def plan_tenant(tenant: Tenant, environment: str) -> Plan:
    defaults = load_defaults()
    settings = tenant_settings(tenant, environment, defaults)
    project = defaults.platform.project
    organization = defaults.offline.organization
    alarm_topic = f"arn:aws:sns:{settings.region}:{defaults.offline.account_id}:{project}-{environment}-{defaults.shared.alarm_topic_suffix}"
    shared_outputs = {f"{organization}/{project}/{environment}": {"alarm_topic_arn": alarm_topic, "environment": environment}}

    def program() -> None:
        # Exported the way __main__.py exports TenantPlatform's outputs.
        for key, value in FoundationPlatform(settings).outputs.items():
            pulumi.export(key, value)

    run = run_stack(settings.prefix, project, defaults.offline.account_id, settings.region, shared_outputs, organization, program)
    # The tests compare against settings the program never saw, so nothing the program did to
    # its own copy can make an expectation agree with it.
    return Plan(tenant_settings(tenant, environment, defaults), run.resources, run.outputs)


def registry_tenant(tenant_id: str) -> Tenant:
    return load_tenant(tenant_file(tenant_id))


def _stack_fixture(tenant_id: str, environment: str, **changes: Any) -> Any:  # noqa: ANN401 (a pytest fixture)
    """A session fixture planning ``tenant_id`` in ``environment``, its registry entry changed by ``changes``."""

    @pytest.fixture(scope="session")
    def plan() -> Plan:
        tenant = registry_tenant(tenant_id)
        return plan_tenant(tenant.model_copy(update=changes) if changes else tenant, environment)

    return plan


acme_dev = _stack_fixture("acme", "dev")
acme_prod = _stack_fixture("acme", "prod")
globex_dev = _stack_fixture("globex", "dev")
initech_dev = _stack_fixture("initech", "dev")
#: globex as if its registry file named no secrets.
secretless_dev = _stack_fixture("globex", "dev", secrets={})


@pytest.fixture(params=["acme_dev", "globex_dev", "initech_dev"])
def any_plan(request: pytest.FixtureRequest) -> Iterator[Plan]:
    yield request.getfixturevalue(request.param)
