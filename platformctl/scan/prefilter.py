"""Cheap tests that decide whether a file needs the expensive part of a rule.

Reading a file and searching it for a few words costs little; parsing Python is the cost of a
scan. A rule's ``keywords`` are words that every name it matches contains, so a file where no
keyword starts a word cannot hold a finding for that rule.

For Python the filter is sharper. A binding candidate is a keyword's name (an identifier or
string key) that passes the rule's own name test and is followed, on the same line, by something
that can give it a literal: ``= 30``, ``: 30``, ``: float = 30``, ``, 30)``, ``+= 30``, ``= (``, a
quote, a chained ``= other =``, tuple unpacking ``rate, timeout = ...``, or a line end inside
brackets. A comparison candidate is a keyword's name right beside ``==``, ``!=``, ``in``,
``is`` or a prefix test, on a line with a quote (or an open bracket at its end), or on a
``match`` line; not in an assert. Comment lines and doctest (``>>>``) lines are never
candidates. The AST walk then looks only at statements spanning a candidate line.

Not seen: a name whose ``=`` is on the next line inside brackets (``f(timeout\\n=30)``), a
chained assignment whose literal comes after two other names, and a string key with characters
other than letters, digits, ``_``, ``-`` and ``.`` after the keyword (``"timeout (s)": 30``).

>>> f = KeywordFilter.build(["timeout"])
>>> src = b"def f(timeout=timeout):\\n    return get(url, timeout=30)\\n"
>>> f.candidate_lines(src, src.lower(), value_kind="numeric", comparison=False)
[2]
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional

from .names import starts_word

# What can start a literal of each kind a rule wants (a string holding a number counts as
# numeric), or continue a value on the next line.
# An opening parenthesis counts when a literal or the line's end follows it: `= (30)`, `= (` as
# black wraps a long value.
_STARTS = {
    "number": rb"""(?:[-+]|\.?[0-9])""",
    "numeric": rb"""(?:[-+]|\.?[0-9]|[rRuU]?["'][ \t]*[-+]?\.?[0-9])""",
    "string": rb"""[rRuU]?["']""",
}
_LITERALS = {kind: rb"(?:\(*[ \t]*" + start + rb"|\([ \t]*$|\\)" for kind, start in _STARTS.items()}


@lru_cache(maxsize=None)
def _binding(kind: str) -> bytes:
    """After the keyword: the rest of the name or string key, an optional closing quote and
    bracket, then an operator that binds the name, followed by something that can start a
    literal of ``kind``. A value on the next line is followed only after ``=`` or after a quoted
    key (``"timeout":`` and ``get("timeout",`` as black wraps them), not after the ``Timeout,``
    of an import list."""
    literal = _LITERALS[kind]
    literal_or_line_end = rb"(?:" + literal + rb"|$)"
    return (
        rb"[\w.-]*(?:"
        rb"[\"']?\]?[ \t]*(?::|(?:\*\*|//|>>|<<|[-+*/%&|^@])?)=[ \t]*"
        + rb"(?:" + literal_or_line_end + rb"""|[\w.\[\]"']+[ \t]*=(?!=))"""
        + rb"|[\"'][ \t]*[:,][ \t]*" + literal_or_line_end
        + rb"|[\"']?\]?[ \t]*[:,][ \t]*" + literal
        + rb"|[\"']?\]?[ \t]*:[^=\n]*=(?!=)[ \t]*" + literal_or_line_end
        + rb"|[ \t]*,[^=\n]*=(?!=)"
        + rb"|[ \t]*\)[ \t]*=(?!=)"
        + rb")"
    )


_NAME_CHARS = re.compile(rb"[\w.-]*")
# A comparison with a string literal: the keyword's name (with its dots, subscripts and .get()
# call) followed by an operator and an operand that can be a string literal, or such an operand
# and an operator followed by the name; a string literal must also be on the line, or a bracket
# opened at its end (the literals follow). Or a `match` line, whose cases follow. Lines of an
# assert are left out: the AST walk does not read comparisons under an assert.
# The operand after the operator: a quote (after a string prefix), a bracket (a parenthesised
# string, or a tuple, list or set of them), or the line's end (the operand is on the next line).
_OPERAND_AFTER = rb"""[ \t]*(?:[rRuUbBfF]{0,2}["']|[(\[{]|\\?[ \t]*$)"""
_OPERATOR = rb"""(?:==|!=|(?:not[ \t]+)?in\b|is(?:[ \t]+not)?\b)"""
_COMPARED_AFTER = re.compile(
    rb"""[\w.\[\]"'()-]*[ \t]*(?:""" + _OPERATOR + rb"""|\.(?:starts|ends)with[ \t]*\()""" + _OPERAND_AFTER, re.MULTILINE
)
# The operand before the operator ends with a quote or a closing parenthesis (a parenthesised
# string), or the operator opens the line (the operand ended the line before).
_COMPARED_BEFORE = re.compile(rb"""(?:["')][ \t]*|^[ \t]*)""" + _OPERATOR + rb"""[ \t]*\(?[\w.\[\]"'()]*$""", re.MULTILINE)
_LITERAL_ON_LINE = re.compile(rb"""["']|[(\[{\\][ \t]*$""")
_ASSERT_OR_MATCH = re.compile(rb"[ \t]*(assert|match)\b")


def _alternation(words: Sequence[str]) -> Optional[str]:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) or None


