"""Does a string look like a secret? A heuristic shared by the secrets rules.

It knows the shapes of common credentials (cloud access keys, private keys, provider API
keys, tokens, passwords in URLs) and otherwise flags long random-looking tokens. The packs
run standalone, so this module depends on nothing but the standard library; ``platformctl``
may import it too.

>>> looks_secret("sk_live_51Habcdefghijklmnop")
'a payment provider key'
>>> looks_secret("ssm:///acme") is None
True
"""

from __future__ import annotations

import math
import re

#: Credential shapes, checked in order; the first match names what the value looks like.
SHAPES: tuple[tuple[str, str], ...] = (
    ("an AWS access key id", r"(?<![A-Z0-9])(?:AKIA|ASIA|AIDA|AROA)[A-Z0-9]{16}(?![A-Z0-9])"),
    ("a private key", r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----"),
    ("a payment provider key", r"(?<![A-Za-z0-9])(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{8,}"),
    ("a source host token", r"(?<![A-Za-z0-9])(?:ghp|gho|ghu|ghs|ghr|glpat)[_-][A-Za-z0-9_-]{20,}"),
    ("a chat token", r"(?<![A-Za-z0-9])xox[abposr]-[A-Za-z0-9-]{10,}"),
    ("a signed token (JWT)", r"(?<![A-Za-z0-9])eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    ("credentials in a URL", r"[a-z][a-z0-9+.-]*://[^\s/:@]+:[^\s/@]+@"),
)
_COMPILED = tuple((label, re.compile(pattern)) for label, pattern in SHAPES)

#: A random-looking token: this long at least, with this much entropy per character. Tokens
#: break at hyphens, dots and colons, so names, ARNs, URLs and UUIDs fall apart into words.
RANDOM_TOKEN_LENGTH = 32
RANDOM_TOKEN_BITS = 4.0
_TOKENS = re.compile(r"[A-Za-z0-9+/=_]{%d,}" % RANDOM_TOKEN_LENGTH)
_HEX_KEY = re.compile(r"(?<![A-Za-z0-9])[0-9a-f]{32,}(?![A-Za-z0-9])")


def bits_per_char(token: str) -> float:
    """Shannon entropy of ``token``'s characters."""
    size = len(token)
    return -sum((n / size) * math.log2(n / size) for n in (token.count(c) for c in set(token)))


def _random_token(value: str) -> bool:
    """Base64-like keys mix upper case, lower case and digits; names and paths do not."""
    for token in _TOKENS.findall(value):
        mixed = re.search(r"\d", token) and re.search(r"[a-z]", token) and re.search(r"[A-Z]", token)
        if mixed and bits_per_char(token) >= RANDOM_TOKEN_BITS:
            return True
    return bool(_HEX_KEY.search(value))


def looks_secret(value: str) -> str | None:
    """What ``value`` looks like (``"an AWS access key id"``…), or None when it looks benign."""
    for label, pattern in _COMPILED:
        if pattern.search(value):
            return label
    return "a random-looking key or token" if _random_token(value) else None
