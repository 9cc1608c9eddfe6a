"""The plugin contract the engine relies on: port on stdout, handshake, info, config, shutdown."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import empty_pb2
from pulumi.runtime.proto import provider_pb2

from ubertruck.defaults import load_defaults

from .client import ProviderClient
from .conftest import start_provider, stop_provider


def test_prints_only_its_port_and_stops_cleanly_on_sigint(tmp_path):
    process, port = start_provider(tmp_path / "cloud")
    client = ProviderClient(port)
    assert client.plugin_version()
    client.close()
    assert stop_provider(process) == 0
    assert process.stdout.read() == ""  # nothing after the port line


def test_plugin_version_is_the_pinned_pulumi_aws_version(provider: ProviderClient):
    assert provider.plugin_version() == load_defaults().offline.aws_provider_version


def test_handshake_accepts_secrets_but_not_resources_or_outputs(provider: ProviderClient):
    reply = provider.stub.Handshake(provider_pb2.ProviderHandshakeRequest(engine_address="127.0.0.1:1"))
    assert (reply.accept_secrets, reply.accept_resources, reply.accept_outputs) == (True, False, False)


def test_configure_supports_preview_and_uses_the_configured_region_and_account(provider: ProviderClient):
    reply = provider.configure(region="ap-south-1", allowedAccountIds=["111111111111", "222222222222"])
    assert reply.supportsPreview and reply.acceptSecrets
    identity = provider.invoke("aws:index/getCallerIdentity:getCallerIdentity")
    assert identity["accountId"] == "111111111111"
    assert provider.invoke("aws:index/getRegion:getRegion")["region"] == "ap-south-1"


def test_configure_from_engine_variables(provider: ProviderClient):
    request = provider_pb2.ConfigureRequest(variables={"aws:region": "us-west-2", "aws:allowedAccountIds": '["333333333333"]'})
    provider.stub.Configure(request)
    assert provider.invoke("aws:index/getCallerIdentity:getCallerIdentity")["accountId"] == "333333333333"
    assert provider.invoke("aws:index/getRegion:getRegion")["region"] == "us-west-2"


def test_configure_without_any_account_pin_uses_the_default_account(provider: ProviderClient):
    provider.configure()
    assert provider.invoke("aws:index/getCallerIdentity:getCallerIdentity")["accountId"] == load_defaults().localaws.default_account_id


def test_schema_names_the_package_and_mappings_are_empty(provider: ProviderClient):
    assert '"name": "aws"' in provider.stub.GetSchema(provider_pb2.GetSchemaRequest()).schema
    assert provider.stub.GetMappings(provider_pb2.GetMappingsRequest(key="terraform")).providers == []
    assert provider.stub.GetMapping(provider_pb2.GetMappingRequest(key="terraform")).data == b""
    provider.stub.Cancel(empty_pb2.Empty())


def test_methods_it_does_not_implement_answer_unimplemented(provider: ProviderClient):
    with pytest.raises(grpc.RpcError) as raised:
        provider.stub.Construct(provider_pb2.ConstructRequest())
    assert raised.value.code() == grpc.StatusCode.UNIMPLEMENTED


def test_unknown_invoke_is_a_clear_error(provider: ProviderClient):
    provider.configure()
    with pytest.raises(grpc.RpcError) as raised:
        provider.invoke("aws:ec2/getAmi:getAmi")
    assert "aws:ec2/getAmi:getAmi" in raised.value.details()


def test_partition_is_answered(provider: ProviderClient):
    provider.configure()
    assert provider.invoke("aws:index/getPartition:getPartition")["partition"] == "aws"


def test_check_config_passes_the_config_through_and_diff_config_names_what_changed(provider: ProviderClient):
    from platformctl.localaws.values import to_dict, to_struct

    news = to_struct({"region": "eu-west-1", "allowedAccountIds": ["111111111111"]})
    assert to_dict(provider.stub.CheckConfig(provider_pb2.CheckRequest(urn="urn:pulumi:s::p::pulumi:providers:aws::default", news=news)).inputs) == to_dict(news)
    olds = to_struct({"region": "eu-west-1", "allowedAccountIds": ["111111111111"]})
    moved = to_struct({"region": "eu-central-1", "allowedAccountIds": ["111111111111"]})
    reply = provider.stub.DiffConfig(provider_pb2.DiffRequest(olds=olds, old_inputs=olds, news=moved))
    assert list(reply.diffs) == ["region"] and reply.changes == provider_pb2.DiffResponse.DIFF_SOME
    assert provider.stub.DiffConfig(provider_pb2.DiffRequest(olds=olds, old_inputs=olds, news=olds)).changes == provider_pb2.DiffResponse.DIFF_NONE


def test_configure_refuses_a_forbidden_account(provider: ProviderClient):
    with pytest.raises(grpc.RpcError) as raised:
        provider.configure(allowedAccountIds=["111111111111"], forbiddenAccountIds=["111111111111"])
    assert "111111111111" in raised.value.details()


def test_configure_without_a_region_is_refused_as_the_real_provider_does(provider: ProviderClient):
    with pytest.raises(grpc.RpcError) as raised:
        provider.stub.Configure(provider_pb2.ConfigureRequest(variables={}))
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "aws:region" in raised.value.details()
