"""Offline plan scaling: 1, 10, 100 and 1,000 synthetic tenants, against the floor.

For each registry size, in the same run and with the same two worker processes:

* **floor** — the same program, every stack, through the same planner and worker processes but
  under the SDK's bare ``MockMonitor``: no capture, no policy packs, no cache, no report;
* **engine** — ``Planner`` with capture and the JSON report (policy gate off), no cache:
  what issue 2's "overhead at most 1.3x the floor" is about;
* **gate** — the full ``platformctl plan`` path: capture, both policy packs, cache writes.

Then, on the largest registry: one tenant's file changes and the plan is repeated with the warm
cache (target: under 3 s). Figures go to benchmarks/README.md under "## Offline plan".

Synthetic tenants are copies of tenants/globex.yaml with new ids, each in the dev environment
only, so N tenants make N tenant stacks plus the shared dev stack.

Usage: PYTHONPATH=. .venv/bin/python benchmarks/plan_scaling.py [--sizes 1 10 100 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.readme import write_section
from platformctl.engine import report
from platformctl.engine.plan import Planner, PlanSettings
from ubertruck import PROJECT_ROOT
from ubertruck.defaults import load_defaults
from ubertruck.registry import load_registry
from ubertruck.stacks import all_stacks

WORKERS = 2


def synthetic_registry(directory: Path, count: int) -> None:
    template = (PROJECT_ROOT / "tenants" / "globex.yaml").read_text()
    template = template.replace("environments: [dev, prod]", "environments: [dev]")
    for i in range(count):
        tenant_id = f"synth{i:04d}"
        text = template.replace("id: globex", f"id: {tenant_id}").replace("globex/", f"{tenant_id}/")
        (directory / f"{tenant_id}.yaml").write_text(text)


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _peak_mib() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024


def measure(label: str, work) -> dict[str, float]:
    cpu0, t0 = _cpu_seconds(), time.perf_counter()
    work()
    wall = time.perf_counter() - t0
    cpu = _cpu_seconds() - cpu0
    return {"label": label, "seconds": wall, "cpu_seconds": cpu, "cores_used": cpu / wall if wall else 0.0}


def run_size(count: int, cache_dir: Path) -> dict[str, object]:
    defaults = load_defaults()
    with tempfile.TemporaryDirectory() as tmp:
        registry = Path(tmp)
        synthetic_registry(registry, count)
        tenants = load_registry([registry], cache_dir=cache_dir).tenants
        stacks = all_stacks(tenants, defaults.platform.environments, only_envs=["dev"])
        engine = Planner(PlanSettings(defaults=defaults, registry_dir=registry, workers=WORKERS, use_cache=False, policy=False), tenants)
        # The floor goes through the very same planner (same processes, same order) with capture off.
        bare = Planner(PlanSettings(defaults=defaults, registry_dir=registry, workers=WORKERS, use_cache=False, policy=False, capture=False), tenants)

        def floor() -> None:
            bare.plan(stacks)

        def capture() -> None:
            planned = engine.plan(stacks)
            report.render_json(planned)

        gate_planner = Planner(PlanSettings(defaults=defaults, registry_dir=registry, workers=WORKERS, cache_dir=cache_dir), tenants)

        def gate() -> None:
            planned = gate_planner.plan(stacks)
            assert report.summary(planned)["mandatory"] == 0, report.violation_lines(planned)[:3]

        rows = [measure("floor", floor), measure("engine", capture)]
        if count <= ARGS.gate_up_to:
            rows.append(measure("gate", gate))
        result: dict[str, object] = {"tenants": count, "stacks": len(stacks), "rows": rows, "peak_mib": _peak_mib()}
        if count == max(ARGS.sizes):
            gated = count <= ARGS.gate_up_to
            if not gated:  # warm the cache the way the re-plan will read it (not timed)
                Planner(PlanSettings(defaults=defaults, registry_dir=registry, workers=WORKERS, cache_dir=cache_dir, policy=False), tenants).plan(stacks)
            victim = registry / "synth0000.yaml"
            victim.write_text(victim.read_text().replace("Globex Haulage", "Globex Haulage (renamed)"))


            def replan() -> None:
                loaded = load_registry([registry], cache_dir=cache_dir).tenants
                settings = PlanSettings(defaults=defaults, registry_dir=registry, workers=WORKERS, cache_dir=cache_dir, policy=gated)
                planner = Planner(settings, loaded)
                planned = planner.plan(all_stacks(loaded, defaults.platform.environments, only_envs=["dev"]))
                fresh = [p.ref.name for p in planned if not p.cached]
                assert fresh == ["synth0000-dev"], fresh

            result["replan"] = measure("replan one changed tenant", replan)
            result["replan_gated"] = gated
        return result


def render(results: list[dict[str, object]]) -> str:
    lines = [
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {os.cpu_count()} cores, {WORKERS} worker processes, "
        "synthetic tenants (copies of globex, dev only): N tenant stacks + the shared dev stack.",
        "floor = same program under the SDK's bare MockMonitor (no capture, no packs, no report); "
        "engine = capture + JSON report; gate = engine + both policy packs + cache writes.",
        "",
        "| tenants | stacks | floor s | engine s | gate s | engine/floor | gate/floor | policy share of gate | stacks/s (gate) | cores used (gate) | peak MiB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        rows = {row["label"]: row for row in r["rows"]}  # type: ignore[index]
        floor, engine = rows["floor"]["seconds"], rows["engine"]["seconds"]
        if "gate" in rows:
            gate = rows["gate"]["seconds"]
            gate_cells = f"{gate:.1f} | {engine / floor:.2f}x | {gate / floor:.2f}x | {(gate - engine) / engine:.2f}x of mock run | {r['stacks'] / gate:.2f} | {rows['gate']['cores_used']:.2f}"
        else:
            gate_cells = f"not run | {engine / floor:.2f}x | — | — | {r['stacks'] / engine:.2f} (engine) | {rows['engine']['cores_used']:.2f} (engine)"
        lines.append(f"| {r['tenants']} | {r['stacks']} | {floor:.1f} | {engine:.1f} | {gate_cells} | {r['peak_mib']:.0f} |")
    for r in results:
        if "replan" in r:
            replan = r["replan"]
            gate_note = "with the policy gate" if r.get("replan_gated") else "policy gate off (the gate was not run at this size)"
            lines += ["", f"Re-plan after one tenant file changed, {r['tenants']}-tenant registry, warm cache, {gate_note}: **{replan['seconds']:.2f} s** (target < 3 s)."]  # type: ignore[index]
    return "\n".join(lines) + "\n"


def replan_only(count: int) -> str:
    """Warm the cache on a ``count``-tenant registry with the full gate, change one tenant's
    file, and time the re-plan: the re-plan target on its own, without the scaling runs."""
    defaults = load_defaults()
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory() as cache:
        registry = Path(tmp)
        synthetic_registry(registry, count)
        tenants = load_registry([registry], cache_dir=Path(cache)).tenants
        stacks = all_stacks(tenants, defaults.platform.environments, only_envs=["dev"])
        warm = measure("warm", lambda: Planner(PlanSettings(defaults=defaults, registry_dir=registry, workers=WORKERS, cache_dir=Path(cache)), tenants).plan(stacks))
        victim = registry / "synth0000.yaml"
        original = victim.read_text()

        def replan() -> None:
            loaded = load_registry([registry], cache_dir=Path(cache)).tenants
            planner = Planner(PlanSettings(defaults=defaults, registry_dir=registry, workers=WORKERS, cache_dir=Path(cache)), loaded)
            planned = planner.plan(all_stacks(loaded, defaults.platform.environments, only_envs=["dev"]))
            assert [p.ref.name for p in planned if not p.cached] == ["synth0000-dev"]

        def cli() -> None:
            command = [sys.executable, "-m", "platformctl", "plan", "--registry", str(registry), "--env", "dev", "--cache-dir", cache]
            before = len(list(Path(cache).rglob("*.summary.json")))
            done = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)
            assert done.returncode == 0, done.stderr[-2000:]
            planned = len(list(Path(cache).rglob("*.summary.json"))) - before
            assert planned == 1, f"expected one stack planned and the rest from the cache, {planned} were planned"

        seconds, cli_seconds = [], []
        for round_ in range(2 * ARGS.rounds):
            # A new display name each round: exactly one stack's inputs differ from every cached plan.
            victim.write_text(original.replace("Globex Haulage", f"Globex Haulage (renamed {round_})"))
            if round_ < ARGS.rounds:
                seconds.append(measure("replan", replan)["seconds"])
            else:
                cli_seconds.append(measure("cli", cli)["seconds"])
    rounds = ", ".join(f"{s:.2f}" for s in seconds)
    cli_rounds = ", ".join(f"{s:.2f}" for s in cli_seconds)
    return (
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores): "
        f"a {count}-tenant registry ({count + 1} stacks) planned with the policy gate into an empty cache in {warm['seconds']:.0f} s; "
        f"then one tenant's file changed and the whole registry was re-planned, gate included, {len(seconds)} times "
        f"(a different change each time): **median {statistics.median(seconds):.2f} s** ({rounds}; target < 3 s). "
        f"Each re-plan is the registry load (unchanged files served by the registry cache), {count + 1} cache keys and "
        "look-ups, the one changed stack's program and both packs' evaluation of it, in the calling process (the first "
        "round also imports the program's modules there; later rounds find them imported).\n\n"
        f"The same through the command line, `platformctl plan --env dev` in a fresh process each time (interpreter start, "
        f"imports, the table of {count + 1} stacks), {len(cli_seconds)} times: **median {statistics.median(cli_seconds):.2f} s** ({cli_rounds}).\n"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 100, 1000])
    parser.add_argument("--no-write", action="store_true", help="print the table, leave benchmarks/README.md alone")
    parser.add_argument("--gate-up-to", type=int, default=100, help="measure the policy gate for registries up to this size")
    parser.add_argument("--replan-only", type=int, metavar="N", help="only measure the warm-cache re-plan on an N-tenant registry")
    parser.add_argument("--rounds", type=int, default=5, help="re-plans to time with --replan-only (the median is reported)")
    ARGS = parser.parse_args()
    if ARGS.replan_only:
        text = replan_only(ARGS.replan_only)
        print(text)
        if not ARGS.no_write:
            write_section("Offline plan: re-plan one changed tenant", text)
        sys.exit(0)
    cache = Path(tempfile.mkdtemp(prefix="plan-bench-cache-"))
    try:
        results = []
        for size in ARGS.sizes:
            results.append(run_size(size, cache))
            print(json.dumps(results[-1]), flush=True)
        table = render(results)
        print(table)
        if not ARGS.no_write:
            write_section("Offline plan", table)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
