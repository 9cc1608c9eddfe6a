"""Check (autonaming) and Diff (exactly what changed, and what AWS cannot change in place)."""

from __future__ import annotations

from pulumi.runtime.proto import provider_pb2

from platformctl.localaws.values import UNKNOWN
from ubertruck.defaults import load_defaults

from .client import ProviderClient

TABLE = "aws:dynamodb/table:Table"
FUNCTION = "aws:lambda/function:Function"
ALIAS = "aws:kms/alias:Alias"
PARAMETER = "aws:ssm/parameter:Parameter"
REST_API = "aws:apigateway/restApi:RestApi"
KIND = provider_pb2.PropertyDiff.Kind

TABLE_INPUTS = {
    "name": "acme-dev-bookings",
    "hashKey": "pk",
    "attributes": [{"name": "pk", "type": "S"}],
    "billingMode": "PAY_PER_REQUEST",
    "tags": {"tenant_id": "acme"},
}


def _check_inputs(reply: provider_pb2.CheckResponse) -> dict:
    from platformctl.localaws.values import to_dict

    return to_dict(reply.inputs)


def test_check_invents_a_name_from_the_urn_name_and_the_seed(provider: ProviderClient):
    provider.configure()
    first = _check_inputs(provider.check(TABLE, "acme-dev-events", {"hashKey": "pk"}, seed=b"one"))["name"]
    again = _check_inputs(provider.check(TABLE, "acme-dev-events", {"hashKey": "pk"}, seed=b"one"))["name"]
    other = _check_inputs(provider.check(TABLE, "acme-dev-events", {"hashKey": "pk"}, seed=b"two"))["name"]
    suffix_length = load_defaults().localaws.autoname_suffix_length
    assert first == again
    assert first != other
    assert first.startswith("acme-dev-events-") and len(first) == len("acme-dev-events-") + suffix_length


def test_check_keeps_a_given_name_and_an_update_keeps_the_invented_one(provider: ProviderClient):
    provider.configure()
    assert _check_inputs(provider.check(TABLE, "t", {"name": "acme-dev-given"}))["name"] == "acme-dev-given"
    kept = _check_inputs(provider.check(TABLE, "t", {"hashKey": "pk"}, olds={"name": "t-abc1234"}, seed=b"new"))
    assert kept["name"] == "t-abc1234"


def test_check_leaves_name_to_aws_when_a_prefix_is_given_and_never_names_unnamed_types(provider: ProviderClient):
    provider.configure()
    assert "name" not in _check_inputs(provider.check("aws:iam/role:Role", "r", {"namePrefix": "acme-dev-"}))
    assert "name" not in _check_inputs(provider.check("aws:lambda/permission:Permission", "p", {"action": "lambda:InvokeFunction"}))
    # A stage's name is required, never invented.
    assert "stageName" not in _check_inputs(provider.check("aws:apigateway/stage:Stage", "s", {"restApi": "abc"}))


def test_diff_of_equal_inputs_is_none(provider: ProviderClient):
    provider.configure()
    reply = provider.diff(TABLE, "acme-dev-bookings", "acme-dev-bookings", TABLE_INPUTS, dict(TABLE_INPUTS))
    assert reply.changes == provider_pb2.DiffResponse.DIFF_NONE
    assert list(reply.diffs) == [] and list(reply.replaces) == []


def test_numbers_and_secretness_alone_are_no_change(provider: ProviderClient):
    provider.configure()
    from platformctl.localaws.values import SECRET_SIGNATURE, SIGNATURE_KEY

    olds = {"name": "p", "value": "v", "tier": 3}
    news = {"name": "p", "value": {SIGNATURE_KEY: SECRET_SIGNATURE, "value": "v"}, "tier": 3.0}
    assert provider.diff(PARAMETER, "p", "p", olds, news).changes == provider_pb2.DiffResponse.DIFF_NONE


def test_diff_reports_exactly_the_changed_properties_in_place(provider: ProviderClient):
    provider.configure()
    news = {**TABLE_INPUTS, "billingMode": "PROVISIONED", "tags": {"tenant_id": "acme", "team": "x"}, "readCapacity": 5}
    del news["hashKey"]
    news["hashKey"] = "pk"  # same value, re-inserted: order must not matter
    reply = provider.diff(TABLE, "acme-dev-bookings", "acme-dev-bookings", TABLE_INPUTS, news)
    assert reply.changes == provider_pb2.DiffResponse.DIFF_SOME
    assert sorted(reply.diffs) == ["billingMode", "readCapacity", "tags"]
    assert {k: v.kind for k, v in reply.detailedDiff.items()} == {"billingMode": KIND.UPDATE, "readCapacity": KIND.ADD, "tags": KIND.UPDATE}
    assert reply.hasDetailedDiff and list(reply.replaces) == []


