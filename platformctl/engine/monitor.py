"""A resource monitor that records registrations the way the real engine receives them."""

from __future__ import annotations

import importlib.metadata
import threading
from typing import Any

from google.protobuf import json_format
from pulumi.errors import RunError
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime.proto import resource_pb2

from .arns import fabricate_state
from .capture import UNKNOWN, CapturedResource
from .providers import PROVIDER_TYPE_PREFIX, string_list

ROOT_STACK_TYPE = "pulumi:pulumi:Stack"
STACK_REFERENCE_TYPE = "pulumi:pulumi:StackReference"


#: Stack config that lists the packages whose default provider the engine refuses (or ``*``).
DISABLE_DEFAULT_PROVIDERS = "pulumi:disable-default-providers"


class AccountNotAllowed(RunError):
    """A provider pins accounts that exclude the one the credentials are in: the AWS provider
    refuses to configure, and every resource through it fails."""


class DefaultProviderDisabled(RunError):
    """A resource would fall back to a default provider that the stack config disables."""


class PlanMocks(pulumi_mocks.Mocks):
    """Answers the program's resource and invoke calls with AWS-shaped values.

    ``account_id`` is the account the credentials of a real deploy would be in (the stack's
    environment's account): ``getCallerIdentity`` answers it, fabricated ARNs name it, and a
    provider whose ``allowedAccountIds`` leaves it out fails as the AWS provider does.
    """

    def __init__(self, account_id: str, default_region: str, stack_outputs: dict[str, dict[str, Any]]) -> None:
        self.account_id = account_id
        self.default_region = default_region
        self.stack_outputs = stack_outputs
        self.provider_regions: dict[str, str] = {}
        # The SDK registers resources from several executor threads at once; each thread's
        # registration seeds its own fabricated ids, so ids do not depend on scheduling.
        self._registering = threading.local()

    @property
    def current_urn(self) -> str:
        return getattr(self._registering, "urn", "")

    @current_urn.setter
    def current_urn(self, urn: str) -> None:
        self._registering.urn = urn

    def region_of(self, provider_ref: str) -> str:
        return self.provider_regions.get(provider_ref, self.default_region)

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        if args.typ == STACK_REFERENCE_TYPE:
            name = args.inputs.get("name") or args.name
            if name not in self.stack_outputs:
                raise KeyError(f"stack reference '{name}': that stack is not part of this offline plan")
            return name, {"name": name, "outputs": self.stack_outputs[name], "secretOutputNames": []}
        if args.typ.startswith(PROVIDER_TYPE_PREFIX):
            self._check_account(args)
            return args.name, dict(args.inputs)
        if not args.provider:
            _refuse_if_disabled(args.typ, args.name)
        region = self.region_of(args.provider or "")
        return fabricate_state(args.typ, args.name, self.current_urn, region, self.account_id, dict(args.inputs))

    def _check_account(self, args: pulumi_mocks.MockResourceArgs) -> None:
        allowed = string_list(args.inputs.get("allowedAccountIds"))
        forbidden = string_list(args.inputs.get("forbiddenAccountIds"))
        if (allowed and self.account_id not in allowed) or self.account_id in forbidden:
            raise AccountNotAllowed(
                f"provider '{args.name}': AWS account ID not allowed: {self.account_id} (the provider allows {allowed or 'any'}, forbids {forbidden or 'none'})"
            )

    # MockMonitor.invoke accepts a plain dict (no check failures) besides the annotated (dict, failures) tuple.
    def call(self, args: pulumi_mocks.MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        region = self.region_of(args.provider or "")
        token = args.token
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": self.account_id, "arn": f"arn:aws:iam::{self.account_id}:root", "userId": self.account_id}
        if token == "aws:index/getRegion:getRegion":
            return {"name": region, "region": region, "id": region}
        if token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}
        raise NotImplementedError(f"the offline engine has no answer for invoke '{token}'")


