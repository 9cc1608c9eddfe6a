"""Hypothesis strategies for the fuzz suite: requests drawn from a route's declared models, mixed
with hostile mutations.

``from_schema`` turns the JSON schema pydantic writes for a request model into a strategy of
values that (mostly) fit it: objects with their required and some optional properties, strings of
the model's patterns and lengths, numbers within its bounds, ``$ref``/``anyOf``/``enum``. The
hostile side breaks exactly what the bounds exist for: wrong types, booleans for numbers, numbers
of 40 digits, Unicode digits, huge strings, deep nesting, extra and missing keys, and raw bodies
that are not JSON at all.
"""

from __future__ import annotations

import base64
import json
import math
import string
from datetime import timedelta, timezone
from typing import Any, Mapping

from hypothesis import strategies as st

from common import clock

#: Longest string or list the schema side draws where the model sets no bound: long enough to
#: reach the code paths, short enough to keep examples fast (huge values come from the hostile side).
DRAWN_MAX = 40
#: Largest "modest" number drawn: small quantities are the ones a tenant's business rules accept.
MODEST_MAX = 100
#: How far from now a "near" moment is drawn: two days either way.
NEAR_SECONDS = 2 * 24 * 3600
#: Nesting the hostile side builds: beyond every request model, within and beyond the body cap.
HOSTILE_DEPTHS = (40, 5_000, 100_000)

JsonSchema = Mapping[str, Any]


def from_schema(schema: JsonSchema, defs: Mapping[str, JsonSchema] | None = None) -> st.SearchStrategy[Any]:
    """Values of ``schema`` (the subset of JSON schema pydantic emits for request models)."""
    defs = defs if defs is not None else schema.get("$defs", {})
    if "$ref" in schema:
        return st.deferred(lambda: from_schema(defs[str(schema["$ref"]).rsplit("/", 1)[-1]], defs))
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(list(schema["enum"]))
    for combinator in ("anyOf", "oneOf"):
        if combinator in schema:
            return st.one_of([from_schema(branch, defs) for branch in schema[combinator]])
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return from_schema(schema["allOf"][0], defs)
    kind = schema.get("type")
    if kind == "object":
        return _object(schema, defs)
    if kind == "array":
        items = from_schema(schema.get("items", {}), defs)
        return st.lists(items, min_size=schema.get("minItems", 0), max_size=min(schema.get("maxItems", DRAWN_MAX), DRAWN_MAX))
    if kind == "string":
        return _string(schema)
    if kind == "integer":
        return _modest(schema) | st.integers(min_value=_low(schema, 1), max_value=_high(schema, 1))
    if kind == "number":
        floats = st.floats(
            min_value=_low(schema, 0),
            max_value=_high(schema, 0),
            allow_nan=False,
            allow_infinity=False,
            exclude_min="exclusiveMinimum" in schema,
            exclude_max="exclusiveMaximum" in schema,
        )
        return _modest(schema) | floats
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    return json_values()


def _object(schema: JsonSchema, defs: Mapping[str, JsonSchema]) -> st.SearchStrategy[Any]:
    properties: Mapping[str, JsonSchema] = schema.get("properties", {})
    required = set(schema.get("required", []))
    return st.fixed_dictionaries(
        {name: from_schema(sub, defs) for name, sub in properties.items() if name in required},
        optional={name: from_schema(sub, defs) for name, sub in properties.items() if name not in required},
    )


def _modest(schema: JsonSchema) -> st.SearchStrategy[int]:
    """Small whole numbers within the schema's bounds: the values business rules accept most."""
    low, high = _low(schema, 1), _high(schema, 1)
    low = max(math.ceil(low), 0) if low is not None else 0
    high = min(math.floor(high), MODEST_MAX) if high is not None else MODEST_MAX
    return st.integers(min_value=low, max_value=high) if low <= high else st.nothing()


def _low(schema: JsonSchema, step: int) -> Any:
    if "exclusiveMinimum" in schema:
        return schema["exclusiveMinimum"] + step if step else schema["exclusiveMinimum"]
    return schema.get("minimum")


def _high(schema: JsonSchema, step: int) -> Any:
    if "exclusiveMaximum" in schema:
        return schema["exclusiveMaximum"] - step if step else schema["exclusiveMaximum"]
    return schema.get("maximum")


def _string(schema: JsonSchema) -> st.SearchStrategy[str]:
    low, high = schema.get("minLength", 0), schema.get("maxLength")
    if schema.get("format") == "date-time":
        # Mostly near now (what windows like "a position of the last minutes" or "a pickup in the
        # coming days" accept), sometimes any moment at all.
        near = st.integers(min_value=-NEAR_SECONDS, max_value=NEAR_SECONDS).map(lambda seconds: clock.utc_now() + timedelta(seconds=seconds))
        return st.one_of(near, near, st.datetimes(timezones=st.just(timezone.utc))).map(lambda moment: moment.isoformat())
    if "pattern" in schema:
        drawn = st.from_regex(schema["pattern"], fullmatch=True)
        return drawn.filter(lambda text: low <= len(text) <= (high if high is not None else len(text)))
    return st.text(min_size=low, max_size=min(high, DRAWN_MAX) if high is not None else DRAWN_MAX)


