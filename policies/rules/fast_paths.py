"""Speed-ups for the policy SDK's servicer, installed by each pack before it serves.

The SDK's ``Analyze`` runs every policy of the pack on a resource, and for each policy it
converts the request again: the properties from protobuf to a dict (``json_format``, pure
Python), the dict to SDK values, the values to unknown-checking proxies, the resource options
and the provider. With twenty policies a pack did that work twenty times per resource, and it
was most of the pack's time. Here each conversion runs once per request, and the protobuf
``Struct`` conversion takes a direct path.

Every replacement returns what the original returns (tests compare them on random input); the
rules never mutate what they receive (they work on :func:`policies.rules.sdk.plain` copies), so
sharing one conversion between the policies of a request changes no verdict. Only a pack's
process installs these (``pack_arguments``), never the program or ``platformctl``.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from types import SimpleNamespace
from typing import Any, Callable

from google.protobuf import struct_pb2

#: Requests in flight at once in a pack (the SDK serves four at a time) times the resources a
#: stack request carries, with room to spare: entries only need to outlive their request.
CACHE_SIZE = 4096


_MISS = object()


class Memo:
    """Results remembered by the identity of the object they were computed from, for the last
    ``size`` objects.

    Entries hold their object, so an id is never reused while it is cached. Safe for the SDK's
    server threads without a lock: each dictionary operation is atomic, and two threads missing
    on the same object each compute it once (equal results; the later one is kept).
    """

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self.entries: OrderedDict[int, tuple[Any, Any]] = OrderedDict()

    def lookup(self, key: Any) -> Any:  # noqa: ANN401
        """The result remembered for ``key``, or ``_MISS``."""
        entry = self.entries.get(id(key))
        return entry[1] if entry is not None and entry[0] is key else _MISS

    def remember(self, key: Any, result: Any) -> Any:  # noqa: ANN401
        self.entries[id(key)] = (key, result)
        if len(self.entries) > self.size:
            try:
                self.entries.popitem(last=False)
            except KeyError:  # another thread emptied it first
                pass
        return result


class LastCalls(Memo):
    """A pure one-argument function (a conversion of a message) memoised on its argument."""

    def __init__(self, function: Callable[[Any], Any], size: int = CACHE_SIZE) -> None:
        super().__init__(size)
        self.function = function

    def __call__(self, argument: Any, *rest: Any, **options: Any) -> Any:  # noqa: ANN401
        if rest or options:
            return self.function(argument, *rest, **options)
        found = self.lookup(argument)
        return self.remember(argument, self.function(argument)) if found is _MISS else found


def per_request(method: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """A servicer method that reads only the request, memoised on the request."""
    memo = Memo()

    def cached(self: Any, request: Any) -> Any:  # noqa: ANN401
        found = memo.lookup(request)
        return memo.remember(request, method(self, request)) if found is _MISS else found

    cached.__wrapped__ = method  # type: ignore[attr-defined]
    return cached


_STRUCT = struct_pb2.Struct.DESCRIPTOR.full_name


def struct_to_dict(struct: struct_pb2.Struct) -> dict[str, Any]:
    """``json_format.MessageToDict`` of a ``Struct``, without the generic printer."""
    return {key: value_to_python(value) for key, value in struct.fields.items()}


def value_to_python(value: struct_pb2.Value) -> Any:  # noqa: ANN401
    """``json_format``'s reading of one ``Value``: null or unset → None, and a non-finite
    number refused as the printer refuses it."""
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return value.string_value
    if kind == "struct_value":
        return struct_to_dict(value.struct_value)
    if kind == "list_value":
        return [value_to_python(item) for item in value.list_value.values]
    if kind == "number_value":
        number = value.number_value
        if math.isinf(number):
            raise ValueError("Fail to serialize Infinity for Value.number_value, which would parse as string_value")
        if math.isnan(number):
            raise ValueError("Fail to serialize NaN for Value.number_value, which would parse as string_value")
        return number
    if kind == "bool_value":
        return value.bool_value
    return None


def message_to_dict(original: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """``MessageToDict`` with the direct path for a ``Struct`` called without options."""

    def convert(message: Any, *args: Any, **options: Any) -> dict[str, Any]:  # noqa: ANN401
        if not args and not options and message.DESCRIPTOR.full_name == _STRUCT:
            return struct_to_dict(message)
        return original(message, *args, **options)

    return convert


def install() -> None:
    """Install the conversions once per pack process (idempotent)."""
    from pulumi_policy import policy as servicer_module

    json_format = servicer_module.json_format
    if isinstance(getattr(json_format, "MessageToDict", None), LastCalls):
        return
    servicer_module.json_format = SimpleNamespace(  # type: ignore[assignment]
        MessageToDict=LastCalls(message_to_dict(json_format.MessageToDict)),
        **{k: getattr(json_format, k) for k in ("ParseDict", "Parse", "MessageToJson") if hasattr(json_format, k)},
    )
    servicer_module.deserialize_properties = LastCalls(servicer_module.deserialize_properties)  # type: ignore[assignment]
    servicer_module.unknown_checking_proxy = LastCalls(servicer_module.unknown_checking_proxy)  # type: ignore[assignment]
    servicer = servicer_module._PolicyAnalyzerServicer  # noqa: SLF001 (the class the pack serves)
    for method in ("_get_resource_options", "_get_provider_resource"):
        setattr(servicer, method, per_request(getattr(servicer, method)))


__all__ = ["CACHE_SIZE", "LastCalls", "Memo", "install", "message_to_dict", "per_request", "struct_to_dict", "value_to_python"]
