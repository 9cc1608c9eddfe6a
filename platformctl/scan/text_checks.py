"""Line-by-line matching for files that are not Python: YAML, .env, JSON, Dockerfile, shell ...

Each rule's ``text`` pattern is tried on each line, the way ``grep -E`` would, except that comment
lines (``#``, ``;`` or ``//`` first) and trailing ``# comments`` do not count.

>>> rule = TextRule("UT005", re.compile(r"\\bTIMEOUT\\s*=\\s*[0-9]"))
>>> [(h.line, h.column) for h in text_hits("# TIMEOUT=30\\nexport TIMEOUT=30  # seconds\\n", [(rule, None)], True)]
[(2, 8)]
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

_FULL_LINE_COMMENT = ("#", ";", "//")
_TRAILING_HASH_COMMENT = re.compile(r"\s#")


@dataclass(frozen=True)
class TextRule:
    """A rule's ``text`` pattern, compiled."""

    rule_id: str
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class TextHit:
    """A rule that matched at ``line`` and character ``column`` (both 1-based)."""

    rule_id: str
    line: int
    column: int


def _code_part(line: str, hash_comments: bool) -> str:
    if line.lstrip().startswith(_FULL_LINE_COMMENT):
        return ""
    if hash_comments:
        trailing = _TRAILING_HASH_COMMENT.search(line)
        if trailing is not None:
            return line[: trailing.start()]
    return line


def _first_name_char(line: str, start: int, end: int) -> int:
    # Patterns open with a context group such as (^|[^A-Za-z0-9]); point at the name itself.
    while start < end - 1 and not (line[start].isalnum() or line[start] == "_"):
        start += 1
    return start


def text_hits(text: str, rules: Sequence[tuple[TextRule, Optional[Sequence[int]]]], hash_comments: bool) -> list[TextHit]:
    """Every line of ``text`` where a rule's pattern matches outside comments.

    Each rule comes with the 1-based lines worth trying (where its keywords are; None: every
    line). ``hash_comments`` says whether ``#`` after a space starts a comment (not in JSON).
    """
    hits: list[TextHit] = []
    if not rules:
        return hits
    lines = text.split("\n")
    for rule, numbers in rules:
        for number in range(1, len(lines) + 1) if numbers is None else numbers:
            code = _code_part(lines[number - 1].rstrip("\r"), hash_comments) if number <= len(lines) else ""
            found = rule.pattern.search(code) if code.strip() else None
            if found is not None:
                hits.append(TextHit(rule.rule_id, number, _first_name_char(code, found.start(), found.end()) + 1))
    return sorted(hits, key=lambda h: (h.line, h.rule_id))