@dataclass(frozen=True)
class KeywordFilter:
    """A rule's keywords, split into those matched in any case and those matched exactly."""

    folded: Optional[str]
    exact: Optional[str]
    folded_words: tuple[bytes, ...] = ()
    exact_words: tuple[bytes, ...] = ()

    @classmethod
    def build(cls, keywords: Sequence[str]) -> KeywordFilter:
        """Words written in lower case match any case; a word with a capital matches as written."""
        folded = [w for w in keywords if w == w.lower()]
        exact = [w for w in keywords if w != w.lower()]
        return cls(
            folded=_alternation(folded),
            exact=_alternation(exact),
            folded_words=tuple(w.encode() for w in folded),
            exact_words=tuple(w.encode() for w in exact),
        )

    @property
    def matches_everything(self) -> bool:
        return self.folded is None and self.exact is None

    def compile_patterns(self, value_kind: Optional[str]) -> None:
        """Compile the patterns :meth:`keyword_lines` and :meth:`candidate_lines` use."""
        for words in (self.folded, self.exact):
            for kind in (None, value_kind) if words is not None else ():
                _pattern(words, kind)

    def _searches(self, raw: bytes, low: bytes, kind: Optional[str]) -> list[tuple[re.Pattern[bytes], bytes]]:
        """The compiled searches worth running on this file: keywords alone (``kind`` None) or
        followed by a binding to a literal of ``kind``, each with the text it runs on."""
        found = []
        if self.folded is not None and _may_contain(low, self.folded_words):
            found.append((_pattern(self.folded, kind), low))
        if self.exact is not None and _may_contain(raw, self.exact_words):
            found.append((_pattern(self.exact, kind), raw))
        return found

    def keyword_lines(self, raw: bytes, low: bytes) -> Optional[list[int]]:
        """Sorted 1-based lines holding a keyword anywhere (``low`` is ``raw.lower()``): the only
        lines a line pattern can match, since every match contains a keyword. ``None`` means
        every line: the rule has no keywords."""
        if self.matches_everything:
            return None
        offsets = sorted(m.start() for rx, text in self._searches(raw, low, None) for m in rx.finditer(text))
        return _line_numbers(raw, offsets, skip_non_code=False)

    def candidate_lines(
        self,
        raw: bytes,
        low: bytes,
        value_kind: Optional[str],
        comparison: bool,
        wants_name: Callable[[str], bool] = lambda name: True,
    ) -> Optional[list[int]]:
        """Sorted 1-based lines where a keyword's name is bound to a literal of ``value_kind``
        (number, numeric or string; None: bindings are not wanted) and ``wants_name`` accepts the
        name, or where it is compared (``comparison``). ``None`` means every line: the rule has
        no keywords.
        """
        if self.matches_everything:
            return None
        starts: list[int] = []
        if value_kind is not None:
            for rx, text in self._searches(raw, low, value_kind):
                starts.extend(at for at in _word_starts(rx, text, raw) if any(map(wants_name, _names_around(raw, at))))
        if comparison:
            for rx, text in self._searches(raw, low, None):
                starts.extend(at for at in _word_starts(rx, text, raw) if _compared(raw, at))
        return _line_numbers(raw, sorted(set(starts)))


