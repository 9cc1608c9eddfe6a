"""Anti-pattern scanner throughput against ``grep -E`` with the same patterns on the same tree.

Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/scan_throughput.py [--rounds 5] [--corpus DIR] [--no-write]

Two trees are measured:

- this repository, as CI scans it;
- a large corpus of real third-party code and data: the installed sources of a few packages
  from the virtualenv (moto, botocore, aws_lambda_powertools, pydantic, pulumi, rich, typer,
  yaml), copied into a temporary folder outside git. ``--corpus DIR`` measures another tree.

For each tree grep and the scanner run in turn, ``--rounds`` times, after one warm-up each so
that both read from the page cache; the best time of each is kept. grep gets every shipped rule's
``text`` pattern (``-e`` each, ``-EnI``) and the same files: those git lists inside a git work
tree, else ``-r`` skipping the folders the scanner skips. The scanner is measured three ways:
in-process on every core (``scan(paths)``), in-process in one process (``jobs=1``), and as a
fresh interpreter that imports it and scans, which adds Python's start-up. The target is the
in-process time within 3x of grep's. CPU seconds are reported beside wall seconds because the
build machines are shared. The figures replace the "## Anti-pattern scanner" section of
benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from benchmarks.readme import write_section
from platformctl.scan import engine, scan
from platformctl.scan.files import SKIPPED_DIRS, discover
from platformctl.scan.ruleset import shipped_rule_file

ROOT = Path(__file__).resolve().parent.parent
HEADING = "## Anti-pattern scanner"
CORPUS_PACKAGES = ("moto", "botocore", "aws_lambda_powertools", "pydantic", "pulumi", "rich", "typer", "yaml")
TARGET_RATIO = 3.0


@dataclass
class Timing:
    """Best wall-clock and best CPU seconds (user + system, workers included) over the rounds."""

    wall: float = float("inf")
    cpu: float = float("inf")

    def add(self, action: Callable[[], object]) -> None:
        cpu_before = _cpu_seconds()
        started = time.perf_counter()
        action()
        self.wall = min(self.wall, time.perf_counter() - started)
        self.cpu = min(self.cpu, _cpu_seconds() - cpu_before)


@dataclass
class ParseShare:
    """One single-process scan, with how much of it went into parsing Python."""

    total_cpu: float
    parse_cpu: float
    parsed_files: int
    parsed_megabytes: float
    python_megabytes: float


@dataclass
class TreeResult:
    """Best times for one tree, with what each tool found."""

    name: str
    files: int
    megabytes: float
    timings: dict[str, Timing]
    grep_lines: int
    findings: int
    parsing: ParseShare


def grep_patterns() -> list[str]:
    """``-e PATTERN`` for each shipped rule's text pattern."""
    return [arg for rule in shipped_rule_file().rules if rule.text for arg in ("-e", rule.text)]


def grep_shell(tree: Path) -> str:
    """The grep run for ``tree``, as a shell command.

    Inside git, grep reads the files git lists (tracked, and untracked but not ignored), the same
    set the scanner starts from; elsewhere ``grep -r`` skips the folders the scanner skips.
    """
    patterns = " ".join(shlex.quote(p) for p in grep_patterns())
    if _in_git(tree):
        return (
            f"git -C {shlex.quote(str(tree))} ls-files -z --cached --others --exclude-standard"
            f" | (cd {shlex.quote(str(tree))} && xargs -0 grep -EnIH {patterns})"
        )
    excludes = " ".join(f"--exclude-dir={d}" for d in sorted(SKIPPED_DIRS))
    return f"grep -rEnI {excludes} {patterns} {shlex.quote(str(tree))}"


def _in_git(tree: Path) -> bool:
    done = subprocess.run(["git", "-C", str(tree), "rev-parse", "--is-inside-work-tree"], capture_output=True, check=False)
    return done.returncode == 0


