"""Bounded input: the types request models are built from, and the hard limits of the stores.

Every id, string, list and number a route accepts has a bound that fits the store it lands in.
Hard limits of AWS live here as named constants (each citing the limit); limits that are policy
(page sizes, the largest amount) come from the tenant config and are passed in.

Numbers are JSON numbers only: ``true`` is never 1, ``"12.5"`` is not a number, and NaN or
infinity (which Python's ``json`` module accepts) are refused.

>>> from pydantic import TypeAdapter, ValidationError
>>> try:
...     TypeAdapter(bounded_float(ge=0, le=300)).validate_python(True)
... except ValidationError as exc:
...     exc.errors()[0]["type"]
'number_type'
>>> page_size("25", maximum=100)
25
>>> page_size(None, maximum=100, default=20)
20
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError

from .errors import BadRequest, FieldError

T = TypeVar("T")

# --- hard limits of the stores -----------------------------------------------------------------

#: DynamoDB: a partition key value is at most 2,048 bytes, a sort key value at most 1,024 bytes,
#: an item at most 400 KB (Amazon DynamoDB Developer Guide, "Service, account, and table quotas").
DYNAMODB_PARTITION_KEY_MAX_BYTES = 2048
DYNAMODB_SORT_KEY_MAX_BYTES = 1024
DYNAMODB_ITEM_MAX_BYTES = 400 * 1024
#: SSM Parameter Store: a parameter name, including its full path, is at most 2,048 characters,
#: and a hierarchy has at most 15 levels (AWS Systems Manager, "Parameter Store quotas").
SSM_PARAMETER_NAME_MAX_CHARS = 2048
SSM_HIERARCHY_MAX_LEVELS = 15
#: SSM: the characters a parameter name segment may hold (letters, digits, ``_ . -``).
SSM_SEGMENT_PATTERN = r"^[A-Za-z0-9_.-]+$"
#: DynamoDB, SNS and EventBridge count an item or a message in UTF-8 bytes; a character is at
#: most 4 of them, so a string of ``n`` characters fits ``4 * n`` bytes.
UTF8_MAX_BYTES_PER_CHAR = 4

#: An object id as the platform issues them (UUIDs, Cognito subs, ids with a prefix): letters,
#: digits, ``_`` and ``-``. 128 characters leave room for the key prefixes (``BOOKING#``) well
#: within DynamoDB's 1,024-byte sort key.
ID_PATTERN = r"^[A-Za-z0-9_-]+$"
ID_MAX_LENGTH = 128
#: The Idempotency-Key header: visible ASCII, as long as an id.
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]+$"
#: A query string value the template reads at all (cursors, scopes, page sizes): the longest a
#: cursor (base64 of a DynamoDB key pair, 2,048 + 1,024 bytes plus JSON) can honestly be.
QUERY_VALUE_MAX_LENGTH = 4 * (DYNAMODB_PARTITION_KEY_MAX_BYTES + DYNAMODB_SORT_KEY_MAX_BYTES)


def bounded_id(max_length: int = ID_MAX_LENGTH, pattern: str = ID_PATTERN) -> Any:
    """A strict string id: ``pattern``, 1 to ``max_length`` characters."""
    return Annotated[str, StringConstraints(strict=True, min_length=1, max_length=max_length, pattern=pattern)]


#: The id of a booking, payment, user or driver.
BoundedId = bounded_id()


def bounded_text(max_length: int, *, min_length: int = 0, pattern: str | None = None) -> Any:
    """A strict string of at most ``max_length`` characters (a number is not text)."""
    return Annotated[str, StringConstraints(strict=True, min_length=min_length, max_length=max_length, pattern=pattern)]


def bounded_list(item: Any, max_items: int, *, min_items: int = 0) -> Any:
    """A list of ``item`` with at most ``max_items`` entries."""
    return Annotated[list[item], Field(min_length=min_items, max_length=max_items)]


# --- numbers -----------------------------------------------------------------------------------


def _json_number(value: Any) -> Any:
    """Refuse anything but a JSON number before any conversion (bool is a subclass of int)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise PydanticCustomError("number_type", "Input should be a JSON number, not a boolean or text")
    return value


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise PydanticCustomError("finite_number", "Input should be a finite number")
    return value


