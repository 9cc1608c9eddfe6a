"""The tracking service component, planned offline for acme (dev) and globex (dev)."""

from __future__ import annotations

from tests.components._service_checks import ServiceFunctionContract, assert_role_allows_exactly, assert_table_secure

COMPONENT = "ubertruck:tracking:TrackingService"


class TestTrackingFunction(ServiceFunctionContract):
    service, function, component = "tracking", "api", COMPONENT


def test_component_holds_table_role_function_and_published_resources(plan):
    names = {(r.type, r.name) for r in plan.under(COMPONENT)}
    p = plan.prefix
    assert {
        ("aws:dynamodb/table:Table", f"{p}-tracking"),
        ("aws:iam/role:Role", f"{p}-tracking"),
        ("aws:iam/rolePolicy:RolePolicy", f"{p}-tracking-policy"),
        ("aws:lambda/function:Function", f"{p}-tracking-api"),
        ("aws:cloudwatch/logGroup:LogGroup", f"{p}-tracking-api-logs"),
        ("aws:ssm/parameter:Parameter", f"{p}-config-services-tracking-dev-integration-resources"),
    } <= names
    # Tracking publishes no events and owns no queue.
    assert not [r for r in plan.under(COMPONENT) if r.type.startswith(("aws:sns/", "aws:sqs/"))]


def test_tracking_table_uses_tenant_key_pitr_and_retention_ttl(plan):
    assert_table_secure(plan, "tracking", "expires_at")


def test_role_allows_exactly_its_table_the_audit_trail_and_reading_one_booking(plan):
    tracking = plan.arn("dynamodb", f"table/{plan.prefix}-tracking")
    audit = plan.arn("dynamodb", f"table/{plan.prefix}-audit")
    bookings = plan.arn("dynamodb", f"table/{plan.prefix}-bookings")
    # Whose a booking is (its customer and driver) is one GetItem; nothing else of the bookings table.
    assert_role_allows_exactly(
        plan,
        "tracking",
        {
            "dynamodb:GetItem": {tracking, bookings},
            "dynamodb:PutItem": {tracking, audit},
            "dynamodb:UpdateItem": {tracking},
            "dynamodb:Query": {tracking},
        },
    )


def test_routes_cover_ingest_latest_history(plan):
    # Listed as the service declares them; the API lays them out sorted by route key.
    assert plan.routes("tracking") == sorted([
        "POST /tracking/{booking_id}/positions",
        "GET /tracking/{booking_id}/latest",
        "GET /tracking/{booking_id}/history",
    ])


def test_published_resources_name_its_tables(plan):
    assert plan.published_resources("tracking") == {
        "tracking_table": f"{plan.prefix}-tracking",
        "audit_table": f"{plan.prefix}-audit",
        "bookings_table": f"{plan.prefix}-bookings",
    }
