"""Per-type behaviour of the stand-in: the extension point, its generic default, and the registry.

The provider server never touches a resource itself; it asks the :class:`ResourceBehaviour`
registered for the resource's type token. :class:`GenericBehaviour` serves every type: it
fabricates AWS-shaped ids and ARNs (``platformctl.engine.arns``, the same the offline engine
uses) and keeps the resource in the local cloud store. A backend that wants real behaviour for a
few types (say DynamoDB tables applied to ``moto_server``) subclasses it and registers::

    class MotoTables(GenericBehaviour):
        def create(self, target, inputs):
            resource_id, outputs = super().create(target, inputs)   # keeps the store in step
            boto3_client(target).create_table(...)
            return resource_id, outputs

    def register(registry: BehaviourRegistry) -> None:
        registry.register("aws:dynamodb/table:Table", MotoTables(facts_for("aws:dynamodb/table:Table")))

and names ``my.module:register`` in the variable ``localaws.behaviours_env_var`` of defaults.yaml
(comma-separated, imported by every provider process at start).
"""

from __future__ import annotations

import hashlib
import importlib
from dataclasses import dataclass
from typing import Any, Callable

from ..engine.arns import fabricate_state
from .catalog import TypeFacts, facts_for
from .store import CloudStore, NameTaken, StoredResource
from .values import UNKNOWN, contains_unknown, reveal


@dataclass(frozen=True)
class Target:
    """The resource an operation is about, and the account, region and cloud it lives in."""

    urn: str
    type: str
    #: The logical name: the last part of the URN.
    name: str
    account: str
    region: str
    store: CloudStore


class ResourceError(Exception):
    """An operation AWS would refuse; the message is what the engine shows."""


#: A failed check: (property, reason).
CheckFailure = tuple[str, str]


