"""Speed-ups for the policy SDK's servicer, for packs the offline engine starts.

The SDK's ``Analyze`` runs every policy of the pack on a resource, and for each policy it
converts the request again: the properties from protobuf to a dict (``json_format``, pure
Python), the dict to SDK values, the values to unknown-checking proxies, the resource options
and the provider. With twenty policies a pack did that work twenty times per resource, and it
was most of the pack's time. Here each conversion runs once per request, and the protobuf
``Struct`` conversion takes a direct path.

Every replacement returns what the original returns (tests compare them on random input); the
rules never mutate what they receive (they work on :func:`policies.rules.sdk.plain` copies), so
sharing one conversion between the policies of a request changes no verdict.

Nothing here touches the SDK: :func:`policies.sdk_compat.install_fast_paths` puts these in place
of the servicer's private parts, and only in a pack the offline engine started at the SDK
versions those parts were checked against. Under a real engine a pack runs the stock SDK, and
the memos here stay empty (outside a request scope nothing is remembered).
"""

from __future__ import annotations

import math
import threading
from typing import Any, Callable

from google.protobuf import struct_pb2

MISS = object()

#: The memo entries of the request the current server thread is serving (None between requests).
_REQUEST = threading.local()


class Memo:
    """Results remembered by the identity of the object they were computed from, for as long as
    the request being served lasts.

    The SDK serves each request on one thread from start to end, so the entries live in that
    thread's request scope (:func:`one_request`): nothing is shared between threads, and when
    the request ends its conversions are freed with it instead of piling up for the garbage
    collector. Outside a request nothing is remembered. Entries hold their object, so an id is
    never reused while it is cached.
    """

    def lookup(self, key: Any) -> Any:
        """The result remembered for ``key`` in this request, or ``MISS``."""
        entries = getattr(_REQUEST, "entries", None)
        if entries is None:
            return MISS
        entry = entries.get((id(self), id(key)))
        return entry[1] if entry is not None and entry[0] is key else MISS

    def remember(self, key: Any, result: Any) -> Any:
        entries = getattr(_REQUEST, "entries", None)
        if entries is not None:
            entries[(id(self), id(key))] = (key, result)
        return result


def one_request(method: Callable[..., Any]) -> Callable[..., Any]:
    """A servicer entry point (``Analyze``, ``AnalyzeStack``) that opens a memo scope for the
    request it serves and drops it when the request is answered."""

    def serve(self: Any, request: Any, context: Any) -> Any:
        outer = getattr(_REQUEST, "entries", None)
        _REQUEST.entries = {}
        try:
            return method(self, request, context)
        finally:
            _REQUEST.entries = outer

    serve.__wrapped__ = method  # type: ignore[attr-defined]
    return serve


class LastCalls(Memo):
    """A pure one-argument function (a conversion of a message) memoised on its argument."""

    def __init__(self, function: Callable[[Any], Any]) -> None:
        self.function = function

    def __call__(self, argument: Any, *rest: Any, **options: Any) -> Any:
        if rest or options:
            return self.function(argument, *rest, **options)
        found = self.lookup(argument)
        return self.remember(argument, self.function(argument)) if found is MISS else found


def per_request(method: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """A servicer method that reads only the request, memoised on the request."""
    memo = Memo()

    def cached(self: Any, request: Any) -> Any:
        found = memo.lookup(request)
        return memo.remember(request, method(self, request)) if found is MISS else found

    cached.__wrapped__ = method  # type: ignore[attr-defined]
    return cached


_STRUCT = struct_pb2.Struct.DESCRIPTOR.full_name


def struct_to_dict(struct: struct_pb2.Struct) -> dict[str, Any]:
    """``json_format.MessageToDict`` of a ``Struct``, without the generic printer."""
    return {key: value_to_python(value) for key, value in struct.fields.items()}


def value_to_python(value: struct_pb2.Value) -> Any:
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

    def convert(message: Any, *args: Any, **options: Any) -> dict[str, Any]:
        if not args and not options and message.DESCRIPTOR.full_name == _STRUCT:
            return struct_to_dict(message)
        return original(message, *args, **options)

    return convert


__all__ = ["MISS", "LastCalls", "Memo", "message_to_dict", "one_request", "per_request", "struct_to_dict", "value_to_python"]
