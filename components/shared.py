"""``SharedPlatform``: what every tenant of one environment shares."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from platformctl.defaults import PlatformDefaults

from .context import child


class SharedPlatform(pulumi.ComponentResource):
    """``ubertruck:shared:SharedPlatform`` — alarm topic, platform dashboard, deployment pipeline."""

    def __init__(self, environment: str, defaults: PlatformDefaults, opts: pulumi.ResourceOptions | None = None) -> None:
        name = f"{defaults.platform.project}-{environment}"
        super().__init__("ubertruck:shared:SharedPlatform", name, None, opts)
        tags = {"environment": environment, "platform": defaults.platform.project}
        topic_name = f"{name}-{defaults.shared.alarm_topic_suffix}"
        self.alarm_topic = aws.sns.Topic(topic_name, name=topic_name, kms_master_key_id="alias/aws/sns", tags=tags, opts=child(self))
        self.outputs = {"alarm_topic_arn": self.alarm_topic.arn, "environment": environment}
        self.register_outputs(self.outputs)
