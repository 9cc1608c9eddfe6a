"""How the scanner reads a name: as lower snake_case words, so one rule covers every spelling.

``baseRate``, ``BASE_RATE``, ``base_rate`` and ``"base-rate"`` all read as ``base_rate``, and a
rule's ``python.name`` pattern is searched in that form.

>>> snake_name("APIKey"), snake_name("readTimeoutMs"), snake_name("x-api-key")
('api_key', 'read_timeout_ms', 'x_api_key')
>>> is_upper_name("RETRY_COUNT"), is_upper_name("retry_count")
(True, False)
"""

from __future__ import annotations

import re

_NON_WORD = re.compile(r"[^A-Za-z0-9]+")
_ACRONYM_END = re.compile(r"([A-Z]+)([A-Z][a-z])")
_CAMEL_HUMP = re.compile(r"([a-z0-9])([A-Z])")


def snake_name(name: str) -> str:
    """``name`` as lower snake_case words; leading and trailing underscores dropped."""
    words = _NON_WORD.sub("_", name)
    words = _ACRONYM_END.sub(r"\1_\2", words)
    words = _CAMEL_HUMP.sub(r"\1_\2", words)
    return words.strip("_").lower()


def is_upper_name(name: str) -> bool:
    """True for ALL_CAPS names: constants and environment variables."""
    return any(c.isalpha() for c in name) and name == name.upper()


def starts_word(text: bytes, at: int) -> bool:
    """Whether a word of :func:`snake_name` starts at byte ``at`` of ``text``.

    Mirrors the splits above: after a non-alphanumeric byte, at a lower-to-upper hump
    (``base|Rate``) and where an acronym ends (``API|Key``).
    """
    if at == 0:
        return True
    before, here = text[at - 1 : at], text[at : at + 1]
    if not before.isalnum():
        return True
    if here.isupper() and (before.islower() or before.isdigit()):
        return True
    after = text[at + 1 : at + 2]
    return here.isupper() and before.isupper() and after.islower()
