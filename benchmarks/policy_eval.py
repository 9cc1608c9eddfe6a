"""Policy evaluation cost: over the Analyzer protocol vs. the same rules in-process.

* **Protocol**: ``PolicySession.evaluate`` on a 100-resource tenant stack: Configure,
  ConfigureStack, one Analyze per resource and AnalyzeStack, to both packs (side by side).
* **Floor**: the same rule functions called in-process on the same properties (deserialized
  once, no gRPC, no SDK proxies).
* **Registry plan**: evaluation of every shipped stack vs. the mock run that captured them.

Run: ``PYTHONPATH=. .venv/bin/python benchmarks/policy_eval.py [--repeat N] [--write]``;
``--write`` replaces the "## Policy evaluation" section of benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import copy
import statistics
import time
from pathlib import Path
from typing import Any, Callable

from pulumi_policy.deserialize import deserialize_properties

from platformctl.engine.capture import CapturedResource
from platformctl.engine.runner import StackRun, run_stack, stack_config
from platformctl.policy.config import registry_parameters
from platformctl.policy.runner import PolicyContext, PolicySession, engine_value
from policies.rules import ALL_RULES
from policies.rules.base import StackFacts, Subject
from policies.rules.sdk import evaluate_resource, evaluate_stack, load_documents, rule_defaults
from tests.policies.stacks import PREFIX, STACK, compliant_resources
from ubertruck.stacks import all_stacks

ROOT = Path(__file__).resolve().parents[1]
TARGET_RESOURCES = 100
SECTION = "## Policy evaluation"


def hundred_resource_stack() -> StackRun:
    """The compliant synthetic tenant stack, its function group cloned until 100 resources."""
    base = compliant_resources()
    group = [r for r in base if "booking-api" in r.name or r.name in (f"{PREFIX}-booking", f"{PREFIX}-booking-policy")]
    resources = list(base)
    i = 0
    while len(resources) < TARGET_RESOURCES:
        i += 1
        for r in group:
            if len(resources) >= TARGET_RESOURCES:
                break
            clone = copy.deepcopy(r)
            clone.name = clone.name.replace("booking", f"booking{i}")
            clone.urn = clone.urn.rsplit("::", 1)[0] + "::" + clone.name
            resources.append(clone)
    return StackRun(stack=STACK, resources=resources)


def floor_evaluator(run: StackRun, context: PolicyContext) -> Callable[[], int]:
    """In-process evaluation of every rule on the stack's properties; returns a callable."""
    documents = load_documents()
    params = registry_parameters(context.target(run.stack), context.tenants, context.defaults)
    configs = {r.name: {**rule_defaults(r, documents), **{k: v for k, v in params.items() if k in rule_defaults(r, documents)}} for r in ALL_RULES}
    environments = context.defaults.platform.environments
    by_urn = {r.urn: r for r in run.resources}
    provider_props = {r.urn: engine_value(r.wire_inputs, {}) for r in run.resources if r.type.startswith("pulumi:providers:")}

    def subject(r: CapturedResource) -> Subject:
        provider = provider_props.get(r.provider.rsplit("::", 1)[0]) if r.provider else None
        return Subject(r.type, r.name, r.urn, deserialize_properties(engine_value(r.wire_inputs, {})), StackFacts.from_urn(r.urn, environments),
                       "pulumi:providers:aws" if provider is not None else "", provider)

    def evaluate() -> int:
        subjects = [subject(r) for r in by_urn.values()]
        found = 0
        for rule in ALL_RULES:
            if rule.is_stack_rule:
                found += len(evaluate_stack(rule, subjects, configs[rule.name]))
            else:
                found += sum(len(evaluate_resource(rule, s, configs[rule.name])) for s in subjects)
        return found

    return evaluate


def timed(fn: Callable[[], Any], repeat: int) -> float:
    """Median seconds of ``repeat`` calls (after one warm-up)."""
    return statistics.median(interleaved([fn], repeat)[0])


