"""The ``ResourceProvider`` gRPC service the engine talks to, answered by the registered behaviours.

Methods this class does not define (Parameterize, Construct, Call, List, Attach) keep the
generated base class's answer: gRPC status UNIMPLEMENTED, which the engine understands.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass, field
from collections.abc import Mapping
from typing import Any, Callable, TypeVar

import grpc
from google.protobuf import empty_pb2
from pulumi.runtime.proto import plugin_pb2, provider_pb2, provider_pb2_grpc

from .behaviours import BehaviourRegistry, ResourceError, Target
from .diff import changed_inputs
from .faults import InjectedFault, raise_if_faulted
from .invokes import UnknownFunction, answer_invoke
from .store import CloudStore
from .values import UNKNOWN, reveal, to_dict, to_struct

log = logging.getLogger(__name__)

PACKAGE = "aws"
#: Where the AWS SDKs look for a region when the provider config names none (as the real provider does).
REGION_ENV_VARS = ("AWS_REGION", "AWS_DEFAULT_REGION")

_KIND = provider_pb2.PropertyDiff.Kind
_CHANGE_KINDS = {
    ("add", False): _KIND.ADD, ("add", True): _KIND.ADD_REPLACE,
    ("delete", False): _KIND.DELETE, ("delete", True): _KIND.DELETE_REPLACE,
    ("update", False): _KIND.UPDATE, ("update", True): _KIND.UPDATE_REPLACE,
}

Reply = TypeVar("Reply")


@dataclass
class ProviderConfig:
    """What Configure told this provider instance."""

    region: str = ""
    account: str = ""
    values: dict[str, Any] = field(default_factory=dict)


def config_values(request: provider_pb2.ConfigureRequest) -> dict[str, Any]:
    """The provider's configuration, from ``args`` (typed) or else ``variables`` (``aws:key`` -> JSON text)."""
    if request.HasField("args"):
        return {key: _decoded(value) for key, value in to_dict(request.args).items()}
    # Keys are ``aws:region``, or ``aws:config:region`` from older engines.
    return {key.removeprefix(PACKAGE + ":").removeprefix("config:"): _decoded(text) for key, text in request.variables.items()}


