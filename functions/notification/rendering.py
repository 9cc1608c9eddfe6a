"""Templates from ``business/templates`` filled in from an event's data.

Placeholders are plain names (``{booking_id}``); attribute access, indexing and format specs are
refused, so a template cannot reach into Python objects. A placeholder is filled from the event
data, or, when ``amount_placeholders`` names it, from an amount in minor units shown with the
currency's symbol and digits from ``currency_display``. A placeholder with no value is an error
(the message would be wrong), as is an amount in a currency with no display format.

>>> business = NotificationBusiness.model_validate({"templates": {"paid": {"subject": "Paid", "body": "{amount_display} for {booking_id}"}},
...     "channels": {}, "amount_placeholders": {"amount_display": "amount_minor"},
...     "currency_display": {"INR": {"symbol": "₹", "minor_digits": 2}},
...     "recipients": {"sources": ["user_directory"], "verified_only": True}, "sent_record_retention_seconds": 86400})
>>> render(business.templates["paid"], {"booking_id": "bk_1", "amount_minor": 107380, "currency": "INR"}, business).body
'₹1,073.80 for bk_1'
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Mapping

from .config_schema import NotificationBusiness, Template

CURRENCY_FIELD = "currency"
_formatter = string.Formatter()


class RenderError(ValueError):
    """The template cannot be filled from this event."""


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    body: str


def render(template: Template, data: Mapping[str, Any], business: NotificationBusiness) -> RenderedMessage:
    """``template`` filled from ``data``; ``RenderError`` naming what is missing or malformed."""
    return RenderedMessage(subject=_fill(template.subject, data, business), body=_fill(template.body, data, business))


def _fill(text: str, data: Mapping[str, Any], business: NotificationBusiness) -> str:
    parts: list[str] = []
    for literal, name, spec, conversion in _formatter.parse(text):
        parts.append(literal)
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise RenderError(f"placeholder {{{name}}} is not a plain name")
        parts.append(_value(name, data, business))
    return "".join(parts)


def _value(name: str, data: Mapping[str, Any], business: NotificationBusiness) -> str:
    source = business.amount_placeholders.get(name)
    if source is not None:
        return display_amount(data.get(source), data.get(CURRENCY_FIELD), business)
    value = data.get(name)
    if value is None or isinstance(value, (dict, list)):
        raise RenderError(f"the event has no value for {{{name}}}")
    return str(value)


def display_amount(amount_minor: Any, currency: Any, business: NotificationBusiness) -> str:
    """``amount_minor`` of ``currency`` as people read it, e.g. ``₹1,073.80``."""
    if not isinstance(amount_minor, int) or isinstance(amount_minor, bool):
        raise RenderError("the event's amount is not a whole number of minor units")
    display = business.currency_display.get(str(currency))
    if display is None:
        raise RenderError(f"no display format for currency {currency!r}")
    major = Decimal(amount_minor).scaleb(-display.minor_digits)
    return f"{display.symbol}{major:,.{display.minor_digits}f}"