def json_values() -> st.SearchStrategy[Any]:
    """Any JSON value, small."""
    leaves = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=DRAWN_MAX)
    return st.recursive(leaves, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=12)


# --- hostile values --------------------------------------------------------------------------------

def nested_list(depth: int) -> Any:
    """``[[[...[1]...]]]``, ``depth`` lists deep."""
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


#: Values no bounded field should take, each breaking one rule.
HOSTILE_VALUES: tuple[Any, ...] = (
    True,
    False,
    None,
    10**40,
    -(10**40),
    1e308,
    -0.0,
    "",
    "9" * 5000,
    "²",
    "١٢٣",
    "１０",
    "x" * 70_000,
    "\u0000",
    "\ud800",
    "bk 1/../../x",
    [],
    {},
    nested_list(32),
    {"$ne": None},
)


def hostile_value() -> st.SearchStrategy[Any]:
    return st.sampled_from(HOSTILE_VALUES) | json_values()


def mutated(body: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``body`` with one hostile change: a field replaced, a key added or a key dropped."""

    @st.composite
    def mutate(draw: st.DrawFn) -> Any:
        value = draw(body)
        if not isinstance(value, dict) or not value:
            return draw(hostile_value())
        key = draw(st.sampled_from(sorted(value)))
        change = draw(st.sampled_from(("replace", "add", "drop")))
        changed = dict(value)
        if change == "replace":
            changed[key] = draw(hostile_value())
        elif change == "add":
            changed[draw(st.text(min_size=1, max_size=20))] = draw(hostile_value())
        else:
            del changed[key]
        return changed

    return mutate()


def raw_hostile_bodies() -> st.SearchStrategy[str]:
    """Bodies that are not a request model's JSON at all."""
    return st.one_of(
        st.sampled_from(HOSTILE_DEPTHS).map(lambda depth: "[" * depth + "]" * depth),
        st.sampled_from(HOSTILE_DEPTHS).map(lambda depth: '{"a":' * depth + "1" + "}" * depth),
        st.sampled_from(("", "{", "NaN", "Infinity", "-Infinity", '{"a": NaN}', "1" * 5000, "true", "null", "[]", '"x"', "\ufeff{}")),
        st.text(max_size=DRAWN_MAX),
        st.just(json.dumps({"padding": "x" * 300_000})),
    )


def body_text(model_schema: JsonSchema | None, *, bodiless: bool = False) -> st.SearchStrategy[str | None]:
    """A request body's text: from the model (as is or mutated) when there is one, or hostile;
    for a route that takes none (``bodiless``: a GET), mostly none."""
    hostile = raw_hostile_bodies() | hostile_value().map(json.dumps)
    if model_schema is None:
        return st.one_of(st.none(), st.none(), st.none(), hostile) if bodiless else st.one_of(st.none(), st.just("{}"), hostile)
    drawn = from_schema(model_schema)
    return st.one_of(drawn.map(json.dumps), mutated(drawn).map(json.dumps), hostile)


# --- paths and queries -----------------------------------------------------------------------------

#: A cursor (URL-safe base64 JSON, as ``common.pagination`` makes them) nesting deeper than
#: ``json.loads`` can recurse, yet short enough for a query value.
DEEP_CURSOR = base64.urlsafe_b64encode(b"[" * 9000).decode()
#: Characters a path parameter can carry through API Gateway and the router.
PATH_CHARACTERS = string.ascii_letters + string.digits + "-_.~ %+"


def path_value(seeded: str) -> st.SearchStrategy[str]:
    """A path parameter: usually the seeded object's id (so the endpoint gets past its lookup), else hostile."""
    return st.one_of(
        st.just(seeded),
        st.just(seeded),
        st.text(alphabet=PATH_CHARACTERS, min_size=1, max_size=DRAWN_MAX),
        st.sampled_from(("b" * 5000, "b" * 129, "²", "..", "bk 1", "%00")),
    )


def query_values(model_schema: JsonSchema | None) -> st.SearchStrategy[dict[str, str]]:
    """Query string parameters: from the query model's properties (strings) or hostile."""
    hostile_text = st.one_of(st.sampled_from(("²", "٣", "9" * 5000, "-1", "0", "", "1e3", "x" * 10_000, DEEP_CURSOR)), st.text(max_size=DRAWN_MAX))
    if model_schema is None:
        return st.dictionaries(st.text(min_size=1, max_size=10), hostile_text, max_size=2)
    names = sorted(model_schema.get("properties", {}))
    drawn = from_schema(model_schema).map(lambda query: {name: str(value) for name, value in query.items() if value is not None})
    extra = st.dictionaries(st.sampled_from([*names, "unexpected"]), hostile_text, max_size=len(names) + 1)
    return st.one_of(drawn, extra, st.tuples(drawn, extra).map(lambda pair: {**pair[0], **pair[1]}))
