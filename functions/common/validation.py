"""Request parsing into pydantic models; any failure is a 400 with one detail per field.

Bodies are bounded before they are parsed: ``check_body_limits`` (run by the API template before
any endpoint) refuses a body larger than ``global/operational/request_limits.body_max_bytes`` (413)
or nested deeper than ``body_max_depth`` (400), found by a linear scan, so ``json.loads`` never
meets input deep enough to raise ``RecursionError``.

>>> class Quote(BaseModel):
...     distance_km: int
>>> parse_model(Quote, {"distance_km": "far"})
Traceback (most recent call last):
...
common.errors.BadRequest: invalid request
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any, Mapping, TypeVar

from pydantic import BaseModel, ValidationError

from .bounds import utf8_fits
from .config_schema import RequestLimits
from .errors import BadRequest, FieldError, PayloadTooLarge

ModelT = TypeVar("ModelT", bound=BaseModel)


def field_errors(exc: ValidationError) -> list[FieldError]:
    """One ``FieldError`` per pydantic error, the field named by its dotted location."""
    return [
        FieldError(field=".".join(str(part) for part in error["loc"]) or "body", message=error["msg"], type=error["type"])
        for error in exc.errors(include_url=False, include_input=False)
    ]


def parse_model(model: type[ModelT], data: Any) -> ModelT:
    """``model`` validated from ``data``; ``BadRequest`` with field details when it does not fit."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise BadRequest("invalid request", field_errors(exc)) from None


#: The characters that matter to JSON nesting: brackets, and the quotes and backslashes that say
#: whether a bracket is inside a string.
_STRUCTURE = re.compile(r'[\[\]{}"\\]')
_OPENERS = frozenset("[{")
_CLOSERS = frozenset("]}")
_NOT_JSON = FieldError("body", "the body is not valid JSON", "json_invalid")


def json_depth_exceeds(text: str, max_depth: int) -> bool:
    """Whether ``text`` nests objects and arrays deeper than ``max_depth``; one pass, no recursion.

    Brackets inside strings do not count (a backslash escapes the character after it).

    >>> json_depth_exceeds('{"a": [[1]], "b": "[[[["}', 3), json_depth_exceeds("[" * 100_000, 3)
    (False, True)
    """
    depth = 0
    in_string = False
    escaped_at = -1
    for match in _STRUCTURE.finditer(text):
        char, at = match.group(), match.start()
        if in_string:
            if at == escaped_at:
                continue
            if char == "\\":
                escaped_at = at + 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in _OPENERS:
            depth += 1
            if depth > max_depth:
                return True
        elif char in _CLOSERS:
            depth -= 1
    return False


def _body_text(event: Mapping[str, Any], max_bytes: int | None = None) -> str | None:
    """The body as text (base64 decoded), None when there is none; 413 past ``max_bytes``."""
    body = event.get("body")
    if body is None or body == "":
        return None
    if not isinstance(body, str):
        raise BadRequest("invalid request", [_NOT_JSON])
    too_large = PayloadTooLarge("request body too large", [FieldError("body", f"must be at most {max_bytes} bytes", "too_large")])
    if event.get("isBase64Encoded"):
        # Four base64 characters carry three bytes: refuse an oversized body before decoding it.
        if max_bytes is not None and len(body) > 4 * -(-max_bytes // 3):
            raise too_large
        try:
            raw = base64.b64decode(body, validate=True)
        except (ValueError, binascii.Error):
            raise BadRequest("invalid request", [_NOT_JSON]) from None
        if max_bytes is not None and len(raw) > max_bytes:
            raise too_large
        try:
            return raw.decode()
        except UnicodeDecodeError:
            raise BadRequest("invalid request", [_NOT_JSON]) from None
    if max_bytes is not None and not utf8_fits(body, max_bytes):
        raise too_large
    return body


def check_body_limits(event: Mapping[str, Any], limits: RequestLimits) -> None:
    """``PayloadTooLarge`` or ``BadRequest`` unless the body (if any) is within ``limits``."""
    text = _body_text(event, limits.body_max_bytes)
    if text is not None and json_depth_exceeds(text, limits.body_max_depth):
        raise BadRequest("invalid request", [FieldError("body", f"must not nest objects or arrays deeper than {limits.body_max_depth}", "json_too_deep")])


def json_body(event: Mapping[str, Any]) -> Any:
    """The decoded JSON body of a proxy event; ``BadRequest`` when absent or not JSON."""
    text = _body_text(event)
    if text is None:
        raise BadRequest("invalid request", [FieldError("body", "a JSON body is required", "missing")])
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        # RecursionError: a body the template's depth check did not see (an endpoint's own parse).
        raise BadRequest("invalid request", [_NOT_JSON]) from None


def parse_body(model: type[ModelT], event: Mapping[str, Any]) -> ModelT:
    """The JSON body of ``event`` validated as ``model``."""
    return parse_model(model, json_body(event))


def query_parameters(event: Mapping[str, Any]) -> dict[str, str]:
    """Single-valued query string parameters (empty when there are none)."""
    return dict(event.get("queryStringParameters") or {})