def test_a_removed_property_is_a_delete(provider: ProviderClient):
    provider.configure()
    news = {k: v for k, v in TABLE_INPUTS.items() if k != "tags"}
    reply = provider.diff(TABLE, "acme-dev-bookings", "acme-dev-bookings", TABLE_INPUTS, news)
    assert list(reply.diffs) == ["tags"] and reply.detailedDiff["tags"].kind == KIND.DELETE


def test_changing_a_table_key_replaces_the_table_deleting_first(provider: ProviderClient):
    provider.configure()
    news = {**TABLE_INPUTS, "hashKey": "id", "attributes": [{"name": "id", "type": "S"}]}
    reply = provider.diff(TABLE, "acme-dev-bookings", "acme-dev-bookings", TABLE_INPUTS, news)
    assert sorted(reply.replaces) == ["attributes", "hashKey"]
    assert reply.detailedDiff["hashKey"].kind == KIND.UPDATE_REPLACE
    # Same table name: the new table cannot exist beside the old one.
    assert reply.deleteBeforeReplace


def test_changing_a_key_attribute_type_replaces_but_adding_an_index_attribute_does_not(provider: ProviderClient):
    provider.configure()
    retyped = {**TABLE_INPUTS, "attributes": [{"name": "pk", "type": "N"}]}
    assert list(provider.diff(TABLE, "t", "acme-dev-bookings", TABLE_INPUTS, retyped).replaces) == ["attributes"]
    indexed = {**TABLE_INPUTS, "attributes": [{"name": "pk", "type": "S"}, {"name": "status", "type": "S"}]}
    reply = provider.diff(TABLE, "t", "acme-dev-bookings", TABLE_INPUTS, indexed)
    assert list(reply.diffs) == ["attributes"] and list(reply.replaces) == []


def test_renaming_replaces_where_the_name_is_the_identity(provider: ProviderClient):
    provider.configure()
    for type_, key in [
        (TABLE, "name"), (FUNCTION, "name"), (ALIAS, "name"), (PARAMETER, "name"),
        ("aws:lambda/layerVersion:LayerVersion", "layerName"), ("aws:cloudwatch/dashboard:Dashboard", "dashboardName"),
    ]:
        reply = provider.diff(type_, "r", "old", {key: "acme-dev-old"}, {key: "acme-dev-new"})
        assert list(reply.replaces) == [key], type_
        # A different name can stand beside the old resource: create first, then delete.
        assert not reply.deleteBeforeReplace, type_


def test_renaming_a_rest_api_is_in_place(provider: ProviderClient):
    provider.configure()
    reply = provider.diff(REST_API, "api", "abc", {"name": "acme-dev-api"}, {"name": "acme-dev-api2"})
    assert list(reply.diffs) == ["name"] and list(reply.replaces) == []


def test_any_change_to_a_lambda_permission_replaces_it(provider: ProviderClient):
    provider.configure()
    olds = {"action": "lambda:InvokeFunction", "function": "f", "principal": "apigateway.amazonaws.com"}
    reply = provider.diff("aws:lambda/permission:Permission", "perm", "perm", olds, {**olds, "sourceArn": "arn:aws:execute-api:eu-west-1:1:a/*"})
    assert list(reply.replaces) == ["sourceArn"]


def test_unknown_values_in_a_preview_count_as_changed(provider: ProviderClient):
    provider.configure()
    olds = {"name": "acme-dev-f", "role": "arn:aws:iam::1:role/r", "runtime": "python3.11"}
    reply = provider.diff(FUNCTION, "f", "acme-dev-f", olds, {**olds, "role": UNKNOWN})
    assert list(reply.diffs) == ["role"] and list(reply.replaces) == []
    renamed = provider.diff(FUNCTION, "f", "acme-dev-f", olds, {**olds, "name": UNKNOWN})
    assert list(renamed.replaces) == ["name"]


def test_ignore_changes_hides_exactly_the_ignored_paths(provider: ProviderClient):
    provider.configure()
    news = {**TABLE_INPUTS, "billingMode": "PROVISIONED", "tags": {"tenant_id": "acme", "team": "x"}}
    reply = provider.diff(TABLE, "t", "acme-dev-bookings", TABLE_INPUTS, news, ignore=["billingMode"])
    assert list(reply.diffs) == ["tags"]
    nested = provider.diff(TABLE, "t", "acme-dev-bookings", TABLE_INPUTS, news, ignore=["billingMode", "tags.team"])
    assert nested.changes == provider_pb2.DiffResponse.DIFF_NONE
    renamed = provider.diff(TABLE, "t", "acme-dev-bookings", TABLE_INPUTS, {**TABLE_INPUTS, "name": "other"}, ignore=["name"])
    assert renamed.changes == provider_pb2.DiffResponse.DIFF_NONE
