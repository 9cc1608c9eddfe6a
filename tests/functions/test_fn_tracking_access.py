"""Object-level authorization of the tracking API (OWASP API1), through the real handlers on moto.

Positions belong to a booking made through the booking handler: its customer ``OWNER``, the
driver dispatch assigned, ``DRIVER``. Each route is tried with principals its rule allows and
refuses: reporting is the assigned driver's (or an operator's); following is the customer's, the
assigned driver's and operators'. A refusal is the same 404 as a missing booking, and a refused
report stores nothing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Iterator

import pytest

from common import clock

from .fn_bookings import DISPATCHER, DRIVER, OTHER_CUSTOMER, OTHER_DRIVER, OWNER
from .fn_support import response_json
from .fn_tracking import Tracked, position, shared_tracked

MISSING_ID = "bk_aaaaaaaaaaaaaaaaaaaaaaaaaa"
ALLOWED_TO_FOLLOW = [(OWNER, "customer"), (DRIVER, "driver"), (DISPATCHER, "dispatcher")]
REFUSED_TO_FOLLOW = [(OTHER_CUSTOMER, "customer"), (OTHER_DRIVER, "driver")]


# One tenant for the module (provisioning is most of a test's time); each test tracks a booking of its own.
pytestmark = pytest.mark.xdist_group("tracking-access")


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tracked]:
    with shared_tracked(tmp_path_factory.mktemp("tracking-access")) as tracked:
        yield tracked


@pytest.fixture
def tracked(shared: Tracked) -> Tracked:
    """A booking of ``OWNER`` assigned to ``DRIVER``, with one position reported."""
    tracked = shared.fresh()
    assert tracked.post(position(clock.utc_now() - timedelta(minutes=1)))["statusCode"] == 201
    return tracked


def assert_like_missing(tracked: Tracked, refused: dict[str, object], route: str, user: str, roles: str) -> None:
    """``refused`` is word for word the answer to the same request on a booking that does not exist."""
    missing = tracked.send("GET", f"/tracking/{MISSING_ID}/{route}", user=user, roles=roles)
    assert refused["statusCode"] == missing["statusCode"] == 404
    assert response_json(refused)["error"]["message"] == response_json(missing)["error"]["message"]


# --- ingest --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("user", "roles"), [(DRIVER, "driver"), ("admin-1", "admin")], ids=["assigned-driver", "operator"])
def test_the_assigned_driver_and_operators_report_positions(tracked: Tracked, user: str, roles: str) -> None:
    response = tracked.post(position(), user=user, roles=roles)
    assert response["statusCode"] == 201
    assert response_json(response)["reported_by"] == user
    assert len(tracked.positions()) == 2


@pytest.mark.parametrize(("user", "roles", "status"), [(OTHER_DRIVER, "driver", 404), (OWNER, "customer", 403)], ids=["another-driver", "the-customer"])
def test_other_drivers_and_customers_report_nothing(tracked: Tracked, user: str, roles: str, status: int) -> None:
    before = tracked.positions()
    response = tracked.post(position(), user=user, roles=roles)
    # Customers are not granted tracking:write at all (403); another driver is, but not on this booking.
    assert response["statusCode"] == status
    assert tracked.positions() == before


def test_no_driver_reports_on_a_booking_not_yet_assigned(tracked: Tracked) -> None:
    pending = tracked.booking(OWNER, driver=None)
    assert tracked.post(position(), booking_id=pending)["statusCode"] == 404
    assert tracked.dispatch.assign(pending, DRIVER)["statusCode"] == 200
    assert tracked.post(position(), booking_id=pending)["statusCode"] == 201


def test_reporting_on_a_booking_that_does_not_exist_is_404_and_stores_nothing(tracked: Tracked) -> None:
    before = tracked.table("tracking")
    response = tracked.post(position(), booking_id=MISSING_ID)
    assert response["statusCode"] == 404
    assert response_json(response)["error"]["message"] == "booking not found"
    assert tracked.table("tracking") == before


def test_a_reassigned_booking_takes_reports_from_its_new_driver_only(tracked: Tracked) -> None:
    assert tracked.dispatch.assign(tracked.booking_id, OTHER_DRIVER)["statusCode"] == 200
    assert tracked.post(position(), user=DRIVER)["statusCode"] == 404
    assert tracked.post(position(), user=OTHER_DRIVER)["statusCode"] == 201


# --- latest and history --------------------------------------------------------------------------


@pytest.mark.parametrize("route", ["latest", "history"])
@pytest.mark.parametrize(("user", "roles"), ALLOWED_TO_FOLLOW, ids=["owner", "assigned-driver", "dispatcher"])
def test_the_customer_the_assigned_driver_and_operators_follow_the_booking(tracked: Tracked, route: str, user: str, roles: str) -> None:
    response = tracked.send("GET", f"/tracking/{tracked.booking_id}/{route}", user=user, roles=roles)
    assert response["statusCode"] == 200
    body = response_json(response)
    assert (body["items"][0] if route == "history" else body)["booking_id"] == tracked.booking_id


@pytest.mark.parametrize("route", ["latest", "history"])
@pytest.mark.parametrize(("user", "roles"), REFUSED_TO_FOLLOW, ids=["another-customer", "another-driver"])
def test_other_customers_and_drivers_cannot_follow_it(tracked: Tracked, route: str, user: str, roles: str) -> None:
    refused = tracked.send("GET", f"/tracking/{tracked.booking_id}/{route}", user=user, roles=roles)
    assert_like_missing(tracked, refused, route, user, roles)
    assert "19.076" not in refused["body"]


def test_each_customer_follows_their_own_booking_only(tracked: Tracked) -> None:
    theirs = tracked.booking(OTHER_CUSTOMER, OTHER_DRIVER)
    assert tracked.post(position(), booking_id=theirs, user=OTHER_DRIVER)["statusCode"] == 201
    assert tracked.latest(theirs, user=OTHER_CUSTOMER, roles="customer")["statusCode"] == 200
    assert tracked.latest(theirs, user=OWNER, roles="customer")["statusCode"] == 404
    assert tracked.latest(user=OTHER_CUSTOMER, roles="customer")["statusCode"] == 404