# Above this many words one regex pass beats a substring scan per word.
_SUBSTRING_TESTS_MAX = 3


def _may_contain(text: bytes, words: tuple[bytes, ...]) -> bool:
    """False when none of a few ``words`` occurs in ``text``: a substring test is far cheaper than
    the regex and most files fail it. For many words it would cost a pass per word, more than the
    regex's single pass, so it says True and leaves the deciding to the regex."""
    if len(words) == 1:
        return words[0] in text
    return len(words) > _SUBSTRING_TESTS_MAX or any(word in text for word in words)


@lru_cache(maxsize=None)
def _pattern(alternation: str, kind: Optional[str]) -> re.Pattern[bytes]:
    """The keywords in ``alternation``, followed by a binding to a literal of ``kind`` unless
    ``kind`` is None; compiled once per process and kept for every file."""
    suffix = b"" if kind is None else b"(?:" + _binding(kind) + b")"
    return re.compile(b"(?:" + alternation.encode() + b")" + suffix, re.MULTILINE)


def _names_around(raw: bytes, at: int) -> tuple[str, str]:
    """The dotted name or string key holding the keyword that starts at ``at``, and its last
    dotted part: ``self.timeout`` binds ``timeout``, the key ``"tcp.idle_timeout"`` is whole."""
    start = at
    while start > 0 and (raw[start - 1 : start].isalnum() or raw[start - 1 : start] in b"_-."):
        start -= 1
    end = _NAME_CHARS.match(raw, at)
    whole = raw[start : end.end() if end else at].decode("ascii", "replace")
    return whole, whole.rsplit(".", 1)[-1]


def _word_starts(rx: re.Pattern[bytes], text: bytes, raw: bytes) -> Iterator[int]:
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


def _compared(raw: bytes, at: int) -> bool:
    """Whether the keyword at ``at`` can be one side of a comparison with a string literal."""
    start = raw.rfind(b"\n", 0, at) + 1
    end = raw.find(b"\n", at)
    line = raw[start : end if end >= 0 else len(raw)]
    statement = _ASSERT_OR_MATCH.match(line)
    if statement is not None:
        return statement.group(1) == b"match"
    if _COMPARED_AFTER.match(raw, at, start + len(line)) is None:
        before = _COMPARED_BEFORE.search(raw, start, at)
        if before is None:
            return False
        if before.group(0)[:1] not in b"\"')":
            return True  # the operator opens the line: the literal ended the line before
    return _LITERAL_ON_LINE.search(line) is not None


# A line that opens with `#` is a comment and one that opens with `>>>` is a doctest inside a
# docstring (it is not valid code); neither can hold a finding.
_NEVER_CODE = re.compile(rb"[ \t]*(?:#|>>>)")


def _line_numbers(raw: bytes, offsets: list[int], skip_non_code: bool = True) -> list[int]:
    """The 1-based lines of ``offsets`` (sorted), leaving out comment and doctest lines unless
    ``skip_non_code`` is false."""
    lines: list[int] = []
    line, counted_to = 1, 0
    for at in offsets:
        line += raw.count(b"\n", counted_to, at)
        counted_to = at
        if lines and lines[-1] == line:
            continue
        if not skip_non_code or not _NEVER_CODE.match(raw, raw.rfind(b"\n", 0, at) + 1):
            lines.append(line)
    return lines
