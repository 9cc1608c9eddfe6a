"""Benchmarks of ``platformctl package`` (the Lambda artifacts), for the platform architecture.

    cold build            empty output folder, wheels already in the wheelhouse (no network):
                          every zip written, the layer (common + all wheels) included
    rebuild, one change   one function's source edited, then a build into the same folder: only
                          that function's zip is written; in-process and as a fresh process
                          (interpreter start and imports included, as the CLI pays them)
    check, nothing new    a build with nothing changed: what every stack program pays when it
                          asks for the artifacts (``program_artifacts``)

The baseline is the cold build of the same run: without content addressing, every build is one.

Run:  PYTHONPATH=. .venv/bin/python benchmarks/package_bench.py [--write]
``--write`` replaces the "## Package" section of benchmarks/README.md with the figures.
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from platformctl.package import PackageOptions, build_artifacts
from platformctl.package.wheelhouse import ensure_wheels
from ubertruck.defaults import load_defaults

REPO = Path(__file__).resolve().parents[1]
SECTION = "Package"
COLD_RUNS = 3
REBUILD_RUNS = 10
PROCESS_RUNS = 5
CHECK_RUNS = 200
CHANGED_FILE = Path("booking") / "service.py"
#: A fresh process building into a folder from a copied functions tree (the CLI's work, without the CLI).
PROCESS_BUILD = """
import dataclasses, sys
from pathlib import Path
from ubertruck.defaults import load_defaults
from platformctl.package import PackageOptions, build_artifacts
options = PackageOptions.from_defaults(load_defaults(), output_dir=Path(sys.argv[1]))
build_artifacts(dataclasses.replace(options, functions_dir=Path(sys.argv[2])))
"""


def _timed(action: object) -> float:
    start = time.perf_counter()
    action()  # type: ignore[operator]
    return time.perf_counter() - start


def _edit(functions: Path, run: int) -> None:
    with (functions / CHANGED_FILE).open("a", encoding="utf-8") as handle:
        handle.write(f"\n# benchmark edit {run}\n")


def measure(scratch: Path) -> dict[str, object]:
    base = PackageOptions.from_defaults(load_defaults())
    functions = scratch / "functions"
    shutil.copytree(base.functions_dir, functions, ignore=shutil.ignore_patterns("__pycache__"))
    options = dataclasses.replace(base, functions_dir=functions)
    ensure_wheels(options)  # the wheelhouse is filled before anything is timed
    cold = [_timed(lambda run=run: build_artifacts(dataclasses.replace(options, output_dir=scratch / f"cold-{run}"))) for run in range(COLD_RUNS)]
    target = dataclasses.replace(options, output_dir=scratch / "cold-0")
    rebuild, built = [], []
    for run in range(REBUILD_RUNS):
        _edit(functions, run)
        start = time.perf_counter()
        report = build_artifacts(target)
        rebuild.append(time.perf_counter() - start)
        built.append(len(report.built))
    process = []
    for run in range(PROCESS_RUNS):
        _edit(functions, REBUILD_RUNS + run)
        command = [sys.executable, "-c", PROCESS_BUILD, str(target.output_dir), str(functions)]
        process.append(_timed(lambda command=command: subprocess.run(command, check=True, cwd=REPO)))
    check = [_timed(lambda: build_artifacts(target)) for _ in range(CHECK_RUNS)]
    layer = next((target.output_dir / "layers").glob("*.zip"))
    return {
        "arch": options.architecture,
        "cold": cold,
        "rebuild": rebuild,
        "built": built,
        "process": process,
        "check": check,
        "layer_mb": layer.stat().st_size / 1e6,
    }


def section(figures: dict[str, object]) -> str:
    cold, rebuild, process, check = (figures[k] for k in ("cold", "rebuild", "process", "check"))
    cold_median = statistics.median(cold)  # type: ignore[arg-type]
    rebuild_median = statistics.median(rebuild)  # type: ignore[arg-type]
    process_median = statistics.median(process)  # type: ignore[arg-type]
    check_median = statistics.median(check)  # type: ignore[arg-type]
    lines = [
        f"## {SECTION}",
        "",
        f"`benchmarks/package_bench.py`, {figures['arch']} artifacts (the platform architecture), wheels already cached in the",
        f"wheelhouse (no network call in any timed build). Layer zip: {figures['layer_mb']:.1f} MB.",
        "",
        "| build | median | range | vs cold build |",
        "|---|---|---|---|",
        f"| cold: empty output folder ({COLD_RUNS} runs) | {cold_median:.2f} s | {min(cold):.2f}–{max(cold):.2f} s | 1x (baseline) |",  # type: ignore[type-var]
        f"| rebuild after one function's change, in-process ({REBUILD_RUNS} runs) | {rebuild_median * 1000:.1f} ms | "
        f"{min(rebuild) * 1000:.1f}–{max(rebuild) * 1000:.1f} ms | {cold_median / rebuild_median:.0f}x faster |",  # type: ignore[type-var]
        f"| rebuild after one function's change, fresh process ({PROCESS_RUNS} runs) | {process_median:.2f} s | "
        f"{min(process):.2f}–{max(process):.2f} s | {cold_median / process_median:.1f}x faster |",  # type: ignore[type-var]
        f"| nothing changed: a stack program's check ({CHECK_RUNS} runs) | {check_median * 1000:.2f} ms | "
        f"{min(check) * 1000:.2f}–{max(check) * 1000:.2f} ms | {cold_median / check_median:.0f}x faster |",  # type: ignore[type-var]
        "",
        f"Each rebuild wrote {sorted(set(figures['built']))} zip(s) (the changed function's only). Target for a rebuild after one",  # type: ignore[arg-type]
        "function's change: under 2 s, met by the fresh process too (most of which is interpreter start and imports).",
        "The cold build is mostly deflating the layer (common library, boto3/botocore, pydantic-core, cryptography, Powertools).",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update the Package section of benchmarks/README.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        text = section(measure(Path(scratch)))
    print(text)
    if args.write:
        from benchmarks.readme import write_section

        # The section text starts with its own heading line; the shared writer adds it back.
        write_section(SECTION, text.split("\n", 1)[1].lstrip("\n"))


if __name__ == "__main__":
    main()
