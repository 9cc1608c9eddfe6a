"""Anti-pattern scanner throughput against ``grep -E`` with the same patterns on the same tree.

Usage::

    .venv/bin/python benchmarks/scan_throughput.py [--rounds 5] [--corpus DIR] [--no-write]

Two trees are measured:

- this repository, as CI scans it;
- a large corpus of real third-party code and data: the installed sources of a few packages
  from the virtualenv (moto, botocore, aws_lambda_powertools, pydantic, pulumi, rich, typer,
  yaml), copied into a temporary folder outside git. ``--corpus DIR`` measures another tree.

For each tree grep and the scanner run in turn, ``--rounds`` times, after one warm-up each so
that both read from the page cache; the best time of each is kept. grep gets every shipped rule's
``text`` pattern (``-e`` each, ``-rEnI``, skipping the folders the scanner skips). The scanner is
measured twice: called in-process (``scan(paths)``, every core), and as a fresh interpreter that
imports it and scans, which adds Python's start-up. The target is the in-process time within 3x
of grep's. The figures replace the "## Anti-pattern scanner" section of benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from platformctl.scan import scan  # noqa: E402 (after the path is set)
from platformctl.scan.files import SKIPPED_DIRS  # noqa: E402
from platformctl.scan.ruleset import shipped_rule_file  # noqa: E402

README = ROOT / "benchmarks" / "README.md"
HEADING = "## Anti-pattern scanner"
CORPUS_PACKAGES = ("moto", "botocore", "aws_lambda_powertools", "pydantic", "pulumi", "rich", "typer", "yaml")
TARGET_RATIO = 3.0


@dataclass
class TreeResult:
    """Best times for one tree, with what each tool found."""

    name: str
    files: int
    megabytes: float
    grep_seconds: float
    scan_seconds: float
    process_seconds: float
    grep_lines: int
    findings: int

    @property
    def ratio(self) -> float:
        return self.scan_seconds / self.grep_seconds

    @property
    def process_ratio(self) -> float:
        return self.process_seconds / self.grep_seconds


def grep_command(tree: Path) -> list[str]:
    """``grep -rEnI`` with each shipped text pattern, skipping the scanner's skipped folders."""
    command = ["grep", "-rEnI", *(f"--exclude-dir={d}" for d in sorted(SKIPPED_DIRS))]
    for rule in shipped_rule_file().rules:
        if rule.text:
            command += ["-e", rule.text]
    return [*command, str(tree)]


def run_grep(tree: Path) -> int:
    """Run grep once; the number of matching lines. Exit 2 (a bad pattern) is an error."""
    done = subprocess.run(grep_command(tree), capture_output=True, check=False)
    if done.returncode not in (0, 1):
        raise SystemExit(f"grep failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout.count(b"\n")


def run_scan_process(tree: Path) -> None:
    """A fresh interpreter that imports the scanner and scans ``tree``."""
    code = "import sys; from pathlib import Path; from platformctl.scan import scan; scan([Path(sys.argv[1])])"
    subprocess.run([sys.executable, "-c", code, str(tree)], cwd=ROOT, check=True)


def best_of(rounds: int, action: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    return best


def measure(name: str, tree: Path, rounds: int) -> TreeResult:
    """Warm the cache, then time grep, the in-process scan and the fresh-process scan in turn."""
    grep_lines = run_grep(tree)
    report = scan([tree])
    grep_seconds = scan_seconds = process_seconds = float("inf")
    for _ in range(rounds):
        # Interleaved, so that load from anything else on the machine falls on all three alike.
        grep_seconds = min(grep_seconds, best_of(1, lambda: run_grep(tree)))
        scan_seconds = min(scan_seconds, best_of(1, lambda: scan([tree])))
        process_seconds = min(process_seconds, best_of(1, lambda: run_scan_process(tree)))
    return TreeResult(
        name=name,
        files=report.files_scanned,
        megabytes=report.bytes_scanned / 1e6,
        grep_seconds=grep_seconds,
        scan_seconds=scan_seconds,
        process_seconds=process_seconds,
        grep_lines=grep_lines,
        findings=len(report.findings),
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
        "`benchmarks/scan_throughput.py`: `platformctl scan` against `grep -rEnI` given the same"
        " patterns (every shipped rule's `text`) on the same tree, in the same run. Best of"
        f" {rounds} interleaved rounds after a warm-up; times are wall-clock seconds.",
        "",
        "| tree | files scanned | MB scanned | grep -E | scan (in-process) | ratio | scan (fresh interpreter) | ratio | grep lines | findings |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.name} | {r.files} | {r.megabytes:.1f} | {r.grep_seconds:.3f} | {r.scan_seconds:.3f} | "
            f"{r.ratio:.2f}x | {r.process_seconds:.3f} | {r.process_ratio:.2f}x | {r.grep_lines} | {r.findings} |"
        )
    large = max(results, key=lambda r: r.megabytes)
    verdict = "meets" if large.ratio <= TARGET_RATIO else "misses"
    lines += [
        "",
        f"Target: within {TARGET_RATIO:.0f}x of grep. On the large tree the scanner {verdict} it"
        f" ({large.ratio:.2f}x in-process, {large.megabytes / large.scan_seconds:.1f} MB/s against grep's"
        f" {large.megabytes / large.grep_seconds:.1f} MB/s).",
        "On a small tree both tools finish in milliseconds and the fresh-interpreter column is"
        " mostly Python's start-up and imports, a fixed cost that grep does not have; the"
        " in-process column is the scanner's own work.",
        "grep counts every matching line, comments, docstrings and strings included; the"
        " scanner reads Python through its syntax tree and drops those, so the counts differ by design.",
        "",
        f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, {grep_version};"
        f" load average {load_before} before and {load_after} after (other work shares these cores)."
        f" Run {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC.",
        "",
    ]
    return "\n".join(lines)


def write_section(text: str) -> None:
    """Replace the scanner's section of benchmarks/README.md, keeping every other section."""
    current = README.read_text(encoding="utf-8") if README.exists() else "# Benchmarks\n\n"
    pattern = re.compile(rf"^{re.escape(HEADING)}\n.*?(?=^## |\Z)", re.S | re.M)
    updated = pattern.sub(lambda _: text, current) if pattern.search(current) else current.rstrip("\n") + "\n\n" + text
    README.write_text(updated, encoding="utf-8")


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
        write_section(text)


if __name__ == "__main__":
    main()