def interleaved(fns: list[Callable[[], Any]], repeat: int) -> list[list[float]]:
    """Seconds of ``repeat`` calls of each function, taken in turns (after one warm-up each), so
    that a burst of other load on the machine falls on all of them alike."""
    for fn in fns:
        fn()
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, taken in zip(fns, samples):
            start = time.perf_counter()
            fn()
            taken.append(time.perf_counter() - start)
    return samples


def registry_plan(context: PolicyContext) -> tuple[list[StackRun], float]:
    """Every shipped stack from the real program, and how long the mock runs took."""
    defaults = context.defaults
    platform, offline = defaults.platform, defaults.offline
    start = time.perf_counter()
    runs, shared = [], {}
    for ref in all_stacks(context.tenants, platform.environments):
        region = context.tenants[ref.tenant_id].region if ref.tenant_id else stack_config(ROOT, ref.name).get("aws:region", "")
        run = run_stack(ref.name, platform.project, defaults.environments[ref.environment].account_id, region, shared, offline.organization)
        if ref.tenant_id is None:
            shared[f"{offline.organization}/{platform.project}/{ref.name}"] = run.outputs
        runs.append(run)
    return runs, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--write", action="store_true", help="update benchmarks/README.md")
    args = parser.parse_args()

    context = PolicyContext.from_registry()
    run = hundred_resource_stack()
    config = {"aws:region": "ap-south-1"}
    started = time.perf_counter()
    with PolicySession(context) as session:
        startup = time.perf_counter() - started
        protocol_samples, floor_samples = interleaved([lambda: session.evaluate(run, config), floor_evaluator(run, context)], args.repeat)
        protocol, floor = statistics.median(protocol_samples), statistics.median(floor_samples)
        runs, mock_seconds = registry_plan(context)
        configs = {r.stack: stack_config(ROOT, r.stack) for r in runs}
        evaluation = timed(lambda: [session.evaluate(r, configs[r.stack]) for r in runs], max(3, args.repeat // 4))
    n = len(run.resources)
    planned = sum(len(r.resources) for r in runs)
    lines = [
        SECTION,
        "",
        f"`benchmarks/policy_eval.py` ({args.repeat} runs of the protocol and the floor, taken in turns; {len(ALL_RULES)} rules in 2 packs, run side by side).",
        "",
        "| measure | value |",
        "|---|---|",
        f"| {n}-resource tenant stack over the Analyzer protocol, median | {protocol * 1000:.1f} ms ({protocol * 1000 / n:.3f} ms/resource) |",
        f"| the same, fastest run (least disturbed by other load) | {min(protocol_samples) * 1000:.1f} ms |",
        f"| same rules in-process on the same props (floor), median | {floor * 1000:.1f} ms ({floor * 1000 / n:.3f} ms/resource) |",
        f"| protocol / floor, medians of interleaved runs | {protocol / floor:.1f}x |",
        f"| pack start-up (both packs, once per plan) | {startup * 1000:.0f} ms |",
        f"| registry plan: mock run of {len(runs)} stacks, {planned} resources | {mock_seconds * 1000:.0f} ms |",
        f"| registry plan: policy evaluation of the same stacks | {evaluation * 1000:.0f} ms ({evaluation / mock_seconds:.2f}x the mock run) |",
        "",
        f"Measured with load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (a shared machine: other jobs inflate the protocol numbers most, since three processes share the cores).",
        "",
        f"Targets: a 100-resource stack under 100 ms ({'met' if protocol < 0.1 else 'NOT met'}); "
        f"registry evaluation at most 0.5x the mock run ({'met' if evaluation <= 0.5 * mock_seconds else 'NOT met'}; pack start-up excluded, it is paid once per plan).",
        "",
    ]
    report = "\n".join(lines)
    print(report)
    if args.write:
        from benchmarks.readme import write_section

        write_section(SECTION.removeprefix("## "), report.split("\n", 1)[1].lstrip("\n"))


if __name__ == "__main__":
    main()
