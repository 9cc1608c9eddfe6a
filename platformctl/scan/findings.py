"""What a scan reports: one finding per rule and place, and the totals of a scan.

>>> Finding("components/api.py", 12, 5, "UT002", "Hardcoded timeout detected (timeout)").line
12
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class Finding:
    """A rule that fired at ``path:line:column`` (path relative to the scanned root, posix
    separators; line and column 1-based, the column counted in characters)."""

    path: str
    line: int
    column: int
    rule_id: str
    message: str


@dataclass(frozen=True)
class SuppressedFinding:
    """A finding that an inline suppression accepted, with the suppression's reason."""

    finding: Finding
    reason: str


@dataclass
class FileResult:
    """What scanning one file, or a batch of files, produced: ``files`` counts those read."""

    findings: list[Finding] = field(default_factory=list)
    suppressed: list[SuppressedFinding] = field(default_factory=list)
    files: int = 0
    size: int = 0

    @classmethod
    def merged(cls, results: list[FileResult]) -> FileResult:
        """One result for a batch, so a worker sends one object back rather than one per file."""
        return cls(
            findings=[f for r in results for f in r.findings],
            suppressed=[s for r in results for s in r.suppressed],
            files=sum(r.files for r in results),
            size=sum(r.size for r in results),
        )
