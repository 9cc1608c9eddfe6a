"""Running a scan: rules compiled once, each file read once, files spread over processes.

Per file the order is: the allow list (an exempt file is not even read), a NUL-byte check,
the keyword prefilter, then the AST (Python) or the line patterns (everything else), then the
inline suppressions. A Python file that does not parse is read with the line patterns instead,
so it is never silently skipped. Trees above :data:`PARALLEL_MIN_BYTES` are split across worker
processes, because parsing is CPU-bound and the GIL keeps threads on one core.

>>> import pathlib, tempfile
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "client.py").write_text("requests.get(url, timeout=30)\\n")
>>> [f"{f.path}:{f.line}:{f.column}: {f.rule_id}" for f in scan([folder]).findings]
['client.py:1:19: UT002']
"""

from __future__ import annotations

import ast
import fnmatch
import gc
import multiprocessing
import os
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Optional

from .files import SourceFile, discover, find_root, is_binary
from .findings import FileResult, Finding, SuppressedFinding
from .prefilter import KeywordFilter
from .python_checks import PythonRule, python_hits
from .ruleset import PatternRule, RuleSet, load_ruleset
from .suppressions import MARKER_BYTES, META_RULES, apply_suppressions, hash_comments, python_comments
from .text_checks import TextRule, text_hits

#: Below this many bytes a scan stays in one process: starting workers would cost more.
PARALLEL_MIN_BYTES = 2 * 1024 * 1024
#: Work items per worker, so that one large file does not leave the other workers idle.
CHUNKS_PER_WORKER = 8

_EVERY_RULE = frozenset({"*"})


def _python_entry(rule: PatternRule) -> tuple[KeywordFilter, PythonRule, Optional[str], bool]:
    """A Python rule with its prefilter: the literal kind its bindings take (None when it only
    compares) and whether it compares."""
    compiled = PythonRule.from_rule(rule)
    binds = bool(compiled.contexts - {"comparison"})
    return KeywordFilter.build(rule.keywords), compiled, compiled.value if binds else None, "comparison" in compiled.contexts


@dataclass(frozen=True)
class CompiledRules:
    """A rule set in the form the per-file loop uses."""

    python_rules: tuple[tuple[KeywordFilter, PythonRule, Optional[str], bool], ...]
    text_rules: tuple[tuple[KeywordFilter, TextRule], ...]
    messages: dict[str, str]
    known_ids: frozenset[str]
    allow: tuple[tuple[str, frozenset[str]], ...]

    @classmethod
    def from_ruleset(cls, ruleset: RuleSet) -> CompiledRules:
        return cls(
            python_rules=tuple(_python_entry(r) for r in ruleset.rules if r.python),
            text_rules=tuple((KeywordFilter.build(r.keywords), TextRule(r.id, re.compile(r.text, re.MULTILINE))) for r in ruleset.rules if r.text),
            messages={r.id: r.message for r in ruleset.all_rules},
            known_ids=frozenset(r.id for r in ruleset.rules),
            allow=tuple((e.path, frozenset(e.rules) if e.rules else _EVERY_RULE) for e in ruleset.allow),
        )

    def compile_patterns(self) -> None:
        """Compile every prefilter pattern the rules use now, rather than on first use."""
        for keywords, _, value_kind, _ in self.python_rules:
            keywords.compile_patterns(value_kind)
        for keywords, _ in self.text_rules:
            keywords.compile_patterns(None)

    def exempt_rules(self, display: str) -> frozenset[str]:
        """Rule ids the allow list exempts ``display`` from (``{"*"}``: all of them)."""
        exempt: frozenset[str] = frozenset()
        for glob, rules in self.allow:
            if fnmatch.fnmatchcase(display, glob):
                exempt |= rules
        return exempt


@dataclass(frozen=True)
class ScanReport:
    """The outcome of a scan: active findings (sorted), suppressed ones, and what was read."""

    root: Path
    ruleset: RuleSet
    findings: list[Finding]
    suppressed: list[SuppressedFinding]
    files_scanned: int
    bytes_scanned: int




def parse_python(raw: bytes) -> Optional[ast.Module]:
    """The module's syntax tree, or None when it does not parse."""
    # A syntax tree holds no reference cycles, so the cyclic collector has nothing to find in the
    # many objects parsing allocates; pausing it makes parsing about a sixth faster.
    collecting = gc.isenabled()
    gc.disable()
    try:
        with warnings.catch_warnings():
            # Scanned code may use deprecated escapes; those warnings are not the scanner's to print.
            warnings.simplefilter("ignore")
            return ast.parse(raw)
    except (SyntaxError, ValueError):
        return None
    finally:
        if collecting:
            gc.enable()


