"""Test support for the tracking function: a tenant with tracking provisioned, its function, and
bookings to track, made through the real booking handler (``fn_bookings.Dispatch``).

Every tracking request is checked against its booking's parties, so each ``Tracked`` comes with
one booking of ``OWNER`` assigned to ``DRIVER``; ``Tracked.booking`` makes more.

``shared_tracked`` provisions one tenant in a moto of its own, for a module whose tests each
track a fresh booking (``Tracked.fresh``) and look only at that booking's positions: provisioning
is most of a test's time, and such a module runs in one xdist group so it is done once.
"""

from __future__ import annotations

import dataclasses
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterator

import boto3
from moto import mock_aws

from common import clock

from .conftest import REGION
from .fn_bookings import DRIVER, OWNER, Dispatch
from .fn_services import call_api, provision_services
from .fn_support import Tenant, build_function, import_handler, provision, scan_all, tenant_config

tracking_handler = import_handler("tracking")


def provisioned(provision_tenant: Callable[..., Tenant], tenant_id: str = "acme", config: dict[str, Any] | None = None) -> Tenant:
    """``tenant_id`` with the booking, tracking, payment and notification resources."""
    return provision_services(provision_tenant(tenant_id, config=config), REGION, api_key=f"{tenant_id}-provider-key")


def build(tenant: Tenant, code_root: Path) -> Any:
    return build_function(tracking_handler, tenant, code_root)


def position(at: datetime | None = None, **overrides: Any) -> dict[str, Any]:
    """A valid position update, recorded ``at`` (now by default)."""
    body: dict[str, Any] = {"lat": 19.076, "lon": 72.8777, "speed_kmh": 54.5, "heading_deg": 90, "recorded_at": (at or clock.utc_now()).isoformat()}
    body.update(overrides)
    return body


@dataclass
class Tracked:
    """A tenant's tracking function, its booking API, and one booking of ``OWNER`` driven by ``DRIVER``."""

    tenant: Tenant
    function: Any
    dispatch: Dispatch
    booking_id: str

    @classmethod
    def of(cls, tenant: Tenant, root: Path) -> Tracked:
        dispatch = Dispatch.of(tenant, root / "booking")
        return cls(tenant, build(tenant, root / "tracking"), dispatch, dispatch.booked(OWNER, DRIVER))

    def fresh(self) -> Tracked:
        """This tenant and function, tracking a new booking of ``OWNER`` assigned to ``DRIVER``."""
        return dataclasses.replace(self, booking_id=self.booking())

    def booking(self, owner: str = OWNER, driver: str | None = DRIVER) -> str:
        """Another booking of ``owner`` assigned to ``driver`` (pending when ``None``)."""
        return self.dispatch.booked(owner, driver)

    def send(self, method: str, path: str, *, user: str = DRIVER, roles: str = "driver", tenant: str | None = None, **options: Any) -> dict[str, Any]:
        """A request as ``user`` with ``roles`` of ``tenant`` (this tenant by default)."""
        return call_api(self.function, method, path, user=user, roles=roles, tenant=tenant or self.tenant.tenant_id, **options)

    def post(self, body: dict[str, Any], booking_id: str | None = None, **options: Any) -> dict[str, Any]:
        """``POST /tracking/{booking_id}/positions`` (this booking's by default), as its driver by default."""
        return self.send("POST", f"/tracking/{booking_id or self.booking_id}/positions", body=body, **options)

    def latest(self, booking_id: str | None = None, **options: Any) -> dict[str, Any]:
        return self.send("GET", f"/tracking/{booking_id or self.booking_id}/latest", **options)

    def history(self, booking_id: str | None = None, **options: Any) -> dict[str, Any]:
        return self.send("GET", f"/tracking/{booking_id or self.booking_id}/history", **options)

    def table(self, kind: str) -> list[dict[str, Any]]:
        """Every item of the tenant's ``kind`` table (``tracking``, ``audit``)."""
        return scan_all(boto3.client("dynamodb", region_name=REGION), self.tenant.resources["tracking"][f"{kind}_table"])

    def positions(self) -> list[dict[str, Any]]:
        """The stored positions of this booking."""
        return [item for item in self.table("tracking") if item["booking_id"] == self.booking_id]

    def rules(self) -> dict[str, Any]:
        return dict(self.tenant.config["services"]["tracking"]["business"]["business_rules"])


@contextmanager
def shared_tracked(root: Path, tenant_id: str = "acme") -> Iterator[Tracked]:
    """``tenant_id`` with tracking provisioned in a moto of its own, for a whole module."""
    with mock_aws():
        tenant = provision_services(provision(tenant_id, "dev", tenant_config(tenant_id, "dev"), REGION), REGION, api_key=f"{tenant_id}-provider-key")
        yield Tracked.of(tenant, root)
