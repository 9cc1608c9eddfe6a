"""The anti-pattern rule file's typed model, and loading the rules a scan uses.

A scan's rules come from three places, in this order: the rules shipped in this package
(``rules.yaml``), ``antipatterns.yaml`` at the scanned repository's root when there is one, and
each ``--rules FILE``. Later files add rules, allow entries and text-file globs; a rule id may be
defined only once, so an extra file can never quietly weaken a shipped rule.

Example extra rules file::

    version: 1
    rules:
      - id: ACME002
        name: hardcoded-memory-size
        severity: medium
        message: Hardcoded Lambda memory size
        description: Memory is part of a service's scaling policy, set per tenant tier.
        help: Read scaling_policies.memory_mb from the merged tenant settings.
        keywords: [memory]
        python: {name: '(^|_)memory(_size|_mb)?$', value: number, in: [keyword, assignment]}
    allow:
      - path: tools/bench_*.py
        reason: Benchmark drivers pin their own sizes so that runs compare.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ubertruck.errors import UserError, UserErrors
from ubertruck.safe_yaml import load_file, load_text

#: The repository-level extension file the scanner looks for at the scanned root.
REPOSITORY_RULES_FILE = "antipatterns.yaml"

Severity = Literal["critical", "high", "medium", "low"]
Context = Literal["assignment", "keyword", "default", "dict_key", "fallback", "comparison"]
ValueKind = Literal["number", "string", "numeric"]

_RULE_ID = r"^[A-Z][A-Z0-9]*[0-9]$"
_RULE_NAME = r"^[a-z0-9]+(-[a-z0-9]+)*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)


def _compile(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression ({exc})") from None


class RuleInfo(_Strict):
    """What a report says about a rule: the SARIF ``reportingDescriptor`` fields."""

    id: str = Field(pattern=_RULE_ID)
    name: str = Field(pattern=_RULE_NAME)
    severity: Severity
    message: str = Field(min_length=1)
    description: str = Field(min_length=1)
    help: str = Field(min_length=1)


class PythonMatch(_Strict):
    """How a rule reads Python's syntax tree (see the field list in ``rules.yaml``)."""

    name: str
    case: Literal["lower", "upper", "any"] = "any"
    value: ValueKind
    ignore: list[Union[int, float, str]] = []
    contexts: list[Context] = Field(alias="in", min_length=1)

    @field_validator("name")
    @classmethod
    def _valid_regex(cls, pattern: str) -> str:
        _compile(pattern)
        return pattern

    @property
    def name_regex(self) -> re.Pattern[str]:
        return _compile(self.name)


