"""Topics and queues the platform's way: encrypted with the tenant key, named under the tenant
prefix, with a dead-letter queue behind every queue and a queue policy that admits only the
topics it subscribes to.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Mapping, Sequence

import pulumi
import pulumi_aws as aws

from ubertruck.contracts import common_schema

from .context import TenantContext, child
from .iam import Grant

#: Actions a consumer needs on its queue to receive, extend and delete (Lambda event source mapping).
CONSUME_ACTIONS = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes")
PUBLISH_ACTIONS = ("sns:Publish",)
#: A publisher to a topic encrypted with the tenant key also needs a data key from that key
#: (every service role already has ``kms:Decrypt`` on it).
PUBLISH_KEY_ACTIONS = ("kms:GenerateDataKey",)


def encrypted_topic(ctx: TenantContext, parent: pulumi.Resource, *name_parts: str) -> aws.sns.Topic:
    """SNS topic ``<prefix>-<name_parts>``, encrypted with the tenant key."""
    name = ctx.name(*name_parts)
    return aws.sns.Topic(name, name=name, kms_master_key_id=ctx.key_arn, tags=ctx.tags, opts=child(parent))


def publish_grants(ctx: TenantContext, topic: aws.sns.Topic) -> list[Grant]:
    """Publish to ``topic`` (and nothing else), with the data key its encryption needs."""
    return [Grant(PUBLISH_ACTIONS, [topic.arn]), Grant(PUBLISH_KEY_ACTIONS, [ctx.key_arn])]


def consume_grant(queue: aws.sqs.Queue) -> Grant:
    """Receive from, extend and delete messages of ``queue`` (what an event source mapping does)."""
    return Grant(CONSUME_ACTIONS, [queue.arn])


@dataclass(frozen=True)
class QueueSpec:
    """A queue's logical name and its validated settings from config (a service's ``technical.queue``)."""

    name: str
    settings: common_schema.QueueSettings


class DeadLetteredQueue:
    """A queue ``<prefix>-<name>`` and its dead-letter queue ``<prefix>-<name>-dlq``, both under
    the tenant key. Messages that fail ``max_receive_count`` times move to the DLQ, which keeps
    them longer so an operator can inspect and redrive them."""

    name: str
    queue: aws.sqs.Queue
    dlq: aws.sqs.Queue

    def __init__(self, ctx: TenantContext, parent: pulumi.Resource, spec: QueueSpec) -> None:
        self.name = name = ctx.name(spec.name)
        self.dlq = aws.sqs.Queue(
            f"{name}-dlq",
            name=f"{name}-dlq",
            kms_master_key_id=ctx.key_arn,
            message_retention_seconds=spec.settings.dlq_message_retention_seconds,
            tags=ctx.tags,
            opts=child(parent),
        )
        redrive = self.dlq.arn.apply(
            lambda arn: json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": spec.settings.max_receive_count}, sort_keys=True)
        )
        self.queue = aws.sqs.Queue(
            name,
            name=name,
            kms_master_key_id=ctx.key_arn,
            visibility_timeout_seconds=spec.settings.visibility_timeout_seconds,
            message_retention_seconds=spec.settings.message_retention_seconds,
            redrive_policy=redrive,
            tags=ctx.tags,
            opts=child(parent),
        )
        # Only the source queue may use this DLQ.
        aws.sqs.RedriveAllowPolicy(
            f"{name}-dlq-redrive-allow",
            queue_url=self.dlq.url,
            redrive_allow_policy=self.queue.arn.apply(
                lambda arn: json.dumps({"redrivePermission": "byQueue", "sourceQueueArns": [arn]}, sort_keys=True)
            ),
            opts=child(parent),
        )


def topic_delivery_policy(queue_arn: str, topic_arns: Sequence[str]) -> str:
    """Queue policy: SNS may send to the queue only on behalf of exactly ``topic_arns``."""
    statement = {
        "Sid": "SubscribedTopicsOnly",
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": queue_arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": list(topic_arns)}},
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]}, sort_keys=True)


def subscribe_queue(parent: pulumi.Resource, queue: DeadLetteredQueue, topics: Mapping[str, aws.sns.Topic]) -> None:
    """Subscribe ``queue`` to ``topics`` (keyed by a short name used in the subscriptions'
    names) with raw delivery, so consumers get each event as published, and set the queue's
    policy to admit exactly those topics."""
    ordered = sorted(topics.items())
    policy = aws.sqs.QueuePolicy(
        f"{queue.name}-policy",
        queue_url=queue.queue.url,
        policy=pulumi.Output.all(queue.queue.arn, *[t.arn for _, t in ordered]).apply(
            lambda arns: topic_delivery_policy(arns[0], arns[1:])
        ),
        opts=child(parent),
    )
    for short_name, topic in ordered:
        aws.sns.TopicSubscription(
            f"{queue.name}-from-{short_name}",
            topic=topic.arn,
            protocol="sqs",
            endpoint=queue.queue.arn,
            raw_message_delivery=True,
            # SNS would be refused delivery until the policy admits the topic.
            opts=child(parent, depends_on=[policy]),
        )
