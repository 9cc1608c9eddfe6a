"""One engine operation on one stack, through ``pulumi.automation`` with this project.

This runs in a process of its own per stack (see :mod:`.automation`): the Pulumi SDK keeps its
settings per process, so stacks applied side by side must not share an interpreter.

The program is this project's ``__main__.py``, run by the Automation API's own language server
(an inline program: the engine talks to it through ``--client``). That is the SDK's public way to
run a Python program, and it needs no Python language host plugin, which the Go module proxy does
not serve (README, "The real engine").

The engine keeps per-stack files (the secrets salt) beside ``Pulumi.yaml``. So that no tenant needs
a stack file in the project, and so that each backend keeps its own salts, the workspace folder is
per backend under the state folder: it holds a copy of ``Pulumi.yaml`` and, for shared stacks, the
config of the project's ``Pulumi.<env>.yaml``. The project's files stay the one source.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import runpy
import sys
import time
from pathlib import Path
from collections.abc import Mapping
from typing import Any, Callable

import yaml

from ubertruck import PROJECT_ROOT
from ubertruck.atomic import write_text_atomic
from ubertruck.defaults import PlatformDefaults, load_defaults
from ubertruck.stacks import StackRef, parse_stack_name

from .operations import Failure, Operation, StackOutcome
from .target import EngineTarget

PROGRAM = PROJECT_ROOT / "__main__.py"


def _program() -> None:
    runpy.run_path(str(PROGRAM), run_name="__main__")


def _write_if_changed(path: Path, text: str) -> None:
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        write_text_atomic(path, text)


def prepare_workspace(target: EngineTarget, stack: StackRef) -> Path:
    """Bring the backend's workspace folder up to date with the project for ``stack``."""
    folder = Path(target.workspace_dir)
    _write_if_changed(folder / "Pulumi.yaml", (PROJECT_ROOT / "Pulumi.yaml").read_text(encoding="utf-8"))
    stack_file = folder / f"Pulumi.{stack.name}.yaml"
    engine_owned: dict[str, Any] = {}
    if stack_file.is_file():
        engine_owned = {k: v for k, v in (yaml.safe_load(stack_file.read_text(encoding="utf-8")) or {}).items() if k != "config"}
    document = dict(engine_owned)
    environment_file = PROJECT_ROOT / f"Pulumi.{stack.environment}.yaml"
    config: dict[str, Any] = {}
    if environment_file.is_file():
        config = dict((yaml.safe_load(environment_file.read_text(encoding="utf-8")) or {}).get("config") or {})
    if stack.tenant_id is not None:
        # A tenant stack has no file of its own: it takes its environment's engine settings
        # (`pulumi:*`, such as disabling the unpinned default AWS provider) and nothing else.
        config = {key: value for key, value in config.items() if key.startswith("pulumi:")}
    config.update(target.config)
    if config:
        document["config"] = config
    _write_if_changed(stack_file, yaml.safe_dump(document, sort_keys=True) if document else "{}\n")
    return folder


def classify(text: str, defaults: PlatformDefaults) -> Failure:
    """Which kind of failure the engine's words describe (patterns: defaults.yaml engine.failures)."""
    for kind in (Failure.POLICY, Failure.CONCURRENT, Failure.TRANSIENT, Failure.PROGRAM):
        patterns = defaults.engine.failures.get(kind.value, [])
        if any(re.search(pattern, text, re.IGNORECASE) for pattern in patterns):
            return kind
    return Failure.ENGINE


def _summary_line(text: str, defaults: PlatformDefaults) -> str:
    """The engine's own ``error:`` line that says what failed: the first one that is not the
    engine's generic wrap-up ("update failed"), never a property value dump."""
    errors = [line.strip() for line in text.splitlines() if line.strip().startswith("error:")]
    generic = defaults.engine.generic_errors
    specific = [line for line in errors if not any(words in line for words in generic)]
    if specific or errors:
        return (specific or errors)[0][:500]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return (lines[-1] if lines else "the engine failed without a message")[:500]


def _changes(result: Any, operation: Operation) -> dict[str, int]:
    if operation == "preview":
        return {str(k): int(v) for k, v in (result.change_summary or {}).items()}
    summary = getattr(result, "summary", None)
    return {str(k): int(v) for k, v in ((summary.resource_changes if summary else None) or {}).items()}


#: Engine step kinds that are not a change: the resource is as it was, or was only read.
_UNCHANGED = {"same", "read", "refresh", "import"}


def resource_change(engine_event: Any, *, refresh: bool) -> dict[str, Any] | None:
    """The change an engine event announces, as names only; None for events that change nothing.

    An operation's plan shows in its steps (``resourcePreEvent``); a refresh's drift shows in the
    outputs it read back (``resOutputsEvent``), whose op says what the refresh would do to the state.
    """
    step = engine_event.res_outputs_event if refresh else engine_event.resource_pre_event
    if step is None:
        return None
    metadata = step.metadata
    op = getattr(metadata.op, "value", str(metadata.op))
    if op in _UNCHANGED:
        return None
    detailed = sorted((metadata.detailed_diff or {}).keys())
    properties = sorted(set(metadata.diffs or []) | {key.split(".")[0].split("[")[0] for key in detailed})
    return {"urn": metadata.urn, "type": metadata.type, "op": op, "properties": properties}


