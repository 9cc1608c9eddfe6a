"""Heuristics that tell a secret value from a reference to one.

The registry may name a Secrets Manager secret; it may never hold the secret. These checks run
on every string in a registry file so a pasted key is refused before it reaches git history of
an SSM parameter. They are deliberately conservative: well-known key shapes, PEM blocks, and
long high-entropy tokens.
"""

from __future__ import annotations

import math
import re
from collections import Counter

_KNOWN_SECRET_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("an AWS access key id", re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a PEM private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
    ("a payment provider live/test key", re.compile(r"\b[sr]k_(live|test)_[0-9A-Za-z]{8,}\b")),
    ("a GitHub token", re.compile(r"\bgh[pousr]_[0-9A-Za-z]{30,}\b")),
    ("a Slack token", re.compile(r"\bxox[abposr]-[0-9A-Za-z-]{10,}\b")),
    ("a JSON Web Token", re.compile(r"\beyJ[0-9A-Za-z_-]{8,}\.[0-9A-Za-z_-]{8,}\.[0-9A-Za-z_-]{8,}")),
    # The user part may be empty (redis://:password@host).
    ("a password in a URL", re.compile(r"://[^/\s:@]*:[^/\s@]+@")),
)

#: Tokens at least this long with at least this much entropy per character look like keys.
_HIGH_ENTROPY_MIN_LENGTH = 32
_HIGH_ENTROPY_BITS_PER_CHAR = 4.0
_TOKEN = re.compile(r"[A-Za-z0-9+/=_\-]+")
#: A key has a long stretch with no separator in it. A token whose every stretch between
#: separators is shorter than this is a path or name made of words
#: (``north-star2/payment/provider-api-key-v2``): a reference, not a secret.
_HIGH_ENTROPY_MIN_RUN = 16
_SEPARATORS = re.compile(r"[/_\-]")


def _entropy(token: str) -> float:
    counts = Counter(token)
    total = len(token)
    return -sum(n / total * math.log2(n / total) for n in counts.values())


def secret_shape(value: str) -> str | None:
    """Return what ``value`` looks like (``"an AWS access key id"``...) or None when it looks benign."""
    for label, pattern in _KNOWN_SECRET_SHAPES:
        if pattern.search(value):
            return label
    for token in _TOKEN.findall(value):
        if len(token) < _HIGH_ENTROPY_MIN_LENGTH or _entropy(token) < _HIGH_ENTROPY_BITS_PER_CHAR:
            continue
        has_mix = any(c.isdigit() for c in token) and any(c.isalpha() for c in token)
        # A long run of digits alone is a number (an account, an id), not a key.
        key_like_run = any(len(run) >= _HIGH_ENTROPY_MIN_RUN and not run.isdigit() for run in _SEPARATORS.split(token))
        if has_mix and key_like_run:
            return "a high-entropy key or token"
    return None
