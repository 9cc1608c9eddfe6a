"""Request parsing into pydantic models; any failure is a 400 with one detail per field.

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
from typing import Any, Mapping, TypeVar

from pydantic import BaseModel, ValidationError

from .errors import BadRequest, FieldError

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


def json_body(event: Mapping[str, Any]) -> Any:
    """The decoded JSON body of a proxy event; ``BadRequest`` when absent or not JSON."""
    body = event.get("body")
    if body is None or body == "":
        raise BadRequest("invalid request", [FieldError("body", "a JSON body is required", "missing")])
    try:
        text = base64.b64decode(body, validate=True).decode() if event.get("isBase64Encoded") else body
        return json.loads(text)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadRequest("invalid request", [FieldError("body", "the body is not valid JSON", "json_invalid")]) from None


def parse_body(model: type[ModelT], event: Mapping[str, Any]) -> ModelT:
    """The JSON body of ``event`` validated as ``model``."""
    return parse_model(model, json_body(event))


def query_parameters(event: Mapping[str, Any]) -> dict[str, str]:
    """Single-valued query string parameters (empty when there are none)."""
    return dict(event.get("queryStringParameters") or {})