class ResourceBehaviour:
    """What one resource type does on each provider operation. Override what differs."""

    def __init__(self, facts: TypeFacts, autoname_suffix_length: int = 0) -> None:
        self.facts = facts
        self.autoname_suffix_length = autoname_suffix_length

    def check(self, target: Target, olds: dict[str, Any], news: dict[str, Any], random_seed: bytes) -> tuple[dict[str, Any], list[CheckFailure]]:
        """The inputs to use (with defaults such as an invented name) and any failures."""
        raise NotImplementedError

    def replacements(self, olds: dict[str, Any], news: dict[str, Any], changed: set[str]) -> set[str]:
        """Which of the ``changed`` top-level inputs AWS cannot change in place."""
        raise NotImplementedError

    def keeps_identity(self, target: Target, resource_id: str, news: dict[str, Any]) -> bool:
        """Whether a replacement with ``news`` would reuse the same physical id (so must delete first)."""
        raise NotImplementedError

    def preview(self, target: Target, inputs: dict[str, Any]) -> dict[str, Any]:
        """The state a create would produce, without creating anything."""
        raise NotImplementedError

    def create(self, target: Target, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """Create the resource; its ``(id, state)``."""
        raise NotImplementedError

    def read(self, target: Target, resource_id: str) -> StoredResource | None:
        """The resource as the cloud holds it now; ``None`` once it is gone."""
        raise NotImplementedError

    def update(self, target: Target, resource_id: str, old_state: dict[str, Any], old_inputs: dict[str, Any], news: dict[str, Any], preview: bool) -> dict[str, Any]:
        """Apply ``news`` to the resource in place (in a preview, only say what would result); its new state."""
        raise NotImplementedError

    def delete(self, target: Target, resource_id: str, state: dict[str, Any]) -> None:
        raise NotImplementedError


class GenericBehaviour(ResourceBehaviour):
    """Any AWS type: fabricated ids and ARNs, state kept in the local cloud store."""

    def _scope(self, target: Target) -> str:
        # Only a physical name is unique in an account; other ids are made per resource, so
        # their records are kept per URN and two stacks never share one.
        return "" if self.facts.name_property else target.urn

    def _autoname(self, target: Target, random_seed: bytes) -> str:
        seed = random_seed or target.urn.encode()
        suffix = hashlib.sha256(seed + target.name.encode()).hexdigest()[: self.autoname_suffix_length]
        return f"{target.name}-{suffix}"

    def check(self, target: Target, olds: dict[str, Any], news: dict[str, Any], random_seed: bytes) -> tuple[dict[str, Any], list[CheckFailure]]:
        inputs = dict(news)
        name, prefix = self.facts.name_property, self.facts.prefix_property
        if name and self.facts.autonamed and inputs.get(name) is None and not (prefix and inputs.get(prefix)):
            # An update keeps the name invented at creation, as the real provider does.
            inputs[name] = olds[name] if olds.get(name) is not None else self._autoname(target, random_seed)
        failures = [(key, "must be a non-empty string") for key in (name,) if key and key in inputs and not _named(inputs[key])]
        return inputs, failures

    def replacements(self, olds: dict[str, Any], news: dict[str, Any], changed: set[str]) -> set[str]:
        if self.facts.immutable:
            return set(changed)
        return changed & self.facts.replace_on_change

    def _physical_state(self, target: Target, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        plain = reveal(inputs)
        assert isinstance(plain, dict)
        name, prefix = self.facts.name_property, self.facts.prefix_property
        if name and plain.get(name) is None and prefix and plain.get(prefix):
            # AWS completes a name prefix with a unique suffix of its own.
            plain[name] = plain[prefix] + hashlib.sha256(target.urn.encode()).hexdigest()[: self.autoname_suffix_length]
        lookup = dict(plain)
        if name and name != "name" and plain.get(name) is not None:
            # arns.py knows a few name inputs by type and reads ``name`` otherwise.
            lookup["name"] = plain[name]
        resource_id, state = fabricate_state(target.type, target.name, target.urn, target.region, target.account, lookup)
        parent = self.facts.parent_property
        if parent and isinstance(plain.get(parent), str):
            resource_id = f"{plain[parent]}/{resource_id}"
        if "name" not in plain:
            state.pop("name", None)
        # The program's own values (secret wrappers included) win over their revealed copies.
        state.update(inputs)
        if name and name not in inputs and plain.get(name) is not None:
            state[name] = plain[name]
        state["id"] = resource_id
        return resource_id, state

    def keeps_identity(self, target: Target, resource_id: str, news: dict[str, Any]) -> bool:
        if contains_unknown(news.get(self.facts.name_property or "", None)):
            return False
        return self._physical_state(target, news)[0] == resource_id

    def preview(self, target: Target, inputs: dict[str, Any]) -> dict[str, Any]:
        _, state = self._physical_state(target, inputs)
        if contains_unknown(inputs):
            # What AWS computes from an input not known yet is not known either.
            return {**{key: UNKNOWN for key in state if key not in inputs}, **inputs}
        return state

    def create(self, target: Target, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        resource_id, state = self._physical_state(target, inputs)
        record = StoredResource(target.type, resource_id, target.urn, target.account, target.region, inputs, state, self._scope(target))
        try:
            target.store.claim(record)
        except NameTaken as taken:
            raise ResourceError(f"{_service(target.type)}: AlreadyExists: {resource_id} already exists in account {target.account} ({target.region}), held by {taken.holder.urn}") from None
        return resource_id, state

    def read(self, target: Target, resource_id: str) -> StoredResource | None:
        return target.store.get(target.account, target.region, target.type, resource_id, self._scope(target))

    def update(self, target: Target, resource_id: str, old_state: dict[str, Any], old_inputs: dict[str, Any], news: dict[str, Any], preview: bool) -> dict[str, Any]:
        if not preview and self.read(target, resource_id) is None:
            raise ResourceError(f"{_service(target.type)}: NotFound: {resource_id} does not exist (deleted outside Pulumi? run a refresh)")
        _, state = self._physical_state(target, news)
        for key, value in old_state.items():
            # What AWS computed at creation (ids, ARNs) stays; inputs the program dropped go.
            if key in _COMPUTED_IDENTITY or (key not in state and key not in old_inputs):
                state[key] = value
        state["id"] = resource_id
        if not preview:
            target.store.put(StoredResource(target.type, resource_id, target.urn, target.account, target.region, news, state, self._scope(target)))
        return state

    def delete(self, target: Target, resource_id: str, state: dict[str, Any]) -> None:
        record = self.read(target, resource_id)
        if record is not None and record.urn == target.urn:
            target.store.remove(record)


#: Outputs that name the resource itself; an in-place update never changes them.
_COMPUTED_IDENTITY = frozenset({"arn", "id", "keyId", "qualifiedArn", "invokeArn", "executionArn", "rootResourceId", "url", "layerArn", "endpoint"})


def _named(value: object) -> bool:
    return value == UNKNOWN or (isinstance(reveal(value), str) and bool(reveal(value)))


def _service(type_: str) -> str:
    return type_.split(":")[1].split("/")[0] if type_.count(":") >= 2 else type_


class TableBehaviour(GenericBehaviour):
    """DynamoDB tables: changing the type of a key attribute also means a new table."""

    def replacements(self, olds: dict[str, Any], news: dict[str, Any], changed: set[str]) -> set[str]:
        replaced = super().replacements(olds, news, changed)
        if "attributes" in changed and _key_attributes(olds) != _key_attributes(news):
            replaced.add("attributes")
        return replaced


def _key_attributes(inputs: dict[str, Any]) -> dict[str, Any]:
    keys = {reveal(inputs.get("hashKey")), reveal(inputs.get("rangeKey"))} - {None}
    attributes = reveal(inputs.get("attributes")) or []
    if contains_unknown(attributes):
        return {UNKNOWN: UNKNOWN}
    if not isinstance(attributes, list):
        return {}
    return {a["name"]: a.get("type") for a in attributes if isinstance(a, dict) and a.get("name") in keys}


Registrar = Callable[["BehaviourRegistry"], None]


class BehaviourRegistry:
    """Type token -> behaviour, with the generic behaviour for every type not registered."""

    def __init__(self, autoname_suffix_length: int) -> None:
        self.autoname_suffix_length = autoname_suffix_length
        self._by_type: dict[str, ResourceBehaviour] = {}
        self.register("aws:dynamodb/table:Table", TableBehaviour(facts_for("aws:dynamodb/table:Table"), autoname_suffix_length))

    def register(self, type_: str, behaviour: ResourceBehaviour) -> None:
        """Serve ``type_`` with ``behaviour`` from now on (replacing what served it)."""
        if not behaviour.autoname_suffix_length:
            behaviour.autoname_suffix_length = self.autoname_suffix_length
        self._by_type[type_] = behaviour

    def for_type(self, type_: str) -> ResourceBehaviour:
        behaviour = self._by_type.get(type_)
        if behaviour is None:
            behaviour = GenericBehaviour(facts_for(type_), self.autoname_suffix_length)
            self._by_type[type_] = behaviour
        return behaviour

    def load(self, spec: str) -> None:
        """Run the registrars named in ``spec``: ``module:function`` entries, comma-separated."""
        for entry in filter(None, (part.strip() for part in spec.split(","))):
            module_name, _, function_name = entry.partition(":")
            registrar: Registrar = getattr(importlib.import_module(module_name), function_name or "register")
            registrar(self)
