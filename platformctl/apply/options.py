"""How a rollout runs: concurrency, failure threshold, retries and back-off, where logs go.

Every value comes from the ``rollout`` section of ``defaults.yaml``; the CLI may override the
concurrency, the failure threshold and the log folder (``--concurrency``, ``--failure-threshold``).

>>> threshold = parse_failure_threshold("25%")
>>> threshold.limit_for(8)
2
>>> parse_failure_threshold("3").limit_for(2)  # a wave smaller than the count stops when all of it fails
2
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from ubertruck import PROJECT_ROOT
from ubertruck.defaults import PlatformDefaults, RolloutSection, load_defaults
from ubertruck.errors import UserError

from .operations import Operation

#: Marks a failure threshold given as a percentage on the command line ("10%").
PERCENT_SIGN = "%"
PERCENT = 100


@dataclass(frozen=True)
class FailureThreshold:
    """Failed stacks of one wave that stop the rollout: a count, or a fraction of the wave.

    The limit for a wave is never below one stack and never above the wave's size, so a wave
    whose every stack failed always stops the rollout (later waves build on it).
    """

    count: int | None = None
    fraction: float | None = None

    def __post_init__(self) -> None:
        if (self.count is None) == (self.fraction is None):
            raise ValueError("a failure threshold is either a count or a fraction")
        if self.count is not None and self.count < 1:
            raise ValueError("a failure count must be at least 1")
        if self.fraction is not None and not 0 < self.fraction <= 1:
            raise ValueError("a failure fraction must be in (0, 1]")

    def limit_for(self, wave_size: int) -> int:
        """How many failures in a wave of ``wave_size`` stacks trip the threshold."""
        wanted = self.count if self.count is not None else math.ceil((self.fraction or 0) * wave_size)
        return max(1, min(wanted, wave_size))

    def describe(self) -> str:
        if self.count is not None:
            return f"{self.count} failed stack(s) per wave"
        return f"{(self.fraction or 0) * PERCENT:g}% of a wave's stacks"


def parse_failure_threshold(text: str, where: str = "--failure-threshold") -> FailureThreshold:
    """Read ``3`` (a count), ``0.1`` or ``10%`` (a fraction of each wave) from the command line."""
    value = text.strip()
    try:
        if value.endswith(PERCENT_SIGN):
            return FailureThreshold(fraction=float(value[: -len(PERCENT_SIGN)]) / PERCENT)
        if value.isdigit():
            return FailureThreshold(count=int(value))
        return FailureThreshold(fraction=float(value))
    except ValueError as exc:
        reason = str(exc) if "threshold" in str(exc) or "must" in str(exc) else "not a number"
        raise UserError(where, f"'{text}': {reason}; expected a count (3), a fraction (0.1) or a percentage (10%)") from None


def threshold_from_defaults(value: int | float, where: str = "defaults.yaml: rollout.failure_threshold") -> FailureThreshold:
    """An integer in ``defaults.yaml`` is a count, a float a fraction of each wave."""
    try:
        return FailureThreshold(count=value) if isinstance(value, int) else FailureThreshold(fraction=value)
    except ValueError as exc:
        raise UserError(where, str(exc)) from None


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential back-off for retryable failures; ``max_attempts`` counts the first try too."""

    max_attempts: int
    base_seconds: float
    factor: float
    max_seconds: float
    #: Up to this fraction of each delay is taken off at random, so stacks that failed together
    #: (a throttled API) do not all come back at the same instant.
    jitter: float

    def delay(self, failed_attempt: int, random: Callable[[], float]) -> float:
        """Seconds to wait after attempt ``failed_attempt`` (1-based) failed; ``random()`` is in [0, 1)."""
        try:
            raw = self.base_seconds * self.factor ** (failed_attempt - 1)
        except OverflowError:  # an absurd attempt count: the cap applies anyway
            raw = self.max_seconds
        capped = min(self.max_seconds, raw)
        return capped * (1 - self.jitter * random())


@dataclass(frozen=True)
class RolloutOptions:
    """Everything the scheduler needs besides the stacks and the engine."""

    concurrency: int
    failure_threshold: FailureThreshold
    retry: RetryPolicy
    tier_order: tuple[str, ...]
    environment_order: tuple[str, ...]
    log_dir: Path
    #: Where the JSON report is written (None: not written).
    report_path: Path | None = None

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise UserError("--concurrency", f"must be at least 1, got {self.concurrency}")

    def with_overrides(self, concurrency: int | None = None, failure_threshold: str | None = None) -> RolloutOptions:
        """These options with the command line's ``--concurrency``/``--failure-threshold`` applied."""
        changed = self
        if concurrency is not None:
            changed = replace(changed, concurrency=concurrency)
        if failure_threshold is not None:
            changed = replace(changed, failure_threshold=parse_failure_threshold(failure_threshold))
        return changed


def run_folder(operation: Operation, root: Path, now: dt.datetime | None = None) -> Path:
    """``<root>/<operation>-<UTC time>``: one folder per run, so a run never overwrites another's logs."""
    moment = (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc)
    return root / f"{operation}-{moment.strftime('%Y%m%dT%H%M%S%fZ')}"


def options_from_defaults(
    operation: Operation,
    defaults: PlatformDefaults | None = None,
    concurrency: int | None = None,
    failure_threshold: str | None = None,
    log_dir: Path | None = None,
) -> RolloutOptions:
    """The rollout options of ``defaults.yaml`` with the command line's overrides applied.

    Logs and the JSON report go to ``log_dir``, or to a fresh folder per run under
    ``rollout.log_root`` (relative to the project).
    """
    defaults = defaults or load_defaults()
    section: RolloutSection = defaults.rollout
    folder = log_dir or run_folder(operation, PROJECT_ROOT / section.log_root)
    options = RolloutOptions(
        concurrency=section.concurrency,
        failure_threshold=threshold_from_defaults(section.failure_threshold),
        retry=RetryPolicy(
            max_attempts=section.retry.max_attempts,
            base_seconds=section.retry.backoff_base_seconds,
            factor=section.retry.backoff_factor,
            max_seconds=section.retry.backoff_max_seconds,
            jitter=section.retry.jitter_fraction,
        ),
        tier_order=tuple(section.tier_order),
        environment_order=tuple(defaults.platform.environments),
        log_dir=folder,
        report_path=folder / section.report_file,
    )
    return options.with_overrides(concurrency, failure_threshold)