def deployed_resources(deployment: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The stack's cloud resources: everything but the engine's own (the stack, providers)."""
    return [r for r in (deployment or {}).get("resources") or [] if not str(r.get("type", "")).startswith("pulumi:")]


def retained_resources(deployment: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The resources a destroy leaves in the cloud (``retainOnDelete``), as ``op: retain`` changes."""
    return [
        {"urn": r["urn"], "type": r["type"], "op": "retain", "properties": [], "id": r.get("id", "")}
        for r in (deployment or {}).get("resources") or []
        if r.get("retainOnDelete")
    ]


def run_operation(
    operation: Operation,
    stack: StackRef,
    target: EngineTarget,
    policy_packs: list[tuple[str, str]],
    on_output: Callable[[str], None],
    defaults: PlatformDefaults | None = None,
    *,
    refresh_preview: bool = False,
    existing_only: bool = False,
) -> StackOutcome:
    """Run ``operation`` on ``stack`` in this process; a failed stack is an outcome, not an exception.

    With ``existing_only`` a stack that this backend does not hold, or that holds no resources, is
    left alone (a success with nothing done) instead of being created.
    """
    from pulumi import automation as auto

    defaults = defaults or load_defaults()
    started = time.monotonic()
    folder = prepare_workspace(target, stack)
    # This process runs one operation: the engine's environment becomes its own, so that even the
    # Automation API's own `pulumi version` call keeps to the target's PULUMI_HOME.
    os.environ.update(target.env)
    workspace = auto.LocalWorkspace(
        work_dir=str(folder),
        program=_program,
        pulumi_home=target.pulumi_home or None,
        env_vars=dict(target.env),
        secrets_provider=None if target.secrets_provider == "passphrase" else target.secrets_provider,
        pulumi_command=auto.PulumiCommand(root=str(Path(target.pulumi).parent.parent), skip_version_check=True),
    )
    captured: list[str] = []
    changes: list[dict[str, Any]] = []

    def output(line: str) -> None:
        captured.append(line)
        on_output(line)

    def event(engine_event: Any) -> None:
        change = resource_change(engine_event, refresh=operation == "refresh" or refresh_preview)
        if change is not None:
            changes.append(change)

    try:
        if existing_only:
            try:
                handle = auto.Stack.select(stack.name, workspace)
            except auto.errors.StackNotFoundError:
                handle = None
            if handle is None or not deployed_resources(handle.export_stack().deployment):
                return StackOutcome(
                    stack=stack.name, operation=operation, succeeded=True, duration_seconds=time.monotonic() - started,
                    message="not deployed in this backend: nothing to do",
                )
        else:
            handle = auto.Stack.create_or_select(stack.name, workspace)
        common: dict[str, Any] = {"on_output": output, "on_event": event, "color": "never"}
        packs = [pack for pack, _ in policy_packs]
        pack_configs = [config for _, config in policy_packs]
        result: auto.PreviewResult | auto.UpResult | auto.DestroyResult | auto.RefreshResult
        if operation == "preview" and refresh_preview:
            result = handle.preview_refresh(**common)
        elif operation == "preview":
            result = handle.preview(diff=True, parallel=defaults.engine.parallel, policy_packs=packs, policy_pack_configs=pack_configs, **common)
        elif operation == "up":
            result = handle.up(parallel=defaults.engine.parallel, policy_packs=packs, policy_pack_configs=pack_configs, **common)
        elif operation == "destroy":
            retained = retained_resources(handle.export_stack().deployment)
            result = handle.destroy(**common)
            changes.extend(retained)
        else:
            result = handle.refresh(**common)
    except auto.errors.CommandError as exc:
        text = "\n".join(captured) + "\n" + str(exc)
        return StackOutcome(
            stack=stack.name,
            operation=operation,
            succeeded=False,
            duration_seconds=time.monotonic() - started,
            failure=classify(text, defaults),
            message=_summary_line(text, defaults),
            resource_changes=tuple(changes),
        )
    return StackOutcome(
        stack=stack.name,
        operation=operation,
        succeeded=True,
        changes=_changes(result, operation),
        duration_seconds=time.monotonic() - started,
        resource_changes=tuple(changes),
    )


def outcome_to_json(outcome: StackOutcome) -> dict[str, Any]:
    data = dict(outcome.__dict__)
    data["failure"] = outcome.failure.value if outcome.failure else None
    return data


def outcome_from_json(data: dict[str, Any]) -> StackOutcome:
    fields = dict(data)
    fields["failure"] = Failure(fields["failure"]) if fields.get("failure") else None
    fields["resource_changes"] = tuple(fields.get("resource_changes") or ())
    return StackOutcome(**fields)


def main(argv: list[str] | None = None) -> int:
    """``python -m platformctl.apply.stack_run REQUEST.json RESULT.json``: one operation, engine output on stdout."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("request", type=Path)
    parser.add_argument("result", type=Path)
    args = parser.parse_args(argv)
    request = json.loads(args.request.read_text(encoding="utf-8"))
    defaults = load_defaults()
    stack = parse_stack_name(request["stack"], defaults.platform.environments)
    outcome = run_operation(
        request["operation"],
        stack,
        EngineTarget.from_json(request["target"]),
        [tuple(pair) for pair in request.get("policy_packs", [])],
        lambda line: print(line, end="" if line.endswith("\n") else "\n", flush=True),
        defaults,
        refresh_preview=bool(request.get("refresh_preview")),
        existing_only=bool(request.get("existing_only")),
    )
    write_text_atomic(args.result, json.dumps(outcome_to_json(outcome)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
