"""A thin client of the provider protocol for tests: dicts in, dicts out."""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf import empty_pb2
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from platformctl.localaws.values import to_dict, to_struct

STACK, PROJECT = "acme-dev", "ubertruck"


def urn(type_: str, name: str, stack: str = STACK) -> str:
    return f"urn:pulumi:{stack}::{PROJECT}::{type_}::{name}"


class ProviderClient:
    def __init__(self, port: int) -> None:
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self.stub = provider_pb2_grpc.ResourceProviderStub(self.channel)

    def close(self) -> None:
        self.channel.close()

    def configure(self, region: str = "eu-west-1", **config: Any) -> provider_pb2.ConfigureResponse:
        return self.stub.Configure(provider_pb2.ConfigureRequest(args=to_struct({"region": region, **config}), acceptSecrets=True))

    def plugin_version(self) -> str:
        return self.stub.GetPluginInfo(empty_pb2.Empty()).version

    def check(self, type_: str, name: str, news: dict[str, Any], olds: dict[str, Any] | None = None, seed: bytes = b"seed") -> provider_pb2.CheckResponse:
        return self.stub.Check(provider_pb2.CheckRequest(urn=urn(type_, name), type=type_, name=name, olds=to_struct(olds or {}), news=to_struct(news), randomSeed=seed))

    def diff(self, type_: str, name: str, resource_id: str, olds: dict[str, Any], news: dict[str, Any], ignore: list[str] | None = None) -> provider_pb2.DiffResponse:
        request = provider_pb2.DiffRequest(
            id=resource_id, urn=urn(type_, name), type=type_, name=name,
            olds=to_struct(olds), old_inputs=to_struct(olds), news=to_struct(news), ignoreChanges=ignore or [],
        )
        return self.stub.Diff(request)

    def create(self, type_: str, name: str, inputs: dict[str, Any], preview: bool = False, stack: str = STACK) -> tuple[str, dict[str, Any]]:
        reply = self.stub.Create(provider_pb2.CreateRequest(urn=urn(type_, name, stack), type=type_, name=name, properties=to_struct(inputs), preview=preview))
        return reply.id, to_dict(reply.properties)

    def read(self, type_: str, name: str, resource_id: str, state: dict[str, Any]) -> provider_pb2.ReadResponse:
        return self.stub.Read(provider_pb2.ReadRequest(id=resource_id, urn=urn(type_, name), type=type_, name=name, properties=to_struct(state)))

    def update(self, type_: str, name: str, resource_id: str, old_state: dict[str, Any], old_inputs: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
        request = provider_pb2.UpdateRequest(id=resource_id, urn=urn(type_, name), type=type_, name=name, olds=to_struct(old_state), old_inputs=to_struct(old_inputs), news=to_struct(news))
        return to_dict(self.stub.Update(request).properties)

    def delete(self, type_: str, name: str, resource_id: str, state: dict[str, Any]) -> None:
        self.stub.Delete(provider_pb2.DeleteRequest(id=resource_id, urn=urn(type_, name), type=type_, name=name, properties=to_struct(state)))

    def invoke(self, token: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
        reply = self.stub.Invoke(provider_pb2.InvokeRequest(tok=token, args=to_struct(args or {})))
        return to_dict(getattr(reply, "return"))
