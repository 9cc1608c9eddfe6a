"""Benchmarks of the platform functions, in-process against moto.

    config read, warm      ConfigurationClient.get_config on a warm cache: p50 / p99
    config read, cold      the same call with an empty cache, against the floor measured in the
                           same run: a raw boto3 get_parameters_by_path (paginated, recursive,
                           decrypted) of the same namespace with the same client
    booking create         1,000 POST /bookings through the real handler: p50 / p99
    handler import         import time of each handler module in a fresh interpreter (median)

Run:  PYTHONPATH=. .venv/bin/python benchmarks/functions_bench.py [--write]
``--write`` replaces the "## Functions" section of benchmarks/README.md with the figures.
Everything runs on moto, so absolute numbers are moto's cost plus ours; the warm read and the
cold/floor ratio are the ones that speak about the function code.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[1]
FUNCTIONS = REPO / "functions"
SECTION = "## Functions"
# The functions import `common.…` and `<service>.…` (Lambda puts the code root on the path); the Makefile sets PYTHONPATH=. for the rest.
sys.path.insert(0, str(FUNCTIONS))
REGION = "ap-south-1"
os.environ.update(
    AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION=REGION, AWS_REGION=REGION, POWERTOOLS_TRACE_DISABLED="true"
)

WARM_READS = 20_000
COLD_ROUNDS = 300
CREATES = 1_000
IMPORT_RUNS = 5
HANDLERS = ("configuration", "auth", "secrets", "booking")


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def timed(call: Callable[[], Any]) -> float:
    start = time.perf_counter_ns()
    call()
    return (time.perf_counter_ns() - start) / 1e6


def bench_config(tenant: Any, code_root: Path) -> dict[str, float]:
    from booking.config_schema import BookingConfig
    from common.config_client import ConfigurationClient

    tenant.write_fallback(code_root, "booking")
    client = ConfigurationClient("booking", "dev", schema=BookingConfig, tenant_id="acme", fallback_file=code_root / "fallback.json")
    client.get_config("business/pricing_models")
    warm = [timed(lambda: client.get_config("business/pricing_models")) for _ in range(WARM_READS)]

    ssm = client.provider.client
    namespace = client.env.service_namespace

    def floor() -> None:
        for page in ssm.get_paginator("get_parameters_by_path").paginate(Path=namespace, Recursive=True, WithDecryption=True):
            page.get("Parameters")

    def cold() -> None:
        client.clear_cache(reload_fallback=False)
        client.get_config("business/pricing_models")

    cold_ms: list[float] = []
    floor_ms: list[float] = []
    for _ in range(COLD_ROUNDS):  # interleaved, so both see the same machine load
        floor_ms.append(timed(floor))
        cold_ms.append(timed(cold))
    return {
        "warm_p50_us": percentile(warm, 0.5) * 1000,
        "warm_p99_us": percentile(warm, 0.99) * 1000,
        "cold_p50_ms": statistics.median(cold_ms),
        "floor_p50_ms": statistics.median(floor_ms),
        "cold_ratio": statistics.median(cold_ms) / statistics.median(floor_ms),
    }


def bench_booking_create(tenant: Any, code_root: Path) -> dict[str, float]:
    from common import clock
    from tests.functions.fn_support import FakeLambdaContext, api_event, authorizer_for, build_function, import_handler

    function = build_function(import_handler("booking"), tenant, code_root)
    pickup_at = (clock.utc_now() + timedelta(days=2)).isoformat()
    body = {"distance_km": "12.5", "weight_kg": "800", "surcharges": ["night"], "pickup": {"lat": 19.07, "lon": 72.87}, "dropoff": {"lat": 18.52, "lon": 73.85}, "pickup_at": pickup_at}
    samples: list[float] = []
    statuses: set[int] = set()
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink):  # EMF metrics and logs are printed; keep the terminal readable
        for n in range(CREATES):
            event = api_event("POST", "/bookings", body=body, headers={"Idempotency-Key": f"bench-{n}-{uuid.uuid4().hex[:6]}"}, authorizer=authorizer_for("acme", f"user-{n % 50}"))
            context = FakeLambdaContext()
            start = time.perf_counter_ns()
            response = function.lambda_handler(event, context)
            samples.append((time.perf_counter_ns() - start) / 1e6)
            statuses.add(response["statusCode"])
            sink.seek(0)
            sink.truncate()
    if statuses != {201}:
        raise SystemExit(f"booking create answered {sorted(statuses)}, expected only 201")
    return {"create_p50_ms": percentile(samples, 0.5), "create_p99_ms": percentile(samples, 0.99), "create_max_ms": max(samples)}


def bench_imports() -> dict[str, float]:
    env = {**os.environ, "ENVIRONMENT": "dev", "CONFIG_SERVICE_URL": "ssm:///acme", "LOG_LEVEL": "INFO", "PYTHONPATH": str(FUNCTIONS)}
    results: dict[str, float] = {}
    for service in HANDLERS:
        code = f"import time; t = time.perf_counter(); import {service}.handler; print(time.perf_counter() - t)"
        runs = [
            float(subprocess.run([sys.executable, "-c", code], env={**env, "SERVICE_NAME": service}, cwd=FUNCTIONS, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1])
            for _ in range(IMPORT_RUNS)
        ]
        results[service] = statistics.median(runs) * 1000
    return results


def section(config: dict[str, float], create: dict[str, float], imports: dict[str, float]) -> str:
    load = os.getloadavg()[0]
    lines = [
        SECTION,
        "",
        f"`benchmarks/functions_bench.py`, in-process against moto 5 (load average {load:.1f} on {os.cpu_count()} cores).",
        "",
        "| measure | value | target |",
        "|---|---|---|",
        f"| config read, warm (`get_config`, {WARM_READS:,} calls) p50 / p99 | {config['warm_p50_us']:.1f} µs / {config['warm_p99_us']:.1f} µs "
        f"| p99 < 1 ms: {'met' if config['warm_p99_us'] < 1000 else 'NOT met'} |",
        f"| config read, cold (empty cache, one tree: fetch + decode + validate + digest), median of {COLD_ROUNDS} | {config['cold_p50_ms']:.2f} ms | |",
        f"| floor: raw boto3 `get_parameters_by_path` of the same namespace, median of {COLD_ROUNDS} | {config['floor_p50_ms']:.2f} ms | |",
        f"| cold / floor | {config['cold_ratio']:.2f}x | ≤ 1.2x: {'met' if config['cold_ratio'] <= 1.2 else 'NOT met'} |",
        f"| booking create, {CREATES:,} requests through the handler, p50 / p99 (max) "
        f"| {create['create_p50_ms']:.1f} ms / {create['create_p99_ms']:.1f} ms ({create['create_max_ms']:.1f} ms) "
        f"| p99 < 200 ms: {'met' if create['create_p99_ms'] < 200 else 'NOT met'} |",
    ]
    lines += [f"| import `{service}.handler` (fresh interpreter, median of {IMPORT_RUNS}) | {imports[service]:.0f} ms | none set |" for service in HANDLERS]
    lines += [
        "",
        "Booking create covers, per request: tenant check, config from cache, role check, validation, pricing, the idempotency",
        "record (put + update), three conditional puts (details and two list summaries), an SNS publish and the audit put,",
        "all served by moto, which is most of the time (the slowest requests coincide with other load on the machine).",
        "Import times include Powertools (with the X-Ray SDK), boto3, pydantic and building the function (its SSM client);",
        "the first request then adds the config reads (three trees) and the other clients. Cold/floor compares one tree read",
        "through the client (Powertools fetch, JSON decode, pydantic validation, digest) with the bare paginated SSM call.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update the Functions section of benchmarks/README.md")
    args = parser.parse_args()
    import tempfile

    from moto import mock_aws

    from tests.functions.fn_support import provision, tenant_config

    imports = bench_imports()
    with mock_aws(), tempfile.TemporaryDirectory() as scratch:
        tenant = provision("acme", "dev", tenant_config("acme", "dev"), REGION)
        config = bench_config(tenant, Path(scratch) / "config")
        create = bench_booking_create(tenant, Path(scratch) / "booking")
    text = section(config, create, imports)
    print(text)
    if args.write:
        from benchmarks.readme import write_section

        # The section text starts with its own heading line; the shared writer adds it back.
        write_section(SECTION.removeprefix("## "), text.split("\n", 1)[1].lstrip("\n"))


if __name__ == "__main__":
    main()