class PatternRule(RuleInfo):
    """A rule that finds something: a line regex for text files, an AST reading for Python."""

    keywords: list[str] = []
    text: Optional[str] = None
    python: Optional[PythonMatch] = None

    @field_validator("text")
    @classmethod
    def _valid_text_regex(cls, pattern: Optional[str]) -> Optional[str]:
        if pattern is not None:
            _compile(pattern)
        return pattern

    @field_validator("keywords")
    @classmethod
    def _plain_words(cls, words: list[str]) -> list[str]:
        bad = [w for w in words if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", w)]
        if bad:
            raise ValueError(f"keywords must be words of letters, digits, _ and -; got {bad}")
        return words

    @model_validator(mode="after")
    def _finds_something(self) -> PatternRule:
        if self.text is None and self.python is None:
            raise ValueError("a rule needs `text`, `python` or both")
        return self


class AllowEntry(_Strict):
    """A path that is exempt from some or all rules, with the reason it is."""

    path: str = Field(min_length=1)
    reason: str
    rules: Optional[list[str]] = None

    @field_validator("reason")
    @classmethod
    def _has_reason(cls, reason: str) -> str:
        if not reason.strip():
            raise ValueError("every allow entry needs a reason")
        return reason.strip()


class RuleFile(_Strict):
    """One rule file: ``rules.yaml``, ``antipatterns.yaml`` or a ``--rules`` file."""

    version: Literal[1]
    text_files: list[str] = []
    rules: list[PatternRule] = []
    allow: list[AllowEntry] = []


@dataclass(frozen=True)
class RuleSet:
    """Every rule, allow entry and text-file glob a scan uses, and the files they came from."""

    rules: tuple[PatternRule, ...]
    meta_rules: tuple[RuleInfo, ...]
    allow: tuple[AllowEntry, ...]
    text_files: tuple[str, ...]
    sources: tuple[str, ...]

    def info(self, rule_id: str) -> RuleInfo:
        """The rule with ``rule_id``, pattern or meta (``KeyError`` if there is none)."""
        for rule in (*self.rules, *self.meta_rules):
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    @property
    def all_rules(self) -> tuple[RuleInfo, ...]:
        return (*self.rules, *self.meta_rules)


def _location(loc: Iterable[Any]) -> str:
    return ".".join(str(part) for part in loc) or "(root)"


def parse_rule_file(data: Any, where: str) -> RuleFile:
    """Validate one parsed rule file; raise ``UserErrors`` with one line per problem."""
    if not isinstance(data, dict):
        raise UserError(where, "expected a mapping with `version: 1` and `rules:`")
    try:
        return RuleFile.model_validate(data)
    except ValidationError as exc:
        raise UserErrors(
            [UserError(f"{where}: {_location(e['loc'])}", str(e["msg"]).removeprefix("Value error, ")) for e in exc.errors()]
        ) from None


@lru_cache(maxsize=1)
def shipped_rule_file() -> RuleFile:
    """The rules that ship with the package (``platformctl/scan/rules.yaml``), read once per
    process: the model is frozen, and PyYAML's pure-Python parser is not free."""
    resource = files(__package__).joinpath("rules.yaml")
    return parse_rule_file(load_text(resource.read_text(encoding="utf-8"), str(resource)), str(resource))


def load_ruleset(extra_files: Sequence[Path], repository_root: Optional[Path], meta_rules: Sequence[RuleInfo]) -> RuleSet:
    """Merge the shipped rules, ``antipatterns.yaml`` under ``repository_root`` and ``extra_files``.

    >>> from platformctl.scan.suppressions import META_RULES
    >>> [r.id for r in load_ruleset([], None, META_RULES).rules][:2]
    ['UT001', 'UT002']
    """
    loaded: list[tuple[str, RuleFile]] = [("rules.yaml (shipped)", shipped_rule_file())]
    candidates = list(extra_files)
    if repository_root is not None and (repository_root / REPOSITORY_RULES_FILE).is_file():
        candidates.insert(0, repository_root / REPOSITORY_RULES_FILE)
    for path in candidates:
        if not path.is_file():
            raise UserError(str(path), "rules file not found; expected a YAML rules file (see platformctl/scan/rules.yaml)")
        loaded.append((str(path), parse_rule_file(load_file(path), str(path))))

    defined: dict[str, str] = {rule.id: "the scanner itself" for rule in meta_rules}
    rules: list[PatternRule] = []
    errors: list[UserError] = []
    for where, rule_file in loaded:
        for rule in rule_file.rules:
            if rule.id in defined:
                errors.append(UserError(f"{where}: {rule.id}", f"rule id already defined by {defined[rule.id]}; pick a new id"))
                continue
            defined[rule.id] = where
            rules.append(rule)
    pattern_ids = {rule.id for rule in rules}
    for where, rule_file in loaded:
        for entry in rule_file.allow:
            unknown = sorted(set(entry.rules or ()) - pattern_ids)
            if unknown:
                errors.append(
                    UserError(f"{where}: allow {entry.path}", f"unknown rule id(s) {unknown}; expected ids of pattern rules")
                )
    if errors:
        raise UserErrors(errors)
    return RuleSet(
        rules=tuple(rules),
        meta_rules=tuple(meta_rules),
        allow=tuple(entry for _, f in loaded for entry in f.allow),
        text_files=tuple(dict.fromkeys(glob for _, f in loaded for glob in f.text_files)),
        sources=tuple(where for where, _ in loaded),
    )
