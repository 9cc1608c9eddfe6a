"""Line-by-line matching for files that are not Python: YAML, .env, JSON, Dockerfile, shell ...

Each rule's ``text`` pattern is tried on each line, the way ``grep -E`` would, except that comment
lines (``#``, ``;`` or ``//`` first) and trailing ``# comments`` do not count.

>>> rule = TextRule("UT005", re.compile(r"\\bTIMEOUT\\s*=\\s*[0-9]"))
>>> [(h.line, h.column) for h in text_hits("# TIMEOUT=30\\nexport TIMEOUT=30  # seconds\\n", [rule], True)]
[(2, 8)]
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

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


def text_hits(text: str, rules: Sequence[TextRule], hash_comments: bool) -> list[TextHit]:
    """Every line of ``text`` where a rule's pattern matches outside comments.

    ``hash_comments`` says whether ``#`` after a space starts a comment (not in JSON).
    """
    hits: list[TextHit] = []
    if not rules:
        return hits
    # One pass of each pattern over the whole text finds the few lines worth a look; each is then
    # checked on its own, without its comment, as grep would see it.
    # A pattern that opens with a context class such as [^A-Za-z0-9] may start on the newline
    # before the line it is about.
    starts = sorted(m.start() + m.group().startswith("\n") for rule in rules for m in rule.pattern.finditer(text))
    if not starts:
        return hits
    candidates: list[int] = []
    index, counted_to = 0, 0
    for at in starts:
        index += text.count("\n", counted_to, at)
        counted_to = at
        if not candidates or candidates[-1] != index:
            candidates.append(index)
    lines = text.split("\n")
    for index in candidates:
        code = _code_part(lines[index].rstrip("\r"), hash_comments) if index < len(lines) else ""
        for rule in rules:
            found = rule.pattern.search(code)
            if found is not None:
                hits.append(TextHit(rule.rule_id, index + 1, _first_name_char(code, found.start(), found.end()) + 1))
    return hits
