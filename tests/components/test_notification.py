"""The notification service component, planned offline for acme (dev) and globex (dev)."""

from __future__ import annotations

import json

import pytest

from components.context import TenantContext
from components.notification import UNWINDOWED_BATCH_LIMIT, checked_queue_settings, ses_grants
from tests.components._service_checks import ServiceFunctionContract, assert_encrypted_with_tenant_key, assert_role_allows_exactly
from tests.components.conftest import DEV_ACCOUNT, PlanStore, settings_for, with_config
from ubertruck.errors import UserError

COMPONENT = "ubertruck:notification:NotificationService"


class TestNotificationFunction(ServiceFunctionContract):
    service, function, component = "notification", "consumer", COMPONENT


def _queue_arn(plan, suffix: str = "") -> str:
    return plan.arn("sqs", f"{plan.prefix}-notifications{suffix}")


def _topic_arn(plan, name: str) -> str:
    return plan.arn("sns", f"{plan.prefix}-{name}")


def _tuned(change_queue, change_business=lambda business: None) -> "TenantContext":
    def change(config):
        change_queue(config["services"]["notification"]["technical"]["queue"])
        change_business(config["services"]["notification"]["business"])

    return TenantContext(with_config(settings_for("acme", "dev"), change), DEV_ACCOUNT, f"arn:aws:kms:ap-south-1:{DEV_ACCOUNT}:key/k", "", "")


def test_component_holds_queues_topic_subscriptions_role_function_and_mapping(plan):
    names = {(r.type, r.name) for r in plan.under(COMPONENT)}
    p = plan.prefix
    assert {
        ("aws:sqs/queue:Queue", f"{p}-notifications"),
        ("aws:sqs/queue:Queue", f"{p}-notifications-dlq"),
        ("aws:sqs/queuePolicy:QueuePolicy", f"{p}-notifications-policy"),
        ("aws:sqs/redriveAllowPolicy:RedriveAllowPolicy", f"{p}-notifications-dlq-redrive-allow"),
        ("aws:sns/topicSubscription:TopicSubscription", f"{p}-notifications-from-booking-events"),
        ("aws:sns/topicSubscription:TopicSubscription", f"{p}-notifications-from-payment-events"),
        ("aws:sns/topic:Topic", f"{p}-notifications-out"),
        ("aws:iam/role:Role", f"{p}-notification"),
        ("aws:lambda/function:Function", f"{p}-notification-consumer"),
        ("aws:cloudwatch/logGroup:LogGroup", f"{p}-notification-consumer-logs"),
        ("aws:lambda/eventSourceMapping:EventSourceMapping", f"{p}-notification-consumer-queue"),
        ("aws:ssm/parameter:Parameter", f"{p}-config-services-notification-dev-integration-resources"),
    } <= names


def test_queues_and_outbound_topic_are_encrypted_with_tenant_key(plan):
    for name in ("notifications", "notifications-dlq", "notifications-out"):
        assert_encrypted_with_tenant_key(plan.by_name(f"{plan.prefix}-{name}"), plan)


def test_queue_redrives_to_its_dlq_after_configured_receives(plan):
    queue = plan.by_name(f"{plan.prefix}-notifications").inputs
    settings = plan.settings.technical("notification", "queue")
    assert json.loads(queue["redrivePolicy"]) == {"deadLetterTargetArn": _queue_arn(plan, "-dlq"), "maxReceiveCount": settings["max_receive_count"]}
    assert queue["visibilityTimeoutSeconds"] == settings["visibility_timeout_seconds"]
    assert queue["messageRetentionSeconds"] == settings["message_retention_seconds"]
    dlq = plan.by_name(f"{plan.prefix}-notifications-dlq").inputs
    assert dlq["messageRetentionSeconds"] == settings["dlq_message_retention_seconds"]
    assert "redrivePolicy" not in dlq
    allow = json.loads(plan.by_name(f"{plan.prefix}-notifications-dlq-redrive-allow").inputs["redriveAllowPolicy"])
    assert allow == {"redrivePermission": "byQueue", "sourceQueueArns": [_queue_arn(plan)]}


