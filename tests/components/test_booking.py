"""The booking service component, planned offline for acme (dev) and globex (dev)."""

from __future__ import annotations

from tests.components._service_checks import (
    ServiceFunctionContract,
    assert_encrypted_with_tenant_key,
    assert_role_allows_exactly,
    assert_table_secure,
    transactional_grants,
    transactional_resources,
)

COMPONENT = "ubertruck:booking:BookingService"


class TestBookingFunction(ServiceFunctionContract):
    service, function, component = "booking", "api", COMPONENT


def test_component_holds_table_topic_role_function_and_published_resources(plan):
    names = {(r.type, r.name) for r in plan.under(COMPONENT)}
    p = plan.prefix
    assert {
        ("aws:dynamodb/table:Table", f"{p}-bookings"),
        ("aws:sns/topic:Topic", f"{p}-booking-events"),
        ("ubertruck:iam:ServiceRole", f"{p}-booking-role"),
        ("aws:iam/role:Role", f"{p}-booking"),
        ("aws:iam/rolePolicy:RolePolicy", f"{p}-booking-policy"),
        ("ubertruck:function:ServiceFunction", f"{p}-booking-api"),
        ("aws:lambda/function:Function", f"{p}-booking-api"),
        ("aws:cloudwatch/logGroup:LogGroup", f"{p}-booking-api-logs"),
        ("aws:ssm/parameter:Parameter", f"{p}-config-services-booking-dev-integration-resources"),
    } <= names


def test_bookings_table_uses_tenant_key_pitr_and_ttl(plan):
    assert_table_secure(plan, "bookings", "expires_at")


def test_events_topic_is_encrypted_with_tenant_key(plan):
    assert_encrypted_with_tenant_key(plan.by_name(f"{plan.prefix}-booking-events"), plan)


def test_role_allows_exactly_its_tables_and_topic(plan):
    assert_role_allows_exactly(plan, "booking", transactional_grants(plan, "bookings", "booking-events"))


def test_routes_cover_quote_create_list_get_cancel_assign(plan):
    # Listed as the service declares them; the API lays them out sorted by route key.
    assert plan.routes("bookings") == sorted([
        "POST /bookings/quote",
        "POST /bookings",
        "GET /bookings",
        "GET /bookings/{booking_id}",
        "POST /bookings/{booking_id}/cancel",
        "POST /bookings/{booking_id}/assign",
    ])


def test_published_resources_name_its_tables_and_topic(plan):
    assert plan.published_resources("booking") == transactional_resources(plan, "bookings", "booking-events")