def _python_findings(raw: bytes, low: bytes, rules: CompiledRules) -> Optional[list[Finding]]:
    """Findings of the Python rules, or None when the file does not parse."""
    active: list[PythonRule] = []
    lines: set[int] = set()
    whole_file = False
    for keywords, rule, value_kind, compares in rules.python_rules:
        candidates = keywords.candidate_lines(raw, low, value_kind, compares, rule.wants_raw_name)
        if candidates is None or candidates:
            active.append(rule)
            whole_file = whole_file or candidates is None
            lines.update(candidates or ())
    if not active:
        return []
    tree = parse_python(raw)
    if tree is None:
        return None
    hits = python_hits(tree, active, None if whole_file else sorted(lines))
    source_lines = raw.split(b"\n") if hits else []
    # ast counts columns in UTF-8 bytes; reports count characters.
    return [
        Finding(
            "",
            h.line,
            len(source_lines[h.line - 1][: h.col_offset].decode("utf-8", "replace")) + 1,
            h.rule_id,
            f"{rules.messages[h.rule_id]} ({h.name})",
        )
        for h in hits
    ]


def _text_findings(raw: bytes, low: bytes, rules: CompiledRules, hash_comments_too: bool) -> list[Finding]:
    active = []
    for keywords, rule in rules.text_rules:
        lines = keywords.keyword_lines(raw, low)
        if lines is None or lines:
            active.append((rule, lines))
    if not active:
        return []  # most text files: no keyword at all, so not even decoded
    return [
        Finding("", h.line, h.column, h.rule_id, rules.messages[h.rule_id])
        for h in text_hits(raw.decode("utf-8", "replace"), active, hash_comments_too)
    ]


def scan_file(source: SourceFile, rules: CompiledRules) -> FileResult:
    """Scan one file; findings carry ``source.display`` as their path."""
    exempt = rules.exempt_rules(source.display)
    if exempt == _EVERY_RULE:
        return FileResult()
    try:
        with open(source.path, "rb") as handle:
            raw = handle.read()
    except OSError:
        return FileResult()
    if is_binary(raw):
        return FileResult()
    low = raw.lower()
    # JSON has no comments: no trailing `# ...` is cut off, and nothing in it is a suppression.
    has_comments = not source.display.endswith(".json")
    findings = _python_findings(raw, low, rules) if source.kind == "python" else None
    parsed = findings is not None
    if findings is None:
        findings = _text_findings(raw, low, rules, hash_comments_too=has_comments)
    findings = [f for f in findings if f.rule_id not in exempt]
    suppressed: list[SuppressedFinding] = []
    if MARKER_BYTES in raw and has_comments:
        comments = python_comments(raw) if parsed else hash_comments(raw.decode("utf-8", "replace"))
        findings, suppressed = apply_suppressions(findings, comments, rules.known_ids)
    return FileResult(
        findings=[replace(f, path=source.display) for f in findings],
        suppressed=[SuppressedFinding(replace(s.finding, path=source.display), s.reason) for s in suppressed],
        files=1,
        size=len(raw),
    )


_WORKER_RULES: list[CompiledRules] = []


def _init_worker(rules: CompiledRules) -> None:
    _WORKER_RULES[:] = [rules]


def _scan_chunk(chunk: list[SourceFile]) -> FileResult:
    return FileResult.merged([scan_file(source, _WORKER_RULES[0]) for source in chunk])


def _balanced_chunks(files: Sequence[SourceFile], count: int) -> list[list[SourceFile]]:
    """Largest files first, each into the lightest chunk so far."""
    chunks: list[list[SourceFile]] = [[] for _ in range(max(1, count))]
    weights = [0] * len(chunks)
    for source in sorted(files, key=lambda f: f.size, reverse=True):
        lightest = weights.index(min(weights))
        chunks[lightest].append(source)
        weights[lightest] += source.size + 1
    return [chunk for chunk in chunks if chunk]


def _scan_files(files: Sequence[SourceFile], rules: CompiledRules, jobs: int) -> list[FileResult]:
    workers = min(jobs or os.cpu_count() or 1, len(files))
    if workers <= 1 or sum(f.size for f in files) < PARALLEL_MIN_BYTES:
        return [scan_file(source, rules) for source in files]
    # Compiled here, the patterns reach every forked worker ready-made instead of being compiled
    # again in each.
    rules.compile_patterns()
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with context.Pool(workers, initializer=_init_worker, initargs=(rules,)) as pool:
        chunks = _balanced_chunks(files, workers * CHUNKS_PER_WORKER)
        return list(pool.imap_unordered(_scan_chunk, chunks))


def scan(paths: Sequence[Path], rule_files: Sequence[Path] = (), jobs: int = 0) -> ScanReport:
    """Scan ``paths`` (default: the current folder) with the shipped rules, the repository's
    ``antipatterns.yaml`` and ``rule_files``; ``jobs`` 0 uses every core."""
    paths = list(paths) or [Path(".")]
    root = find_root(paths[0]) if paths[0].exists() else paths[0]
    ruleset = load_ruleset(rule_files, root, META_RULES)
    files = discover(paths, root, ruleset.text_files)
    results = _scan_files(files, CompiledRules.from_ruleset(ruleset), jobs)
    return ScanReport(
        root=root,
        ruleset=ruleset,
        findings=sorted(f for r in results for f in r.findings),
        suppressed=sorted((s for r in results for s in r.suppressed), key=lambda s: s.finding),
        files_scanned=sum(r.files for r in results),
        bytes_scanned=sum(r.size for r in results),
    )