def _decoded(value: object) -> object:
    """A list or map given as JSON text (``pulumi config set aws:allowedAccountIds '["1"]'``) as itself."""
    if isinstance(value, str) and value[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def split_urn(urn: str) -> tuple[str, str]:
    """``(type, name)`` of a URN ``urn:pulumi:stack::project::parent$type::name``."""
    parts = urn.split("::")
    if len(parts) < 4:
        return "", urn
    return parts[2].rsplit("$", 1)[-1], "::".join(parts[3:])


class LocalAwsProvider(provider_pb2_grpc.ResourceProviderServicer):
    """The stand-in ``aws`` resource provider."""

    def __init__(self, registry: BehaviourRegistry, store: CloudStore, version: str, default_account: str) -> None:
        self.registry = registry
        self.store = store
        self.version = version
        self.default_account = default_account
        self.config = ProviderConfig(account=default_account)
        self.cancelled = threading.Event()

    # -- protocol ---------------------------------------------------------------------------------

    def Handshake(self, request: provider_pb2.ProviderHandshakeRequest, context: grpc.ServicerContext) -> provider_pb2.ProviderHandshakeResponse:
        # Secrets arrive as signed values and go back the same way; resource references and
        # output values are flattened by the engine to plain values, which is all AWS ever sees.
        return provider_pb2.ProviderHandshakeResponse(accept_secrets=True, accept_resources=False, accept_outputs=False)

    def GetPluginInfo(self, request: empty_pb2.Empty, context: grpc.ServicerContext) -> plugin_pb2.PluginInfo:
        return plugin_pb2.PluginInfo(version=self.version)

    def GetSchema(self, request: provider_pb2.GetSchemaRequest, context: grpc.ServicerContext) -> provider_pb2.GetSchemaResponse:
        return provider_pb2.GetSchemaResponse(schema=json.dumps({"name": PACKAGE, "version": self.version}))

    def CheckConfig(self, request: provider_pb2.CheckRequest, context: grpc.ServicerContext) -> provider_pb2.CheckResponse:
        return provider_pb2.CheckResponse(inputs=request.news)

    def DiffConfig(self, request: provider_pb2.DiffRequest, context: grpc.ServicerContext) -> provider_pb2.DiffResponse:
        olds = to_dict(request.old_inputs) if request.HasField("old_inputs") else to_dict(request.olds)
        changes = changed_inputs(olds, to_dict(request.news), list(request.ignoreChanges))
        return self._diff_response(changes, set(), delete_first=False)

    def Configure(self, request: provider_pb2.ConfigureRequest, context: grpc.ServicerContext) -> provider_pb2.ConfigureResponse:
        values = reveal(config_values(request))
        assert isinstance(values, dict)
        region = values.get("region") or next((os.environ[v] for v in REGION_ENV_VARS if os.environ.get(v)), "")
        if not region:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "missing required configuration key aws:region: set it with `pulumi config set aws:region <region>`")
        allowed = [str(a) for a in values.get("allowedAccountIds") or [] if a != UNKNOWN]
        account = allowed[0] if allowed else self.default_account
        if account in [str(a) for a in values.get("forbiddenAccountIds") or []]:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, f"AWS account ID not allowed: {account} is in forbiddenAccountIds")
        self.config = ProviderConfig(region=str(region), account=account, values=values)
        log.info("configured for account %s in %s", account, region)
        return provider_pb2.ConfigureResponse(acceptSecrets=True, supportsPreview=True, acceptResources=False, acceptOutputs=False)

    def Cancel(self, request: empty_pb2.Empty, context: grpc.ServicerContext) -> empty_pb2.Empty:
        self.cancelled.set()
        return empty_pb2.Empty()

    def GetMapping(self, request: provider_pb2.GetMappingRequest, context: grpc.ServicerContext) -> provider_pb2.GetMappingResponse:
        return provider_pb2.GetMappingResponse(provider="", data=b"")

    def GetMappings(self, request: provider_pb2.GetMappingsRequest, context: grpc.ServicerContext) -> provider_pb2.GetMappingsResponse:
        return provider_pb2.GetMappingsResponse()

    # -- resources --------------------------------------------------------------------------------

    def _target(self, urn: str, type_: str, name: str) -> Target:
        parsed_type, parsed_name = split_urn(urn)
        return Target(urn, type_ or parsed_type, name or parsed_name, self.config.account, self.config.region, self.store)

    def _guarded(self, operation: str, target: Target, context: grpc.ServicerContext, work: Callable[[], Reply]) -> Reply:
        """Run ``work`` unless a fault is injected for it; a refusal becomes the engine's error text."""
        try:
            raise_if_faulted(self.store.root, operation, target.urn, target.type)
            return work()
        except (InjectedFault, ResourceError) as refusal:
            log.warning("%s %s failed: %s", operation, target.urn, refusal)
            context.abort(grpc.StatusCode.UNKNOWN, str(refusal))
            raise  # abort raises; this line only tells type checkers so

    def Check(self, request: provider_pb2.CheckRequest, context: grpc.ServicerContext) -> provider_pb2.CheckResponse:
        target = self._target(request.urn, request.type, request.name)
        behaviour = self.registry.for_type(target.type)

        def check() -> provider_pb2.CheckResponse:
            inputs, failures = behaviour.check(target, to_dict(request.olds), to_dict(request.news), request.randomSeed)
            return provider_pb2.CheckResponse(inputs=to_struct(inputs), failures=[provider_pb2.CheckFailure(property=p, reason=r) for p, r in failures])

        return self._guarded("check", target, context, check)

    def Diff(self, request: provider_pb2.DiffRequest, context: grpc.ServicerContext) -> provider_pb2.DiffResponse:
        target = self._target(request.urn, request.type, request.name)
        behaviour = self.registry.for_type(target.type)

        def diff() -> provider_pb2.DiffResponse:
            olds = to_dict(request.old_inputs) if request.HasField("old_inputs") else to_dict(request.olds)
            news = to_dict(request.news)
            changes = changed_inputs(olds, news, list(request.ignoreChanges))
            replaces = behaviour.replacements(olds, news, set(changes))
            # A replacement that would take the same physical id (a table keeping its name) cannot
            # exist beside the old one: the old one must go first, as the real provider decides.
            delete_first = bool(replaces) and behaviour.keeps_identity(target, request.id, news)
            return self._diff_response(changes, replaces, delete_first)

        return self._guarded("diff", target, context, diff)

    @staticmethod
    def _diff_response(changes: Mapping[str, str], replaces: set[str], delete_first: bool) -> provider_pb2.DiffResponse:
        detailed = {key: provider_pb2.PropertyDiff(kind=_CHANGE_KINDS[(change, key in replaces)], inputDiff=True) for key, change in changes.items()}
        return provider_pb2.DiffResponse(
            changes=provider_pb2.DiffResponse.DIFF_SOME if changes else provider_pb2.DiffResponse.DIFF_NONE,
            diffs=list(changes),
            replaces=sorted(replaces),
            deleteBeforeReplace=delete_first,
            detailedDiff=detailed,
            hasDetailedDiff=True,
        )

    def Create(self, request: provider_pb2.CreateRequest, context: grpc.ServicerContext) -> provider_pb2.CreateResponse:
        target = self._target(request.urn, request.type, request.name)
        behaviour = self.registry.for_type(target.type)
        inputs = to_dict(request.properties)

        def create() -> provider_pb2.CreateResponse:
            if request.preview:
                return provider_pb2.CreateResponse(id="", properties=to_struct(behaviour.preview(target, inputs)))
            resource_id, state = behaviour.create(target, inputs)
            return provider_pb2.CreateResponse(id=resource_id, properties=to_struct(state))

        return self._guarded("create", target, context, create)

    def Read(self, request: provider_pb2.ReadRequest, context: grpc.ServicerContext) -> provider_pb2.ReadResponse:
        target = self._target(request.urn, request.type, request.name)
        behaviour = self.registry.for_type(target.type)

        def read() -> provider_pb2.ReadResponse:
            record = behaviour.read(target, request.id)
            if record is None:
                # An empty id tells the engine the resource no longer exists.
                return provider_pb2.ReadResponse()
            return provider_pb2.ReadResponse(id=record.id, properties=to_struct(record.outputs), inputs=to_struct(record.inputs))

        return self._guarded("read", target, context, read)

    def Update(self, request: provider_pb2.UpdateRequest, context: grpc.ServicerContext) -> provider_pb2.UpdateResponse:
        target = self._target(request.urn, request.type, request.name)
        behaviour = self.registry.for_type(target.type)

        def update() -> provider_pb2.UpdateResponse:
            old_state = to_dict(request.olds)
            old_inputs = to_dict(request.old_inputs) if request.HasField("old_inputs") else old_state
            state = behaviour.update(target, request.id, old_state, old_inputs, to_dict(request.news), request.preview)
            return provider_pb2.UpdateResponse(properties=to_struct(state))

        return self._guarded("update", target, context, update)

    def Delete(self, request: provider_pb2.DeleteRequest, context: grpc.ServicerContext) -> empty_pb2.Empty:
        target = self._target(request.urn, request.type, request.name)
        behaviour = self.registry.for_type(target.type)

        def delete() -> empty_pb2.Empty:
            behaviour.delete(target, request.id, to_dict(request.properties))
            return empty_pb2.Empty()

        return self._guarded("delete", target, context, delete)

    def Invoke(self, request: provider_pb2.InvokeRequest, context: grpc.ServicerContext) -> provider_pb2.InvokeResponse:
        target = Target("", request.tok, request.tok, self.config.account, self.config.region, self.store)

        def invoke() -> provider_pb2.InvokeResponse:
            try:
                answer = answer_invoke(request.tok, to_dict(request.args), self.config.account, self.config.region)
            except UnknownFunction as unknown:
                raise ResourceError(str(unknown)) from None
            fields: dict[str, Any] = {"return": to_struct(answer)}  # a Python keyword, so passed by name
            return provider_pb2.InvokeResponse(**fields)

        return self._guarded("invoke", target, context, invoke)
