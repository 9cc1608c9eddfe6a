"""Injected faults (test tooling): permanent and transient failures, matched by operation, URN, type."""

from __future__ import annotations

import grpc
import pytest

from platformctl.localaws.faults import Fault, install_faults
from platformctl.localaws.store import CloudStore
from ubertruck.defaults import load_defaults

from .client import ProviderClient

TABLE = "aws:dynamodb/table:Table"
TOPIC = "aws:sns/topic:Topic"


def test_a_permanent_fault_fails_every_matching_create_and_nothing_else(provider: ProviderClient, store: CloudStore):
    provider.configure()
    install_faults(store.root, [Fault("create", urn_contains="acme-dev-bookings", message="LimitExceededException: too many tables")])
    for _ in range(2):
        with pytest.raises(grpc.RpcError) as raised:
            provider.create(TABLE, "acme-dev-bookings", {"name": "acme-dev-bookings"})
        assert raised.value.details() == "LimitExceededException: too many tables"
        assert load_defaults().localaws.transient_error not in raised.value.details()
    provider.create(TABLE, "acme-dev-tracking", {"name": "acme-dev-tracking"})
    assert [r.id for r in store.list()] == ["acme-dev-tracking"]


def test_a_transient_fault_says_throttled_and_is_spent_after_its_count(provider: ProviderClient, store: CloudStore):
    provider.configure()
    install_faults(store.root, [Fault("create", type=TOPIC, message="slow down", transient=True, times=1)])
    with pytest.raises(grpc.RpcError) as raised:
        provider.create(TOPIC, "acme-dev-events", {"name": "acme-dev-events"})
    assert raised.value.details() == f"{load_defaults().localaws.transient_error}: slow down"
    resource_id, _ = provider.create(TOPIC, "acme-dev-events", {"name": "acme-dev-events"})
    assert resource_id == "acme-dev-events"


def test_faults_match_by_operation(provider: ProviderClient, store: CloudStore):
    provider.configure()
    resource_id, state = provider.create(TABLE, "acme-dev-bookings", {"name": "acme-dev-bookings"})
    install_faults(store.root, [Fault("delete", message="ResourceInUseException")])
    assert provider.read(TABLE, "acme-dev-bookings", resource_id, state).id == resource_id
    with pytest.raises(grpc.RpcError):
        provider.delete(TABLE, "acme-dev-bookings", resource_id, state)
    assert len(store.list()) == 1
