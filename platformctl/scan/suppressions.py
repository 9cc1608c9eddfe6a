"""Inline suppressions, and the rules that keep them honest.

A finding is suppressed by a comment on the line the finding is reported on, naming the rule
and giving the reason::

    page_size_timeout = 900  # antipattern: ignore[UT002] reason: AWS caps Lambda at 900 s

Several rules may be named, ``ignore[UT001,UT002]``. There is no blanket form: no bare
``ignore``, no ``*``, nothing file-wide. A path that holds values by design is exempted in a rules
file's ``allow`` list, with its reason. A suppression that breaks these rules suppresses nothing
and is a finding itself:

- UT900: it gives no reason;
- UT901: it names a rule that does not exist;
- UT902: it is not in the ``ignore[RULE] reason: ...`` form, is blanket, or names a UT9xx rule;
- UT903: it suppresses nothing on its line, so it has gone stale.

>>> parse_suppression("antipattern: ignore[UT002] reason: AWS caps it", 3, 10, {"UT002"}).reason
'AWS caps it'
>>> parse_suppression("antipattern: ignore[UT002]", 3, 10, {"UT002"}).problem.rule_id
'UT900'
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Optional

from .findings import Finding, SuppressedFinding
from .ruleset import RuleInfo, Severity

MARKER = "antipattern:"
MARKER_BYTES = MARKER.encode()

_FORM = re.compile(r"antipattern:\s*ignore\[(?P<ids>[^\]]*)\](?P<rest>.*)$")
_REASON = re.compile(r"^\s*reason:\s*(?P<reason>.*?)\s*$")


def _meta(rule_id: str, name: str, severity: Severity, message: str, description: str, help_text: str) -> RuleInfo:
    return RuleInfo(id=rule_id, name=name, severity=severity, message=message, description=description, help=help_text)


WITHOUT_REASON = _meta(
    "UT900", "suppression-without-reason", "high", "Suppression without a reason",
    "An inline suppression gives no reason, so nobody can tell later whether it still holds.",
    "Add the reason after the rule list: `# antipattern: ignore[UT002] reason: <why this literal is right>`.",
)
UNKNOWN_RULE = _meta(
    "UT901", "suppression-of-unknown-rule", "high", "Suppression names an unknown rule",
    "An inline suppression names a rule id that no rule file defines, usually a typo.",
    "Name the rule that is reported on this line, as printed by `platformctl scan`.",
)
MALFORMED = _meta(
    "UT902", "malformed-suppression", "high", "Malformed or blanket suppression",
    "An `antipattern:` comment is not of the form `ignore[RULE,...] reason: ...`, suppresses every "
    "rule at once, or names a UT9xx rule, which cannot be suppressed.",
    "Write `# antipattern: ignore[RULE] reason: <why>` naming each rule; exempt a whole file only "
    "through a rules file's `allow` list, with its reason.",
)
UNUSED = _meta(
    "UT903", "unused-suppression", "medium", "Suppression suppresses nothing",
    "An inline suppression names a rule that reports nothing on its line; it has gone stale and "
    "would hide a future finding.",
    "Remove the suppression, or the rule ids in it that no longer apply.",
)
META_RULES: tuple[RuleInfo, ...] = (WITHOUT_REASON, UNKNOWN_RULE, MALFORMED, UNUSED)
_META_IDS = frozenset(rule.id for rule in META_RULES)


@dataclass(frozen=True)
class Suppression:
    """One ``antipattern:`` comment: where it is, what it names, and what is wrong with it."""

    line: int
    column: int
    rule_ids: tuple[str, ...]
    reason: str
    problem: Optional[Finding] = None


def parse_suppression(comment: str, line: int, column: int, known_ids: Iterable[str]) -> Suppression:
    """Read the comment text from the marker on; ``problem`` is set when it is not valid."""
    text = comment[comment.index(MARKER) :]
    form = _FORM.match(text)
    if form is None:
        return _broken(line, column, MALFORMED, "expected `antipattern: ignore[RULE] reason: <why>`")
    ids = tuple(part.strip() for part in form["ids"].split(",") if part.strip())
    if not ids or any(not re.fullmatch(r"[A-Za-z0-9]+", i) for i in ids):
        return _broken(line, column, MALFORMED, "name each rule, e.g. ignore[UT002]; blanket suppressions are not allowed")
    meta = [i for i in ids if i in _META_IDS]
    if meta:
        return _broken(line, column, MALFORMED, f"{', '.join(meta)} cannot be suppressed")
    known = set(known_ids)
    unknown = [i for i in ids if i not in known]
    if unknown:
        return _broken(line, column, UNKNOWN_RULE, f"no rule {', '.join(unknown)}")
    reason = _REASON.match(form["rest"])
    if reason is None or not reason["reason"]:
        return _broken(line, column, WITHOUT_REASON, "add `reason: <why>` after the rule list")
    return Suppression(line, column, ids, reason["reason"])


def _broken(line: int, column: int, rule: RuleInfo, detail: str) -> Suppression:
    return Suppression(line, column, (), "", Finding("", line, column, rule.id, f"{rule.message}: {detail}"))


def python_comments(source: bytes) -> Iterator[tuple[str, int, int]]:
    """``(text, line, 1-based column)`` of each real comment holding the marker.

    The tokenizer tells comments from strings, so a docstring that shows a suppression is not one.
    """
    try:
        for token in tokenize.tokenize(io.BytesIO(source).readline):
            if token.type == tokenize.COMMENT and MARKER in token.string:
                yield token.string, token.start[0], token.start[1] + 1
    except (tokenize.TokenError, SyntaxError):
        yield from hash_comments(source.decode("utf-8", "replace"))


def hash_comments(text: str) -> Iterator[tuple[str, int, int]]:
    """Marker comments in a text file: from a ``#`` that starts the line or follows a space."""
    for number, line in enumerate(text.split("\n"), 1):
        if MARKER not in line:
            continue
        at = line.find("#")
        while at > 0 and not line[at - 1].isspace():
            at = line.find("#", at + 1)
        if at >= 0 and MARKER in line[at:]:
            yield line[at:], number, at + 1


def apply_suppressions(
    findings: list[Finding], comments: Iterable[tuple[str, int, int]], known_ids: Iterable[str]
) -> tuple[list[Finding], list[SuppressedFinding]]:
    """Split ``findings`` into those still active and those suppressed (with their reasons).

    Broken and unused suppressions are added to the active findings.
    """
    known = frozenset(known_ids)
    by_line: dict[int, Suppression] = {}
    active: list[Finding] = []
    for text, line, column in comments:
        suppression = parse_suppression(text, line, column, known)
        if suppression.problem is not None:
            active.append(suppression.problem)
        else:
            by_line[line] = suppression
    used: set[tuple[int, str]] = set()
    suppressed: list[SuppressedFinding] = []
    for finding in findings:
        covering = by_line.get(finding.line)
        if covering is not None and finding.rule_id in covering.rule_ids:
            suppressed.append(SuppressedFinding(finding, covering.reason))
            used.add((finding.line, finding.rule_id))
        else:
            active.append(finding)
    for line, suppression in by_line.items():
        stale = [i for i in suppression.rule_ids if (line, i) not in used]
        if stale:
            active.append(Finding("", line, suppression.column, UNUSED.id, f"{UNUSED.message}: no {', '.join(stale)} finding on this line"))
    return active, suppressed