class CaptureMonitor(pulumi_mocks.MockMonitor):
    """MockMonitor that keeps every request, with URNs built the engine's way."""

    def __init__(self, mocks: PlanMocks) -> None:
        super().__init__(mocks)
        self.plan_mocks = mocks
        self.captured: list[CapturedResource] = []
        self.stack_outputs: dict[str, Any] = {}
        self._stack_urn = ""

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        # The engine leaves the root stack's type out of its children's qualified types.
        if parent and parent.split("::")[2] != ROOT_STACK_TYPE:
            type_ = parent.split("::")[2] + "$" + type_
        return "urn:pulumi:" + "::".join([self._stack_name(), self._project(), type_, name])

    @staticmethod
    def _stack_name() -> str:
        from pulumi.runtime.settings import get_stack

        return get_stack()

    @staticmethod
    def _project() -> str:
        from pulumi.runtime.settings import get_project

        return get_project()

    def _default_provider(self, type_: str) -> str:
        package = type_.split(":")[0]
        version = importlib.metadata.version(f"pulumi_{package}").replace(".", "_")
        urn = "urn:pulumi:" + "::".join([self._stack_name(), self._project(), f"pulumi:providers:{package}", f"default_{version}"])
        return f"{urn}::{UNKNOWN}"

    def _capture(self, request: Any, urn: str, custom: bool, read: bool) -> CapturedResource:
        wire = json_format.MessageToDict(request.properties if read else request.object, preserving_proto_field_name=True)
        provider = request.provider
        if custom and not provider and not request.type.startswith("pulumi:"):
            provider = self._default_provider(request.type)
        parent = request.parent or ("" if request.type == ROOT_STACK_TYPE else self._stack_urn)
        options: dict[str, Any] = {}
        if not read:
            for option in ("protect", "deleteBeforeReplace", "retainOnDelete", "ignoreChanges", "additionalSecretOutputs", "aliases", "replaceOnChanges", "deletedWith"):
                value = getattr(request, option, None)
                if value:
                    options[option] = value if isinstance(value, (bool, str)) else [_plain_option(v) for v in value]
        dependencies = list(request.dependencies) if not read else []
        property_dependencies = {k: list(v.urns) for k, v in request.propertyDependencies.items()} if not read else {}
        resource = CapturedResource(
            urn=urn,
            type=request.type,
            name=request.name,
            parent=parent,
            custom=custom,
            provider=provider,
            dependencies=dependencies,
            property_dependencies=property_dependencies,
            wire_inputs=wire,
            options=options,
            read=read,
        )
        self.captured.append(resource)
        return resource

    def RegisterResource(self, request: Any) -> Any:
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == ROOT_STACK_TYPE:
            self._stack_urn = urn
            self._capture(request, urn, custom=False, read=False)
            return resource_pb2.RegisterResourceResponse(urn=urn)
        resource = self._capture(request, urn, custom=bool(request.custom), read=False)
        if resource.type.startswith(PROVIDER_TYPE_PREFIX):
            region = resource.inputs.get("region")
            if isinstance(region, str):
                self.plan_mocks.provider_regions[f"{urn}::{request.name}"] = region
        self.plan_mocks.current_urn = urn
        return super().RegisterResource(request)

    def ReadResource(self, request: Any) -> Any:
        urn = self.make_urn(request.parent, request.type, request.name)
        self._capture(request, urn, custom=True, read=True)
        self.plan_mocks.current_urn = urn
        return super().ReadResource(request)

    def RegisterResourceOutputs(self, request: Any) -> Any:
        if request.urn == self._stack_urn:
            from pulumi.runtime import rpc

            self.stack_outputs = dict(rpc.deserialize_properties(request.outputs))
        return super().RegisterResourceOutputs(request)



def _refuse_if_disabled(type_: str, name: str) -> None:
    """Refuse a default provider the stack config disables, as the engine does."""
    from pulumi.runtime.config import get_config

    package = type_.split(":")[0]
    setting = get_config(DISABLE_DEFAULT_PROVIDERS)
    disabled = string_list(setting) if setting else []  # a JSON list of package names, or ["*"]
    if package in disabled or "*" in disabled:
        raise DefaultProviderDisabled(f"default provider for '{package}' disabled: '{type_}::{name}' must use an explicit provider")


def _plain_option(value: Any) -> Any:
    """Option list entries are strings or proto messages (aliases); reports need JSON."""
    if hasattr(value, "DESCRIPTOR"):
        return json_format.MessageToDict(value, preserving_proto_field_name=True)
    return value


class OutputsOnlyMonitor(pulumi_mocks.MockMonitor):
    """The SDK's bare MockMonitor plus the root stack's outputs: the benchmarks' floor."""

    def __init__(self, mocks: PlanMocks) -> None:
        super().__init__(mocks)
        self.stack_outputs: dict[str, Any] = {}

    def RegisterResourceOutputs(self, request: Any) -> Any:
        if request.urn.split("::")[2] == ROOT_STACK_TYPE:
            from pulumi.runtime import rpc

            self.stack_outputs = dict(rpc.deserialize_properties(request.outputs))
        return super().RegisterResourceOutputs(request)
