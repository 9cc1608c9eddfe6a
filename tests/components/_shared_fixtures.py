"""Plans for the observability and pipeline tests, made once per test session.

``SharedPlatformUnderTest`` composes ``PlatformObservability`` and ``DeploymentPipeline`` exactly
as ``components/shared.py`` does; ``TenantUnderTest`` adds ``TenantObservability`` to a tenant
stack after its functions, as ``components/tenant.py`` does. Both run through the offline engine.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable

import pulumi
import pulumi_aws as aws

from components.context import TenantContext, child
from components.function import ServiceFunction, ServiceFunctionArgs
from components.iam import ServiceRole, ServiceRoleArgs
from components.layer import CommonLayer
from components.observability import PlatformContext, PlatformObservability, PlatformObservabilityArgs, TenantObservability, TenantObservabilityArgs
from components.pipeline import DeploymentPipeline, DeploymentPipelineArgs, PipelineConfig, environment_tenant_stacks, pipeline_key_users
from components.tenant import shared_stack_reference
from components.tenant_key import TenantKey, TenantKeyArgs
from platformctl import PROJECT_ROOT
from platformctl.defaults import PlatformDefaults, load_defaults
from platformctl.engine.capture import CapturedResource
from platformctl.engine.runner import run_stack, stack_config
from platformctl.registry.loader import REGISTRY_DIR, load_tenant, tenant_file
from platformctl.settings import TenantSettings, tenant_settings

#: The stack config keys the pipeline reads, as Pulumi.<env>.yaml will hold them.
PIPELINE_CONFIG = {
    "ubertruck:sourceConnectionArn": "arn:aws:codeconnections:ap-south-1:123456789012:connection/0f6c1f2e-5b8a-4d7e-9c31-2a4b6d8e0f12",
    "ubertruck:sourceRepository": "ubertruck/platform",
    "ubertruck:sourceBranch": "main",
    "ubertruck:deployRoleArn": "arn:aws:iam::123456789012:role/ubertruck-deployer",
    "ubertruck:stateBackendUrl": "s3://ubertruck-pulumi-state",
}

#: Functions of the tenant stack under test: (service, function).
TENANT_FUNCTIONS = (("configuration", "api"), ("auth", "authorizer"))


class SharedPlatformUnderTest(pulumi.ComponentResource):
    """``SharedPlatform`` with the observability and pipeline components."""

    def __init__(self, environment: str, defaults: PlatformDefaults) -> None:
        super().__init__("ubertruck:shared:SharedPlatform", f"{defaults.platform.project}-{environment}", None, None)
        config = pulumi.Config(defaults.platform.project)
        # --- the lines SharedPlatform gains ---
        platform = PlatformContext.current(environment, defaults)
        pipeline_config = PipelineConfig.from_stack_config(config)
        tenant_stacks = environment_tenant_stacks(environment, defaults.platform.environments, REGISTRY_DIR)
        observability = PlatformObservability(
            platform.name("observability"),
            PlatformObservabilityArgs(
                platform,
                config.require("alarmEmail"),
                key_user_role_arns=pipeline_key_users(platform, pipeline_config),
                tenant_regions=[s.region for s in tenant_stacks],
            ),
            opts=child(self),
        )
        pipeline = DeploymentPipeline(
            platform.name("pipeline"),
            DeploymentPipelineArgs(
                platform,
                pipeline_config,
                key_arn=observability.key_arn,
                alarm_topic_arn=observability.alarm_topic_arn,
                tenant_stacks=tenant_stacks,
            ),
            opts=child(self),
        )
        self.outputs = {
            "alarm_topic_arn": observability.alarm_topic_arn,
            "alarm_topic_arns": observability.alarm_topic_arns,
            "environment": environment,
            "pipeline_name": pipeline.pipeline.name,
        }
        self.register_outputs(self.outputs)


class TenantUnderTest(pulumi.ComponentResource):
    """A tenant stack with a few functions and ``TenantObservability`` after them."""

    def __init__(self, settings: TenantSettings) -> None:
        super().__init__("ubertruck:tenant:TenantPlatform", settings.prefix, None, None)
        provider = aws.Provider(f"{settings.prefix}-aws", region=settings.region, default_tags={"tags": settings.tags}, opts=child(self))
        scoped = pulumi.ResourceOptions(parent=self, providers={"aws": provider})
        account_id = aws.get_caller_identity(opts=pulumi.InvokeOptions(provider=provider)).account_id
        shared = shared_stack_reference(settings, self)
        key = TenantKey(f"{settings.prefix}-key", TenantKeyArgs(settings, account_id), opts=scoped)
        layer = CommonLayer(f"{settings.prefix}-layer", settings, opts=scoped)
        # CloudWatch alarms notify topics of their own region only.
        alarm_topic_arn = shared.get_output("alarm_topic_arns").apply(lambda arns: arns[settings.region])
        ctx = TenantContext(settings, account_id, key.arn, alarm_topic_arn, layer.arn)
        functions = []
        for service, function in TENANT_FUNCTIONS:
            role = ServiceRole(f"{ctx.name(service)}-role", ServiceRoleArgs(ctx, service), opts=scoped)
            functions.append(ServiceFunction(ctx.name(service, function), ServiceFunctionArgs(ctx, service, function, role.arn), opts=scoped))
        # --- the lines TenantPlatform gains, after all services ---
        observability = TenantObservability(
            ctx.name("observability"),
            TenantObservabilityArgs(ctx, [f.function.name for f in functions], api_name=ctx.name("api"), api_stage=ctx.environment),
            opts=scoped,
        )
        self.outputs = {"dashboard_name": observability.dashboard.dashboard_name}
        self.register_outputs(self.outputs)


@dataclass
class StackPlan:
    """One planned stack, with the look-ups the tests need."""

    resources: list[CapturedResource]
    outputs: dict[str, Any]

    def of_type(self, type_: str) -> list[CapturedResource]:
        return [r for r in self.resources if r.type == type_]

    def named(self, type_: str, name: str) -> CapturedResource:
        (match,) = [r for r in self.of_type(type_) if r.name == name]
        return match

    def by_urn(self, urn: str) -> CapturedResource:
        (match,) = [r for r in self.resources if r.urn == urn]
        return match

    def under(self, component_type: str) -> list[CapturedResource]:
        """Resources registered (at any depth) inside components of ``component_type``."""
        return [r for r in self.resources if f"{component_type}$" in r.urn.split("::")[2]]


def policy_of(resource: CapturedResource, field: str = "policy") -> dict[str, Any]:
    """A policy-document input, parsed."""
    return json.loads(resource.inputs[field])


def _run(stack: str, program: Callable[[], None], stack_outputs: dict[str, dict[str, Any]], config: dict[str, str]) -> StackPlan:
    defaults = load_defaults()
    run = run_stack(
        stack,
        defaults.platform.project,
        defaults.offline.account_id,
        "ap-south-1",
        stack_outputs,
        defaults.offline.organization,
        program=program,
        config=config,
    )
    return StackPlan(run.resources, run.outputs)


def plan_shared(environment: str) -> StackPlan:
    """Plan shared stack ``environment`` with the observability and pipeline components."""
    defaults = load_defaults()

    def program() -> None:
        platform = SharedPlatformUnderTest(environment, defaults)
        for key, value in platform.outputs.items():
            pulumi.export(key, value)

    return _run(environment, program, {}, {**stack_config(PROJECT_ROOT, environment), **PIPELINE_CONFIG})


def plan_tenant(tenant_id: str, environment: str, shared: StackPlan) -> StackPlan:
    """Plan tenant stack ``<tenant_id>-<environment>`` reading ``shared``'s outputs."""
    defaults = load_defaults()
    settings = tenant_settings(load_tenant(tenant_file(tenant_id)), environment, defaults)

    def program() -> None:
        platform = TenantUnderTest(settings)
        for key, value in platform.outputs.items():
            pulumi.export(key, value)

    reference = f"{defaults.offline.organization}/{defaults.platform.project}/{environment}"
    stack = f"{tenant_id}-{environment}"
    return _run(stack, program, {reference: shared.outputs}, stack_config(PROJECT_ROOT, stack))