def _exact_decimal(value: Any) -> Decimal:
    """A float as the decimal it was written as (``0.1`` -> ``Decimal('0.1')``, not its binary expansion)."""
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        raise PydanticCustomError("decimal_type", "Input should be a finite decimal number") from None


def bounded_float(
    *, ge: float | None = None, le: float | None = None, gt: float | None = None, lt: float | None = None, places: int | None = None
) -> Any:
    """A finite JSON number within the bounds (booleans and text refused), rounded to ``places``
    decimal places when given (so a value like ``1e-300`` is stored as 0, not as a number
    DynamoDB cannot hold: its smallest magnitude is 1e-130)."""
    number = Annotated[float, BeforeValidator(_json_number), Field(strict=True, ge=ge, le=le, gt=gt, lt=lt), AfterValidator(_finite)]
    if places is None:
        return number
    return Annotated[number, AfterValidator(lambda value: round(value, places))]


def bounded_int(*, ge: int | None = None, le: int | None = None, gt: int | None = None, lt: int | None = None) -> Any:
    """A JSON integer within the bounds (booleans, fractions and text refused)."""
    return Annotated[int, BeforeValidator(_json_number), Field(strict=True, ge=ge, le=le, gt=gt, lt=lt)]


def bounded_decimal(*, max_digits: int, decimal_places: int, ge: Decimal | int | None = None, le: Decimal | int | None = None, gt: Decimal | int | None = None) -> Any:
    """An exact decimal from a JSON number, at most ``max_digits`` digits of which ``decimal_places``
    after the point, within the bounds; a 40-digit number is a 400, never a DynamoDB error."""
    return Annotated[
        Decimal,
        BeforeValidator(lambda value: _exact_decimal(_json_number(value))),
        Field(max_digits=max_digits, decimal_places=decimal_places, ge=ge, le=le, gt=gt, allow_inf_nan=False),
    ]


# --- query values ------------------------------------------------------------------------------

_ASCII_DIGITS = re.compile(r"[0-9]+")
#: A page size as a query model carries it: ASCII digits, short; the range is config, checked by
#: :func:`page_size`.
PAGE_SIZE_MAX_CHARS = 10
PageSizeText: Any = bounded_text(PAGE_SIZE_MAX_CHARS, min_length=1, pattern=r"^[0-9]+$")
#: A list cursor as a query model carries it (``common.pagination`` checks what it holds).
Cursor: Any = bounded_text(QUERY_VALUE_MAX_LENGTH, min_length=1)


def page_size(raw: str | None, maximum: int, field: str = "limit", *, default: int | None = None) -> int:
    """The page size a query asks for: ASCII digits only, 1 to ``maximum``.

    ``raw`` absent means ``default`` (``maximum`` when there is none). ``str.isdigit`` would pass
    superscript and other Unicode digits that ``int`` then refuses, and ``int`` of a 5,000-digit
    string raises; here the length is bounded by ``maximum``'s own before anything is converted.

    >>> page_size("²", maximum=100)
    Traceback (most recent call last):
    ...
    common.errors.BadRequest: invalid request
    """
    if raw is None:
        return default if default is not None else maximum
    digits = raw.lstrip("0") or raw
    if not _ASCII_DIGITS.fullmatch(raw) or len(digits) > len(str(maximum)) or not 1 <= int(digits) <= maximum:
        raise BadRequest("invalid request", [FieldError(field, f"must be a whole number from 1 to {maximum}", "int_range")])
    return int(digits)


def utf8_fits(text: str, max_bytes: int) -> bool:
    """Whether ``text`` is at most ``max_bytes`` bytes in UTF-8, without encoding a long string."""
    if len(text) * UTF8_MAX_BYTES_PER_CHAR <= max_bytes:
        return True
    return len(text) <= max_bytes and len(text.encode("utf-8", "surrogatepass")) <= max_bytes
