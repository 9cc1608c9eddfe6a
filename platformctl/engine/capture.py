"""What the offline engine records for each resource registration."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

#: Signature keys of the engine's wire format for special values (sdk/go/common/resource/sig).
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17"
ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7"
RESOURCE_REF_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
SIG_KEY = "4dabf18193072939515e22adb298388d"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
SECRET_MASK = "[secret]"


@dataclass
class CapturedResource:
    """One resource as the engine sees it on RegisterResource / ReadResource.

    ``wire_inputs`` keeps the engine's wire form (secrets, assets and archives marked by their
    signatures), which is what the policy packs receive; ``inputs`` is the plain JSON view with
    secrets masked, which is what reports show.
    """

    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    provider: str
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    wire_inputs: dict[str, Any]
    options: dict[str, Any] = field(default_factory=dict)
    read: bool = False

    @property
    def inputs(self) -> dict[str, Any]:
        return plain(self.wire_inputs)

    def report_view(self, provider: dict[str, Any] | None = None) -> dict[str, Any]:
        """The documented JSON shape of a resource in ``platformctl plan --format json``;
        ``provider`` is the view of the provider it is created through (``ProviderFacts.view``:
        URN, account, region), None for a component."""
        return {"urn": self.urn, "type": self.type, "name": self.name, "parent": self.parent, "provider": provider, "inputs": self.inputs}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "CapturedResource":
        return cls(**data)


def plain(value: Any) -> Any:
    """Turn a wire value into plain JSON: secrets masked, assets and archives summarised."""
    if isinstance(value, dict):
        sig = value.get(SIG_KEY)
        if sig == SECRET_SIG:
            return SECRET_MASK
        if sig == ASSET_SIG:
            return {"asset": value.get("path") or value.get("uri") or "text"}
        if sig == ARCHIVE_SIG:
            if "assets" in value:
                return {"archive": {k: plain(v) for k, v in value["assets"].items()}}
            return {"archive": value.get("path") or value.get("uri") or ""}
        if sig == RESOURCE_REF_SIG:
            return value.get("urn", "")
        if sig == OUTPUT_SIG:
            return SECRET_MASK if value.get("secret") else plain(value.get("value"))
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value
