"""The pack speed-ups return exactly what the SDK's own conversions return (their installation: test_sdk_compat.py)."""

from __future__ import annotations

import math
import threading

import pytest
from google.protobuf import json_format, struct_pb2
from hypothesis import given, settings
from hypothesis import strategies as st
from pulumi.runtime.proto import analyzer_pb2

from policies.rules import fast_paths
from policies.rules.fast_paths import LastCalls, Memo, message_to_dict, one_request, per_request, struct_to_dict

# What a resource's properties can hold on the wire: JSON values, the engine's signature
# keys among them.
_scalars = st.none() | st.booleans() | st.text(max_size=12) | st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(2**53), 2**53)
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=30)
_documents = st.dictionaries(st.text(max_size=10), _values, max_size=6)


def _struct(document: dict) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(document)
    # What the pack receives: a message parsed from bytes.
    return struct_pb2.Struct.FromString(message.SerializeToString())


@settings(max_examples=300, deadline=None)
@given(_documents)
def test_struct_conversion_equals_message_to_dict(document: dict) -> None:
    message = _struct(document)
    expected = json_format.MessageToDict(message)
    got = struct_to_dict(message)
    assert got == expected
    assert list(got) == list(expected)  # same key order too


@pytest.mark.parametrize("number", [math.inf, -math.inf, math.nan])
def test_non_finite_numbers_are_refused_as_the_printer_refuses_them(number: float) -> None:
    message = struct_pb2.Struct()
    message.fields["x"].number_value = number
    with pytest.raises(ValueError) as printer:
        json_format.MessageToDict(message)
    with pytest.raises(ValueError) as fast:
        struct_to_dict(message)
    assert str(fast.value) == str(printer.value)


def test_an_unset_value_reads_as_none_like_the_printer() -> None:
    message = struct_pb2.Struct()
    message.fields["unset"].CopyFrom(struct_pb2.Value())
    assert struct_to_dict(message) == json_format.MessageToDict(message) == {"unset": None}


def test_other_messages_and_options_go_to_the_original() -> None:
    convert = message_to_dict(json_format.MessageToDict)
    request = analyzer_pb2.AnalyzeRequest(type="aws:s3/bucket:Bucket", urn="urn:x", name="b")
    assert convert(request) == json_format.MessageToDict(request)
    struct = _struct({"a_b": 1})
    assert convert(struct, preserving_proto_field_name=True) == json_format.MessageToDict(struct, preserving_proto_field_name=True)


def _in_a_request(work):
    """Run ``work()`` the way the servicer runs a request: inside a memo scope."""
    return one_request(lambda self, request, context: work())(None, None, None)


def test_last_calls_converts_each_message_once_per_request() -> None:
    calls: list[object] = []
    memo = LastCalls(lambda m: calls.append(m) or len(calls))
    first, second = _struct({"a": 1}), _struct({"a": 1})
    assert _in_a_request(lambda: [memo(first), memo(first), memo(second), memo(first)]) == [1, 1, 2, 1]
    assert calls == [first, second]
    # A new request converts again: nothing outlives the request that computed it.
    assert _in_a_request(lambda: memo(first)) == 3


def test_outside_a_request_nothing_is_remembered() -> None:
    calls: list[object] = []
    memo = LastCalls(lambda m: calls.append(m) or len(calls))
    message = _struct({"a": 1})
    assert [memo(message), memo(message)] == [1, 2]


def test_a_cached_id_is_never_confused_with_a_new_object() -> None:
    memo = Memo()

    def work() -> object:
        key = object()
        memo.remember(key, "result")
        other = object()
        fast_paths._REQUEST.entries[(id(memo), id(other))] = (key, "result")  # an id reused by another object
        return memo.lookup(other)

    assert _in_a_request(work) is fast_paths.MISS


def test_per_request_memoises_on_the_request_only() -> None:
    seen: list[object] = []

    def options(self: object, request: object) -> object:
        seen.append(request)
        return ("options", id(request))

    cached = per_request(options)
    request = analyzer_pb2.AnalyzeRequest(urn="urn:x")
    assert _in_a_request(lambda: cached(None, request) is cached(object(), request))
    assert seen == [request]


def test_threads_serving_requests_at_once_never_see_each_others_entries() -> None:
    memo = LastCalls(lambda m: json_format.MessageToDict(m))
    failures: list[str] = []
    barrier = threading.Barrier(4)

    def request(worker: int) -> None:
        def work() -> None:
            barrier.wait()
            for round_ in range(50):
                message = _struct({"worker": worker, "round": round_})
                if memo(message) != {"worker": float(worker), "round": float(round_)} or memo(message) is not memo(message):
                    failures.append(f"{worker}/{round_}")

        _in_a_request(work)

    threads = [threading.Thread(target=request, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_a_request_scope_ends_even_when_the_request_fails() -> None:
    def failing() -> None:
        raise RuntimeError("rule crashed")

    with pytest.raises(RuntimeError):
        _in_a_request(failing)
    assert getattr(fast_paths._REQUEST, "entries", None) is None
