"""``SharedPlatform``: what every tenant of one environment shares.

The registry is read by the program (``__main__.py``), which passes in the environment's tenant
stacks: no component reads files.
"""

from __future__ import annotations

from typing import Sequence

import pulumi

from ubertruck.defaults import PlatformDefaults
from ubertruck.stacks import TenantStack

from .context import pinned_provider
from .observability import PlatformContext, PlatformObservability, PlatformObservabilityArgs
from .pipeline import DeploymentPipeline, DeploymentPipelineArgs, PipelineConfig, pipeline_key_users


class SharedPlatform(pulumi.ComponentResource):
    """``ubertruck:shared:SharedPlatform`` — alarm topics, platform dashboard, deployment pipeline."""

    def __init__(
        self,
        environment: str,
        defaults: PlatformDefaults,
        tenant_stacks: Sequence[TenantStack],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("ubertruck:shared:SharedPlatform", f"{defaults.platform.project}-{environment}", None, opts)
        config = pulumi.Config(defaults.platform.project)
        platform = PlatformContext.current(environment, defaults)
        pipeline_config = PipelineConfig.from_stack_config(config)
        pipeline_config.require_account(platform, f"Pulumi.{environment}.yaml: {defaults.platform.project}")
        # The stack's one provider (the components inherit it): the stack's region, and only the
        # environment's account. Nothing falls back to the default provider, which the stack
        # file would configure and which pins no account.
        provider = pinned_provider(platform.name("aws"), platform.region, platform.account_id, self, platform.tags)
        scoped = pulumi.ResourceOptions(parent=self, providers={"aws": provider})
        observability = PlatformObservability(
            platform.name("observability"),
            PlatformObservabilityArgs(
                platform,
                config.require("alarmEmail"),
                key_user_role_arns=pipeline_key_users(platform, pipeline_config),
                tenant_regions=[s.region for s in tenant_stacks],
            ),
            opts=scoped,
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
            opts=scoped,
        )
        self.outputs: dict[str, pulumi.Input[object]] = {
            "alarm_topic_arn": observability.alarm_topic_arn,
            "alarm_topic_arns": observability.alarm_topic_arns,
            "environment": environment,
            "pipeline_name": pipeline.pipeline.name,
            "dashboard_name": observability.dashboard.dashboard_name,
        }
        self.register_outputs(self.outputs)
