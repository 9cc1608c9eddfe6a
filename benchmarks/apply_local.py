"""``platformctl up --local``: stacks per minute and engine seconds per resource, against the offline plan.

For each registry size N (synthetic tenants, dev only: N tenant stacks plus the shared dev stack)
and each concurrency cap C, in a fresh state folder:

* **up** — ``platformctl up --all --local --concurrency C``: the offline gate, then the real engine
  with both policy packs and the local stand-in for AWS, in waves (the shared stack first);
* **plan** — ``platformctl plan --no-cache`` of the same stacks, in the same run: the offline
  engine's time for the same programs and packs, the baseline the ratio is quoted against.

Reported: wall time, stacks per minute, engine seconds per resource (the sum of the stacks' own
engine durations over the resources they created) and up/plan. Figures go to benchmarks/README.md
under "## Apply with the real engine (--local)".

Usage: PYTHONPATH=. .venv/bin/python benchmarks/apply_local.py [--sizes 1 10 100] [--caps 1 2 4]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.plan_scaling import synthetic_registry
from benchmarks.readme import write_section
from ubertruck import PROJECT_ROOT

HEADING = "Apply with the real engine (--local)"
SECONDS_PER_MINUTE = 60


def _platformctl(*args: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "platformctl", *args], cwd=PROJECT_ROOT, capture_output=True, text=True,
                            stdin=subprocess.DEVNULL)
    return time.perf_counter() - started, result


def measure(size: int, cap: int, work: Path) -> dict[str, float]:
    registry = work / f"registry-{size}"
    if not registry.exists():
        registry.mkdir()
        synthetic_registry(registry, size)
    plan_seconds, planned = _platformctl("plan", "--registry", str(registry), "--no-cache", "--env", "dev")
    if planned.returncode != 0:
        raise SystemExit(f"plan of {size} tenants failed:\n{planned.stderr[-2000:]}")
    state = work / f"state-{size}-{cap}"
    up_seconds, applied = _platformctl("up", "--all", "--env", "dev", "--local", "--concurrency", str(cap),
                                       "--failure-threshold", "1", "--registry", str(registry), "--state-dir", str(state))
    if applied.returncode != 0:
        raise SystemExit(f"up of {size} tenants at cap {cap} failed:\n{applied.stdout[-2000:]}\n{applied.stderr[-2000:]}")
    (report_file,) = sorted((state / "runs").glob("up-*/report.json"))
    stacks = [s for wave in json.loads(report_file.read_text())["waves"] for s in wave["stacks"]]
    resources = sum(s["changes"].get("create", 0) for s in stacks)
    engine_seconds = sum(s["duration_seconds"] for s in stacks)
    return {
        "size": size, "cap": cap, "stacks": len(stacks), "resources": resources, "up": up_seconds, "plan": plan_seconds,
        "stacks_per_minute": len(stacks) * SECONDS_PER_MINUTE / up_seconds, "engine_per_resource": engine_seconds / resources,
    }


def render(rows: list[dict[str, float]]) -> str:
    lines = [
        "`benchmarks/apply_local.py`: synthetic tenants (copies of globex, dev only), a fresh state folder per row,",
        "`platformctl up --all --env dev --local --concurrency C` (offline gate, then the real engine with both",
        "policy packs and the local stand-in for AWS) against `platformctl plan --no-cache` of the same stacks",
        "measured in the same run. 2 cores; the machine was shared with other work, so read ratios, not seconds.",
        "",
        "| tenants | stacks | cap | resources | up (s) | stacks/min | engine s/resource | plan (s) | up/plan |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['size']} | {r['stacks']} | {r['cap']} | {r['resources']} | {r['up']:.1f} | {r['stacks_per_minute']:.1f} "
            f"| {r['engine_per_resource'] * 1000:.1f} ms | {r['plan']:.1f} | {r['up'] / r['plan']:.1f}x |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--caps", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="apply-local-") as scratch:
        for size in args.sizes:
            for cap in args.caps:
                row = measure(size, cap, Path(scratch))
                print(json.dumps(row), flush=True)
                rows.append(row)
    write_section(HEADING, render(rows))
    print(render(rows))


if __name__ == "__main__":
    main()
