"""Create, Read (refresh), Update and Delete against the durable local cloud."""

from __future__ import annotations

import grpc
import pytest

from platformctl.localaws.store import CloudStore
from platformctl.localaws.values import SECRET_SIGNATURE, SIGNATURE_KEY, UNKNOWN, to_dict

from .client import ProviderClient

TABLE = "aws:dynamodb/table:Table"
KEY = "aws:kms/key:Key"
PARAMETER = "aws:ssm/parameter:Parameter"
TABLE_INPUTS = {"name": "acme-dev-bookings", "hashKey": "pk", "attributes": [{"name": "pk", "type": "S"}], "billingMode": "PAY_PER_REQUEST"}


def test_create_fabricates_aws_shaped_ids_and_arns_in_the_configured_account_and_region(provider: ProviderClient, store: CloudStore):
    provider.configure(region="eu-west-1", allowedAccountIds=["111111111111"])
    table_id, table = provider.create(TABLE, "acme-dev-bookings", TABLE_INPUTS)
    assert table_id == "acme-dev-bookings"
    assert table["arn"] == "arn:aws:dynamodb:eu-west-1:111111111111:table/acme-dev-bookings"
    assert table["hashKey"] == "pk" and table["id"] == table_id
    key_id, key = provider.create(KEY, "acme-dev-key", {"enableKeyRotation": True})
    assert key["arn"] == f"arn:aws:kms:eu-west-1:111111111111:key/{key_id}"
    assert {r.id for r in store.list()} == {table_id, key_id}


def test_same_inputs_give_the_same_ids_every_time(provider: ProviderClient, store: CloudStore):
    provider.configure()
    first = provider.create(KEY, "acme-dev-key", {"description": "k"})
    provider.delete(KEY, "acme-dev-key", first[0], first[1])
    assert provider.create(KEY, "acme-dev-key", {"description": "k"}) == first


def test_a_preview_create_stores_nothing_and_leaves_computed_values_unknown_when_inputs_are(provider: ProviderClient, store: CloudStore):
    provider.configure()
    resource_id, state = provider.create(TABLE, "acme-dev-bookings", TABLE_INPUTS, preview=True)
    assert resource_id == "" and state["arn"].endswith(":table/acme-dev-bookings")
    _, pending = provider.create(PARAMETER, "acme-dev-p", {"name": "/acme/p", "value": UNKNOWN}, preview=True)
    assert pending["arn"] == UNKNOWN
    assert store.list() == []


def test_secret_inputs_stay_secret_in_the_state(provider: ProviderClient):
    provider.configure()
    secret = {SIGNATURE_KEY: SECRET_SIGNATURE, "value": "s3cr3t"}
    _, state = provider.create(PARAMETER, "acme-dev-p", {"name": "/acme/p", "type": "SecureString", "value": secret})
    assert state["value"] == secret
    assert state["arn"] == "arn:aws:ssm:eu-west-1:123456789012:parameter/acme/p"


def test_read_returns_what_the_cloud_holds_including_an_out_of_band_edit(provider: ProviderClient, store: CloudStore):
    provider.configure()
    table_id, state = provider.create(TABLE, "acme-dev-bookings", TABLE_INPUTS)
    unchanged = provider.read(TABLE, "acme-dev-bookings", table_id, state)
    assert unchanged.id == table_id and to_dict(unchanged.properties) == state
    [record] = store.find(urn_contains="acme-dev-bookings")
    store.edit(record, {"billingMode": "PROVISIONED"})
    drifted = provider.read(TABLE, "acme-dev-bookings", table_id, state)
    assert to_dict(drifted.properties)["billingMode"] == "PROVISIONED"
    assert to_dict(drifted.inputs)["billingMode"] == "PROVISIONED"


def test_read_after_an_out_of_band_delete_says_the_resource_is_gone(provider: ProviderClient, store: CloudStore):
    provider.configure()
    table_id, state = provider.create(TABLE, "acme-dev-bookings", TABLE_INPUTS)
    [record] = store.find(type_=TABLE)
    assert store.remove(record)
    assert provider.read(TABLE, "acme-dev-bookings", table_id, state).id == ""


def test_update_changes_the_stored_resource_and_keeps_its_identity(provider: ProviderClient, store: CloudStore):
    provider.configure()
    table_id, state = provider.create(TABLE, "acme-dev-bookings", {**TABLE_INPUTS, "tags": {"a": "1"}})
    news = {**TABLE_INPUTS, "billingMode": "PROVISIONED", "readCapacity": 5}
    updated = provider.update(TABLE, "acme-dev-bookings", table_id, state, {**TABLE_INPUTS, "tags": {"a": "1"}}, news)
    assert updated["billingMode"] == "PROVISIONED" and updated["readCapacity"] == 5
    assert updated["arn"] == state["arn"] and updated["id"] == table_id
    assert "tags" not in updated  # dropped by the program
    [record] = store.list()
    assert record.inputs == news and record.outputs == updated


def test_updating_a_resource_deleted_out_of_band_fails_like_aws(provider: ProviderClient, store: CloudStore):
    provider.configure()
    table_id, state = provider.create(TABLE, "acme-dev-bookings", TABLE_INPUTS)
    store.remove(store.list()[0])
    with pytest.raises(grpc.RpcError) as raised:
        provider.update(TABLE, "acme-dev-bookings", table_id, state, TABLE_INPUTS, {**TABLE_INPUTS, "billingMode": "PROVISIONED"})
    assert "NotFound" in raised.value.details()


def test_delete_removes_the_resource_from_the_cloud(provider: ProviderClient, store: CloudStore):
    provider.configure()
    table_id, state = provider.create(TABLE, "acme-dev-bookings", TABLE_INPUTS)
    key_id, key = provider.create(KEY, "acme-dev-key", {})
    provider.delete(TABLE, "acme-dev-bookings", table_id, state)
    assert [r.id for r in store.list()] == [key_id]
    provider.delete(KEY, "acme-dev-key", key_id, key)
    assert store.list() == []


def test_two_stacks_cannot_claim_one_physical_name(provider: ProviderClient):
    provider.configure()
    provider.create(TABLE, "acme-dev-bookings", TABLE_INPUTS)
    with pytest.raises(grpc.RpcError) as raised:
        provider.create(TABLE, "acme-dev-bookings", TABLE_INPUTS, stack="other-dev")
    assert "AlreadyExists" in raised.value.details()


def test_a_name_that_lives_in_its_parent_may_repeat_across_parents_but_not_within_one(provider: ProviderClient):
    group = "aws:cognito/userGroup:UserGroup"
    provider.configure()
    first_id, _ = provider.create(group, "acme-dev-auth-group-admin", {"name": "admin", "userPoolId": "pool-acme"})
    second_id, _ = provider.create(group, "globex-dev-auth-group-admin", {"name": "admin", "userPoolId": "pool-globex"}, stack="globex-dev")
    assert (first_id, second_id) == ("pool-acme/admin", "pool-globex/admin")
    with pytest.raises(grpc.RpcError) as raised:
        provider.create(group, "other-dev-auth-group-admin", {"name": "admin", "userPoolId": "pool-acme"}, stack="other-dev")
    assert "AlreadyExists" in raised.value.details()
