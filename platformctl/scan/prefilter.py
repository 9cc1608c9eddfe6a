"""Cheap tests that decide whether a file needs the expensive part of a rule.

Reading a file and searching it for a few words costs little; parsing Python is the cost of a
scan. A rule's ``keywords`` are words that every name it matches contains, so a file where no
keyword starts a word cannot hold a finding for that rule. For Python the filter is sharper: it
also wants the keyword's name to be followed by something that binds or compares it
(``=``, ``:``, ``,``, ``)``, an augmented operator or a line continuation), or, for comparison
rules, to sit on a line with a comparison. It returns those candidate lines, and the AST walk
looks only at statements that span one.

A name and its ``=`` on different lines inside brackets (``f(timeout\\n=30)``) is not a
candidate; nobody writes that.

>>> f = KeywordFilter.build(["timeout"])
>>> src = b"def f():\\n    return get(url, timeout=30)\\n"
>>> f.candidate_lines(src, src.lower(), binding=True, comparison=False)
[2]
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

from .names import starts_word

# After the keyword: the rest of a dotted name or string key, an optional closing quote and
# bracket, then an operator that binds the name to a value.
_BINDING = rb"[\w.-]*[\"']?\]?[ \t]*(?:[=:,)\\]|!=|(?:\*\*|//|>>|<<|[-+*/%&|^@<>])=)"
_COMPARISON_LINE = re.compile(rb"==|!=|\bin\b|\bis\b|\bmatch\b|startswith|endswith")


def _alternation(words: Sequence[str]) -> Optional[str]:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) or None


@dataclass(frozen=True)
class KeywordFilter:
    """A rule's keywords, split into those matched in any case and those matched exactly."""

    folded: Optional[str]
    exact: Optional[str]

    @classmethod
    def build(cls, keywords: Sequence[str]) -> KeywordFilter:
        """Words written in lower case match any case; a word with a capital matches as written."""
        return cls(
            folded=_alternation([w for w in keywords if w == w.lower()]),
            exact=_alternation([w for w in keywords if w != w.lower()]),
        )

    @property
    def matches_everything(self) -> bool:
        return self.folded is None and self.exact is None

    def _searches(self, raw: bytes, low: bytes, suffix: bytes) -> list[tuple[re.Pattern[bytes], bytes]]:
        found = []
        if self.folded is not None:
            found.append((_compiled(self.folded.encode() + suffix), low))
        if self.exact is not None:
            found.append((_compiled(self.exact.encode() + suffix), raw))
        return found

    def present(self, raw: bytes, low: bytes) -> bool:
        """Whether a keyword starts a word anywhere in the file (``low`` is ``raw.lower()``)."""
        if self.matches_everything:
            return True
        return any(next(_word_starts(rx, text, raw), None) is not None for rx, text in self._searches(raw, low, b""))

    def candidate_lines(self, raw: bytes, low: bytes, binding: bool, comparison: bool) -> Optional[list[int]]:
        """Sorted 1-based lines where a keyword's name is bound (``binding``) or compared.

        ``None`` means every line: the rule has no keywords.
        """
        if self.matches_everything:
            return None
        starts: list[int] = []
        if binding:
            for rx, text in self._searches(raw, low, b"(?:" + _BINDING + b")"):
                starts.extend(_word_starts(rx, text, raw))
        if comparison:
            for rx, text in self._searches(raw, low, b""):
                starts.extend(at for at in _word_starts(rx, text, raw) if _COMPARISON_LINE.search(_line_at(raw, at)))
        return _line_numbers(raw, sorted(set(starts)))


_CACHE: dict[bytes, re.Pattern[bytes]] = {}


def _compiled(pattern: bytes) -> re.Pattern[bytes]:
    # Each worker compiles a rule's few patterns once and keeps them for every file.
    if pattern not in _CACHE:
        _CACHE[pattern] = re.compile(pattern)
    return _CACHE[pattern]


def _word_starts(rx: re.Pattern[bytes], text: bytes, raw: bytes):  # noqa: ANN202 (generator of ints)
    """Offsets where ``rx`` matches and its keyword starts a word; a match that does not start a
    word is retried one byte later, so it cannot hide a later keyword in the same name."""
    at = 0
    while True:
        m = rx.search(text, at)
        if m is None:
            return
        if starts_word(raw, m.start()):
            yield m.start()
            at = m.end()
        else:
            at = m.start() + 1


def _line_at(raw: bytes, at: int) -> bytes:
    start = raw.rfind(b"\n", 0, at) + 1
    end = raw.find(b"\n", at)
    return raw[start : end if end >= 0 else len(raw)]


def _line_numbers(raw: bytes, offsets: list[int]) -> list[int]:
    lines: list[int] = []
    line, counted_to = 1, 0
    for at in offsets:
        line += raw.count(b"\n", counted_to, at)
        counted_to = at
        if not lines or lines[-1] != line:
            lines.append(line)
    return lines