def test_queue_policy_admits_only_the_two_event_topics(plan):
    policy = json.loads(plan.by_name(f"{plan.prefix}-notifications-policy").inputs["policy"])
    [statement] = policy["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "sns.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Resource"] == _queue_arn(plan)
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": [_topic_arn(plan, "booking-events"), _topic_arn(plan, "payment-events")]}}


def test_both_event_topics_deliver_raw_to_the_queue(plan):
    for topic in ("booking-events", "payment-events"):
        subscription = plan.by_name(f"{plan.prefix}-notifications-from-{topic}").inputs
        assert subscription == {"topic": _topic_arn(plan, topic), "protocol": "sqs", "endpoint": _queue_arn(plan), "rawMessageDelivery": True}


def test_event_source_mapping_reports_batch_item_failures_with_configured_batching(plan):
    mapping = plan.by_name(f"{plan.prefix}-notification-consumer-queue").inputs
    settings = plan.settings.technical("notification", "queue")
    assert mapping["eventSourceArn"] == _queue_arn(plan)
    assert mapping["functionName"] == plan.arn("lambda", f"function:{plan.prefix}-notification-consumer")
    assert mapping["functionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["batchSize"] == settings["batch_size"]
    assert mapping["maximumBatchingWindowInSeconds"] == settings["max_batching_window_seconds"]
    assert mapping["scalingConfig"] == {"maximumConcurrency": settings["max_concurrency"]}


def test_queue_and_mapping_follow_a_config_change_with_no_code_change(plans: PlanStore):
    settings = settings_for("globex", "dev")
    defaults = settings.technical("notification", "queue")
    # Each value moved off its default (a larger batch needs a batching window, fewer pollers).
    tuned_values = {key: int(defaults[key]) + 1 for key in ("batch_size", "max_batching_window_seconds", "max_receive_count", "visibility_timeout_seconds")}
    tuned_values["max_concurrency"] = int(defaults["max_concurrency"]) - 1

    def change(tenant):
        # Only the registry file changes: globex's own config tree gains the tuned queue.
        services = tenant.setdefault("config", {}).setdefault("services", {})
        services.setdefault("notification", {}).setdefault("technical", {})["queue"] = tuned_values

    tuned = plans.with_registry_change("globex-dev", "globex", change)
    mapping = tuned.by_name(f"{tuned.prefix}-notification-consumer-queue").inputs
    assert mapping["batchSize"] == tuned_values["batch_size"]
    assert mapping["maximumBatchingWindowInSeconds"] == tuned_values["max_batching_window_seconds"]
    assert mapping["scalingConfig"] == {"maximumConcurrency": tuned_values["max_concurrency"]}
    queue = tuned.by_name(f"{tuned.prefix}-notifications").inputs
    assert json.loads(queue["redrivePolicy"])["maxReceiveCount"] == tuned_values["max_receive_count"]
    assert queue["visibilityTimeoutSeconds"] == tuned_values["visibility_timeout_seconds"]


def _table_arn(plan, name: str) -> str:
    return plan.arn("dynamodb", f"table/{plan.prefix}-{name}")


def test_role_allows_exactly_its_queue_outbound_topic_audit_send_records_and_recipient_lookups(plan):
    idempotency, bookings = _table_arn(plan, "idempotency"), _table_arn(plan, "bookings")
    assert_role_allows_exactly(
        plan,
        "notification",
        {
            "sqs:ReceiveMessage": {_queue_arn(plan)},
            "sqs:DeleteMessage": {_queue_arn(plan)},
            "sqs:ChangeMessageVisibility": {_queue_arn(plan)},
            "sqs:GetQueueAttributes": {_queue_arn(plan)},
            "sns:Publish": {_topic_arn(plan, "notifications-out")},
            "kms:GenerateDataKey": {plan.key_arn},
            # Audit records, and the claims on each (event, channel) send.
            "dynamodb:PutItem": {_table_arn(plan, "audit"), idempotency},
            "dynamodb:UpdateItem": {idempotency},
            "dynamodb:DeleteItem": {idempotency},
            # One booking's contact: read only, nothing else of the bookings table. The claims are
            # never read on their own (the conditional PutItem returns the one already there).
            "dynamodb:GetItem": {bookings},
            # One user of the tenant's own pool.
            "cognito-idp:AdminGetUser": {plan.arn("cognito-idp", f"userpool/{plan.outputs['user_pool_id']}")},
        },
    )


def test_published_resources_name_queues_topic_tables_and_user_pool(plan):
    assert plan.published_resources("notification") == {
        "queue_url": f"https://sqs.{plan.settings.region}.amazonaws.com/{plan.account}/{plan.prefix}-notifications",
        "dlq_url": f"https://sqs.{plan.settings.region}.amazonaws.com/{plan.account}/{plan.prefix}-notifications-dlq",
        "outbound_topic_arn": _topic_arn(plan, "notifications-out"),
        "audit_table": f"{plan.prefix}-audit",
        "idempotency_table": f"{plan.prefix}-idempotency",
        "bookings_table": f"{plan.prefix}-bookings",
        "user_pool_id": plan.outputs["user_pool_id"],
    }


def test_ses_send_is_granted_only_for_a_configured_sender():
    assert ses_grants(_tuned(lambda queue: None)) == []

    def change(config):
        config["services"]["notification"]["integration"]["service_endpoints"] = {"ses_sender": "noreply@acme.example"}

    ctx = TenantContext(with_config(settings_for("acme", "dev"), change), DEV_ACCOUNT, "k", "", "")
    [grant] = ses_grants(ctx)
    assert list(grant.resources) == [f"arn:aws:ses:ap-south-1:{DEV_ACCOUNT}:identity/noreply@acme.example"]
    assert set(grant.actions) == {"ses:SendEmail", "ses:SendRawEmail"}


def _function_timeout() -> int:
    return int(settings_for("acme", "dev").global_section("operational")["timeouts"]["function_timeout_seconds"])


def _reserved_concurrency() -> int:
    return int(settings_for("acme", "dev").technical("notification", "scaling_policies")["reserved_concurrency"])


@pytest.mark.parametrize(
    ("change", "entry"),
    [
        (lambda q: q.update(visibility_timeout_seconds=_function_timeout() - 1), "visibility_timeout_seconds"),
        (lambda q: q.update(max_concurrency=_reserved_concurrency() + 1), "max_concurrency"),
        (lambda q: q.update(batch_size=UNWINDOWED_BATCH_LIMIT + 1, max_batching_window_seconds=0), "max_batching_window_seconds"),
    ],
)
def test_queue_settings_aws_would_reject_fail_in_the_plan_naming_the_entry(change, entry):
    with pytest.raises(UserError, match=rf"services\.notification\.technical\.queue\.{entry}"):
        checked_queue_settings(_tuned(change))


def test_default_queue_settings_pass_the_checks():
    assert checked_queue_settings(_tuned(lambda queue: None))["batch_size"] == settings_for("acme", "dev").technical("notification", "queue")["batch_size"]


@pytest.mark.parametrize("retention", ["message_retention_seconds", "dlq_message_retention_seconds"])
def test_send_records_kept_shorter_than_a_message_can_be_redelivered_fail_in_the_plan(retention):
    queue = settings_for("acme", "dev").technical("notification", "queue")

    def shorter_records(business):
        business["sent_record_retention_seconds"] = int(queue[retention]) - 1

    with pytest.raises(UserError, match=r"services\.notification\.business\.sent_record_retention_seconds"):
        checked_queue_settings(_tuned(lambda queue: None, shorter_records))