def run_grep(tree: Path) -> int:
    """Run grep once; the number of matching lines. Exit 2 (a bad pattern) is an error."""
    done = subprocess.run(grep_shell(tree), shell=True, capture_output=True, check=False)
    if done.returncode not in (0, 1, 123):  # xargs says 123 when a grep found nothing
        raise SystemExit(f"grep failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout.count(b"\n")


def run_scan_process(tree: Path) -> None:
    """A fresh interpreter that imports the scanner and scans ``tree``."""
    code = "import sys; from pathlib import Path; from platformctl.scan import scan; scan([Path(sys.argv[1])])"
    subprocess.run([sys.executable, "-c", code, str(tree)], cwd=ROOT, check=True)


def _cpu_seconds() -> float:
    """CPU used so far by this process and by every child it has waited for (grep, the fresh
    interpreter, the scanner's worker processes)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def parse_share(tree: Path) -> ParseShare:
    """Scan ``tree`` in this process with the parser wrapped, to see where the time goes."""
    real = engine.parse_python
    spent = [0.0, 0, 0]

    def timed_parse(raw: bytes):
        started = time.process_time()
        tree_ = real(raw)
        spent[0] += time.process_time() - started
        spent[1] += 1
        spent[2] += len(raw)
        return tree_

    engine.parse_python = timed_parse
    try:
        started = time.process_time()
        scan([tree], jobs=1)
        total = time.process_time() - started
    finally:
        engine.parse_python = real
    python_bytes = sum(f.size for f in discover([tree], tree, ()) if f.kind == "python")
    return ParseShare(total, spent[0], int(spent[1]), spent[2] / 1e6, python_bytes / 1e6)


#: What is timed, in table order: grep, then the scanner three ways.
RUNS = ("grep -E", "scan, all cores", "scan, one process", "scan, fresh interpreter")


def measure(name: str, tree: Path, rounds: int) -> TreeResult:
    """Warm the cache, then time grep and the scanner's three ways of running, in turn."""
    grep_lines = run_grep(tree)
    report = scan([tree])
    actions: dict[str, Callable[[], object]] = {
        "grep -E": lambda: run_grep(tree),
        "scan, all cores": lambda: scan([tree]),
        "scan, one process": lambda: scan([tree], jobs=1),
        "scan, fresh interpreter": lambda: run_scan_process(tree),
    }
    timings = {run: Timing() for run in RUNS}
    for _ in range(rounds):
        # Interleaved, so that load from anything else on the machine falls on all of them alike.
        for run in RUNS:
            timings[run].add(actions[run])
    return TreeResult(
        name=name,
        files=report.files_scanned,
        megabytes=report.bytes_scanned / 1e6,
        timings=timings,
        grep_lines=grep_lines,
        findings=len(report.findings),
        parsing=parse_share(tree),
    )


def build_corpus(into: Path) -> Path:
    """Copy the installed sources of :data:`CORPUS_PACKAGES` into ``into`` (outside git)."""
    site = Path(next(p for p in sys.path if p.endswith("site-packages")))
    corpus = into / "corpus"
    for package in CORPUS_PACKAGES:
        source = site / package
        if source.is_dir():
            shutil.copytree(source, corpus / package, ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.pyc"))
    return corpus


def section(results: list[TreeResult], rounds: int, load_before: str, load_after: str) -> str:
    grep_version = subprocess.run(["grep", "--version"], capture_output=True, text=True, check=False).stdout.splitlines()[0]
    lines = [
        HEADING,
        "",
        "`benchmarks/scan_throughput.py`: `platformctl scan` against `grep -EnI` given the same"
        " patterns (every shipped rule's `text`) and the same files, in the same run. Best of"
        f" {rounds} interleaved rounds after a warm-up. Wall is elapsed seconds; CPU is user +"
        " system seconds of every process involved (the scanner's workers included), which other"
        " load on the machine disturbs much less. Ratios are to grep.",
        "",
        "| tree | run | wall s | wall ratio | CPU s | CPU ratio |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in results:
        grep = r.timings["grep -E"]
        label = f"{r.name}: {r.files} files, {r.megabytes:.1f} MB; grep {r.grep_lines} lines, scan {r.findings} findings"
        for run in RUNS:
            t = r.timings[run]
            lines.append(
                f"| {label} | {run} | {t.wall:.3f} | {t.wall / grep.wall:.2f}x | {t.cpu:.3f} | {t.cpu / grep.cpu:.2f}x |"
            )
            label = ""
    large = max(results, key=lambda r: r.megabytes)
    grep, cores, one = (large.timings[run] for run in ("grep -E", "scan, all cores", "scan, one process"))
    verdict = "meets" if cores.wall / grep.wall <= TARGET_RATIO else "misses"
    lines += [
        "",
        f"Target: within {TARGET_RATIO:.0f}x of grep. On the large tree, in this run, the scanner {verdict} it in"
        f" wall-clock time ({cores.wall / grep.wall:.2f}x on all cores: {large.megabytes / cores.wall:.1f} MB/s"
        f" against grep's {large.megabytes / grep.wall:.1f} MB/s). Its work is {one.cpu / grep.cpu:.2f}x grep's in"
        f" CPU time in one process and {cores.cpu / grep.cpu:.2f}x spread over {os.cpu_count()} workers (two busy"
        " workers each run slower per CPU second on two shared cores). In one process the scanner's wall ratio"
        f" was {one.wall / grep.wall:.2f}x; on a loaded machine the workers gain little wall time, since the other"
        " core is rarely free.",
        "On a small tree both tools finish in milliseconds: the fresh-interpreter row is mostly Python's start-up"
        " and imports, a fixed cost grep does not have, and the in-process rows are the scanner's own work.",
        "grep counts every matching line, comments, docstrings and strings included; the"
        " scanner reads Python through its syntax tree and drops those, so the counts differ by design.",
        f"Where the time goes (the large tree, one process): parsing the {large.parsing.parsed_files} Python files"
        f" that the keyword prefilter let through ({large.parsing.parsed_megabytes:.1f} of"
        f" {large.parsing.python_megabytes:.1f} MB of Python) took {large.parsing.parse_cpu:.2f} of"
        f" {large.parsing.total_cpu:.2f} CPU seconds; reading, the prefilter and the line rules take the rest."
        " Files with real findings must be parsed, so a tree full of hardcoded values (this corpus: third-party"
        " code and generated parsers) is the slow case; a clean tree is parsed far less.",
        "",
        f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, {grep_version};"
        f" load average {load_before} before and {load_after} after (other work shares these cores)."
        f" Run {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC.",
        "",
    ]
    return "\n".join(lines)


def load_average() -> str:
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--corpus", type=Path, help="measure this tree instead of the package corpus")
    parser.add_argument("--no-write", action="store_true", help="print the section only")
    args = parser.parse_args()
    load_before = load_average()
    with tempfile.TemporaryDirectory() as scratch:
        corpus = args.corpus or build_corpus(Path(scratch))
        corpus_name = str(args.corpus) if args.corpus else f"package corpus ({', '.join(CORPUS_PACKAGES)})"
        results = [measure("this repository", ROOT, args.rounds), measure(corpus_name, corpus, args.rounds)]
    text = section(results, args.rounds, load_before, load_average())
    print(text)
    if not args.no_write:
        # The section text starts with its own heading line; the shared writer adds it back.
        write_section(HEADING.removeprefix("## "), text.split("\n", 1)[1].lstrip("\n"))


if __name__ == "__main__":
    main()
