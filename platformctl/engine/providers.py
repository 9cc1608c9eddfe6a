"""What a captured resource's provider says about where the resource lands: account and region.

A resource's ``provider`` is a provider reference, ``<provider URN>::<provider id>``. An explicit
provider is itself a captured resource, whose inputs carry its ``region`` and the accounts it
may work in (``allowedAccountIds``). The AWS SDK for Python sends list-valued provider
inputs JSON-encoded, so ``allowedAccountIds`` arrives as the string ``'["111111111111"]'``;
both that form and a plain list are read here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from .capture import CapturedResource

PROVIDER_TYPE_PREFIX = "pulumi:providers:"
#: Logical names the engine gives default providers (``default`` or ``default_<version>``).
DEFAULT_PROVIDER_NAME = "default"


def provider_urn(reference: str) -> str:
    """The URN of a provider reference (``<urn>::<id>``); empty for no provider."""
    return reference.rsplit("::", 1)[0] if reference else ""


def is_default_provider(reference: str) -> bool:
    """True for the engine's default provider of a package (what a resource with no explicit
    provider gets): its logical name is ``default`` or ``default_<version>``."""
    name = provider_urn(reference).rsplit("::", 1)[-1]
    return bool(reference) and (name == DEFAULT_PROVIDER_NAME or name.startswith(DEFAULT_PROVIDER_NAME + "_"))


def string_list(value: Any) -> list[str]:
    """A list-valued provider input or config value (``allowedAccountIds``, say) as a list of
    strings: a list, its JSON encoding, or nothing (``[]``). Anything else (an unknown, a
    malformed string) is also ``[]``: nothing that can be relied on."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    return []


@dataclass(frozen=True)
class ProviderFacts:
    """One provider of a stack: its URN, package, region and allowed accounts."""

    urn: str
    package: str
    region: str | None
    allowed_account_ids: list[str] = field(default_factory=list)
    #: The engine's default provider (configured from stack config, never a captured resource).
    default: bool = False

    @property
    def account(self) -> str | None:
        """The one account the provider may work in, or None when it pins none (or several)."""
        return self.allowed_account_ids[0] if len(self.allowed_account_ids) == 1 else None

    def view(self) -> dict[str, Any]:
        """The report's shape: ``{"urn", "account", "region"}`` (None where not pinned/known)."""
        return {"urn": self.urn, "account": self.account, "region": self.region}

    @classmethod
    def of(cls, resource: CapturedResource) -> "ProviderFacts":
        inputs = resource.inputs
        region = inputs.get("region")
        return cls(
            urn=resource.urn,
            package=resource.type.removeprefix(PROVIDER_TYPE_PREFIX),
            region=region if isinstance(region, str) else None,
            allowed_account_ids=string_list(inputs.get("allowedAccountIds")),
        )


def provider_facts(resources: Iterable[CapturedResource]) -> dict[str, ProviderFacts]:
    """Every explicit provider among ``resources``, by URN."""
    return {r.urn: ProviderFacts.of(r) for r in resources if r.type.startswith(PROVIDER_TYPE_PREFIX)}


def facts_for(resource: CapturedResource, providers: Mapping[str, ProviderFacts]) -> ProviderFacts | None:
    """The provider ``resource`` is created through: an explicit one from ``providers``, the
    engine's default provider (no region or account known from the program), or None for a
    component, which has no provider."""
    if not resource.provider:
        return None
    urn = provider_urn(resource.provider)
    if urn in providers:
        return providers[urn]
    package = urn.split("::")[2].rsplit("$", 1)[-1].removeprefix(PROVIDER_TYPE_PREFIX) if urn.count("::") >= 3 else ""
    return ProviderFacts(urn=urn, package=package, region=None, default=is_default_provider(resource.provider))
