"""Offline policy enforcement: the packs, started and driven the way the engine does it.

Each pack runs as ``python -u -m pulumi.policy <engine> <pack dir>`` (cwd: the pack dir) and
prints its port; it is then driven over the Analyzer protocol: ``GetAnalyzerInfo`` once,
then per stack ``Configure`` (the merged per-policy config, see :mod:`.config`),
``ConfigureStack``, ``Analyze`` for every captured resource and ``AnalyzeStack``. Pack
processes live for the whole plan and are reconfigured per stack; the packs run side by
side, one per core.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import grpc
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from ubertruck import PROJECT_ROOT
from ubertruck.defaults import PlatformDefaults, load_defaults
from ubertruck.errors import UserError
from ubertruck.registry.model import Tenant
from ubertruck.stacks import parse_stack_name

from ..engine.capture import OUTPUT_SIG, RESOURCE_REF_SIG, SECRET_SIG, SIG_KEY, UNKNOWN, CapturedResource
from ..engine.runner import StackRun, stack_config
from .config import LEVELS, PackInfo, StackTarget, check_registry_references, configure_request, stack_policy_configs

#: The packs ``platformctl plan`` runs, in report order.
DEFAULT_PACKS: tuple[Path, ...] = (PROJECT_ROOT / "policies" / "security", PROJECT_ROOT / "policies" / "platform")
#: The packs never dial the engine back; the address only has to parse.
ENGINE_ADDRESS = "127.0.0.1:0"
#: Same ceiling the SDK's server accepts (resources with large archives).
_MAX_MESSAGE = 1024 * 1024 * 400
_CHANNEL_OPTIONS = [("grpc.max_send_message_length", _MAX_MESSAGE), ("grpc.max_receive_message_length", _MAX_MESSAGE)]


def startup_seconds() -> float:
    """How long a pack may take to print its port (``defaults.yaml`` offline section; the
    ``PLATFORMCTL_POLICY_STARTUP_TIMEOUT`` environment variable overrides it on slow machines)."""
    override = os.environ.get("PLATFORMCTL_POLICY_STARTUP_TIMEOUT")
    return float(override) if override else load_defaults().offline.policy_pack_startup_seconds


# ----------------------------------------------------------------------------------------
# Results
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Violation:
    """One diagnostic, in the plan report's JSON shape (``to_dict``)."""

    pack: str
    policy: str
    level: str
    urn: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class ExemptionUse:
    """An exemption that suppressed findings of ``policy`` on ``urns``."""

    pack: str
    policy: str
    resource: str | None
    reason: str
    expires: str
    source: str
    urns: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["urns"] = list(self.urns)
        return data


@dataclass
class StackPolicyResult:
    stack: str
    violations: list[Violation] = field(default_factory=list)
    exemptions: list[ExemptionUse] = field(default_factory=list)

    @property
    def mandatory(self) -> list[Violation]:
        return [v for v in self.violations if v.level == "mandatory"]

    @property
    def advisory(self) -> list[Violation]:
        return [v for v in self.violations if v.level == "advisory"]


@dataclass(frozen=True)
class PolicyContext:
    """Everything besides the captured stacks that evaluation needs."""

    tenants: Mapping[str, Tenant]
    defaults: PlatformDefaults
    project: str
    organization: str
    #: ``--policy-pack-config`` content per pack name (``{"all": ..., "<policy>": {...}}``).
    pack_config: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    packs: Sequence[Path] = DEFAULT_PACKS
    registry_dir: Path = PROJECT_ROOT / "tenants"

    @classmethod
    def from_registry(cls, tenants: Mapping[str, Tenant] | None = None, **overrides: Any) -> "PolicyContext":
        from ubertruck.registry.loader import load_registry

        defaults = load_defaults()
        if tenants is None:
            loaded = load_registry()
            loaded.raise_for_errors()
            tenants = loaded.tenants
        return cls(
            tenants=tenants,
            defaults=defaults,
            project=defaults.platform.project,
            organization=defaults.offline.organization,
            **overrides,
        )

    def target(self, stack: str) -> StackTarget:
        ref = parse_stack_name(stack, self.defaults.platform.environments)
        tenant = self.tenants.get(ref.tenant_id) if ref.tenant_id else None
        if ref.tenant_id and tenant is None:
            raise UserError(f"stack '{stack}'", f"unknown tenant '{ref.tenant_id}'")
        return StackTarget(stack=stack, environment=ref.environment, tenant=tenant)

    def registry_file(self, tenant_id: str) -> str:
        """The tenant's registry file, relative to the project root when it is inside it."""
        path = (self.registry_dir / f"{tenant_id}.yaml").resolve()
        try:
            return str(path.relative_to(PROJECT_ROOT))
        except ValueError:
            return str(path)


# ----------------------------------------------------------------------------------------
# Wire form: what the engine sends for each resource
# ----------------------------------------------------------------------------------------


def engine_value(value: Any, ids: Mapping[str, str]) -> Any:
    """A captured wire value as the engine hands it to an analyzer: secrets, assets and
    archives kept; resource references as their id (custom) or URN (component); output
    values as their value, or the unknown sentinel; internal ``__`` keys dropped."""
    if isinstance(value, dict):
        sig = value.get(SIG_KEY)
        if sig == RESOURCE_REF_SIG:
            urn = value.get("urn", "")
            return value.get("id") or ids.get(urn) or urn
        if sig == OUTPUT_SIG:
            if "value" not in value:
                return UNKNOWN
            inner = engine_value(value["value"], ids)
            return {SIG_KEY: SECRET_SIG, "value": inner} if value.get("secret") else inner
        return {k: engine_value(v, ids) for k, v in value.items() if not k.startswith("__")}
    if isinstance(value, list):
        return [engine_value(v, ids) for v in value]
    return value


def _struct(data: Mapping[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(data)
    return message


@dataclass
class _StackWire:
    """The requests of one stack, built once and sent to every pack."""

    analyze: list[analyzer_pb2.AnalyzeRequest]
    stack: analyzer_pb2.AnalyzeStackRequest


def _provider(resource: CapturedResource, by_urn: Mapping[str, CapturedResource], ids: Mapping[str, str],
              config: Mapping[str, str]) -> analyzer_pb2.AnalyzerProviderResource | None:
    if not resource.provider:
        return None
    urn = resource.provider.rsplit("::", 1)[0]
    parts = urn.split("::")
    type_, name = (parts[2].rsplit("$", 1)[-1], parts[3]) if len(parts) >= 4 else ("", "")
    registered = by_urn.get(urn)
    if registered is not None:
        props = engine_value(registered.wire_inputs, ids)
    else:
        # A default provider: the engine configures it from the stack's "<package>:" config.
        package = type_.removeprefix("pulumi:providers:")
        props = {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith(f"{package}:")}
    return analyzer_pb2.AnalyzerProviderResource(type=type_, properties=_struct(props), urn=urn, name=name)


def _options(resource: CapturedResource) -> analyzer_pb2.AnalyzerResourceOptions:
    o = resource.options
    return analyzer_pb2.AnalyzerResourceOptions(
        protect=bool(o.get("protect")),
        ignoreChanges=list(o.get("ignoreChanges", [])),
        deleteBeforeReplace=bool(o.get("deleteBeforeReplace")),
        deleteBeforeReplaceDefined="deleteBeforeReplace" in o,
        additionalSecretOutputs=list(o.get("additionalSecretOutputs", [])),
        aliases=[a for a in o.get("aliases", []) if isinstance(a, str)],
        parent=resource.parent,
    )


def stack_wire(resources: Sequence[CapturedResource], config: Mapping[str, str]) -> _StackWire:
    """Analyze and AnalyzeStack requests for a captured stack."""
    by_urn = {r.urn: r for r in resources}
    ids: dict[str, str] = {}
    analyze: list[analyzer_pb2.AnalyzeRequest] = []
    stack_resources: list[analyzer_pb2.AnalyzerResource] = []
    for r in resources:
        props = _struct(engine_value(r.wire_inputs, ids))
        provider = _provider(r, by_urn, ids, config)
        options = _options(r)
        analyze.append(analyzer_pb2.AnalyzeRequest(type=r.type, properties=props, urn=r.urn, name=r.name, options=options, provider=provider))
        entry = analyzer_pb2.AnalyzerResource(
            type=r.type, properties=props, urn=r.urn, name=r.name, options=options, provider=provider,
            parent=r.parent, dependencies=list(r.dependencies),
        )
        for key, urns in r.property_dependencies.items():
            entry.propertyDependencies[key].urns.extend(urns)
        stack_resources.append(entry)
    return _StackWire(analyze=analyze, stack=analyzer_pb2.AnalyzeStackRequest(resources=stack_resources))


# ----------------------------------------------------------------------------------------
# Pack processes
# ----------------------------------------------------------------------------------------


class PackProcess:
    """One policy pack, started as the engine starts it, with a client for its server.

    ``fast_paths``: tell the pack the offline engine started it (``offline.pack_fast_paths_env_var``),
    so that it may take the SDK fast paths (it still checks the SDK versions itself); False starts
    it exactly as a real engine would, on the stock SDK path.
    """

    def __init__(self, pack_dir: Path, python: str = sys.executable, fast_paths: bool = True) -> None:
        self.pack_dir = Path(pack_dir).resolve()
        if not (self.pack_dir / "PulumiPolicy.yaml").is_file():
            raise UserError(str(self.pack_dir), "is not a policy pack (no PulumiPolicy.yaml)")
        self._stderr = tempfile.TemporaryFile()
        self._killer: threading.Timer | None = None
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        offline_variable = load_defaults().offline.pack_fast_paths_env_var
        env.pop(offline_variable, None)
        if fast_paths:
            env[offline_variable] = "1"
        self.process = subprocess.Popen(
            [python, "-u", "-m", "pulumi.policy", ENGINE_ADDRESS, str(self.pack_dir)],
            cwd=self.pack_dir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
        )
        port = self._read_port()
        channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=_CHANNEL_OPTIONS)
        self.channel: grpc.Channel | None = channel
        grpc.channel_ready_future(channel).result(timeout=startup_seconds())
        self.stub = analyzer_pb2_grpc.AnalyzerStub(channel)
        self.info = PackInfo.from_proto(self.stub.GetAnalyzerInfo(empty_pb2.Empty()))
        self.plugin_version = self.stub.GetPluginInfo(empty_pb2.Empty()).version

    def _read_port(self) -> int:
        line: list[bytes] = []
        reader = threading.Thread(target=lambda: line.append(self.process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        reader.join(startup_seconds())
        text = line[0].decode().strip() if line else ""
        if not text.isdigit():
            self.close()
            raise UserError(f"policy pack {self.pack_dir}", f"did not start (no port on stdout): {self.stderr_tail()}")
        return int(text)

    def stderr_tail(self, limit: int = 2000) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-limit:].strip() or "no output"

    def interrupt(self) -> None:
        """Ask the server to stop (the engine's interrupt) without waiting for it; a pack that has
        not stopped when the shutdown time is up is killed."""
        channel = getattr(self, "channel", None)
        if channel is not None:
            channel.close()
            self.channel = None
        if self.process.poll() is None and self._killer is None:
            self.process.send_signal(subprocess.signal.SIGINT)  # type: ignore[attr-defined]
            self._killer = threading.Timer(load_defaults().offline.policy_pack_shutdown_seconds, self.process.kill)
            self._killer.daemon = True
            self._killer.start()

    def close(self) -> None:
        """Stop the server the way the engine does: interrupt, then wait, then kill."""
        self.interrupt()
        # A blocking wait returns the moment the pack exits (a wait with a timeout polls).
        self.process.wait()
        if self._killer is not None:
            self._killer.cancel()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._stderr.close()

    def evaluate(self, wire: _StackWire, configure: analyzer_pb2.ConfigureAnalyzerRequest,
                 stack_request: analyzer_pb2.AnalyzerStackConfigureRequest) -> list[analyzer_pb2.AnalyzeResponse]:
        """Configure for the stack, then analyze each resource and the stack."""
        self.stub.Configure(configure)
        self.stub.ConfigureStack(stack_request)
        # Every Analyze is independent of the others once the pack is configured: keep them all
        # in flight so the pack's server threads never wait on a round trip per resource
        # (a unary round trip here costs about as much as evaluating the resource).
        calls = [self.stub.AnalyzeStack.future(wire.stack)] + [self.stub.Analyze.future(request) for request in wire.analyze]
        try:
            responses = [call.result() for call in calls[1:]]
            responses.append(calls[0].result())
        except grpc.RpcError:
            for call in calls:
                call.cancel()
            raise
        return responses


class PolicySession:
    """The packs of one plan, started once and reused for every stack (``fast_paths`` as in
    :class:`PackProcess`; the benchmarks compare both)."""

    def __init__(self, context: PolicyContext, fast_paths: bool = True) -> None:
        self.context = context
        self.packs: list[PackProcess] = []
        try:
            with ThreadPoolExecutor(max_workers=max(1, len(context.packs))) as pool:
                self.packs = list(pool.map(lambda pack: PackProcess(pack, fast_paths=fast_paths), context.packs))
        except BaseException:
            self.close()
            raise
        infos = [p.info for p in self.packs]
        for tenant_id, tenant in context.tenants.items():
            check_registry_references(tenant, infos, context.registry_file(tenant_id))
        self._pool = ThreadPoolExecutor(max_workers=max(1, len(self.packs)))

    @property
    def infos(self) -> list[PackInfo]:
        return [p.info for p in self.packs]

    def __enter__(self) -> "PolicySession":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        pool = getattr(self, "_pool", None)
        if pool is not None:
            pool.shutdown(wait=True)
        # Interrupt every pack first: they shut down side by side instead of one after another.
        for pack in self.packs:
            pack.interrupt()
        for pack in self.packs:
            pack.close()

    def configs(self, stack: str, context: PolicyContext | None = None) -> dict[str, dict[str, dict[str, Any]]]:
        """``{pack name: {policy: config}}`` the packs are configured with for ``stack``: the
        ``Configure`` of :meth:`evaluate`, and the ``--policy-pack-config`` files of
        ``platformctl policy config``. ``context`` as in :meth:`evaluate`."""
        ctx = context or self.context
        if context is not None:
            for tenant_id, tenant in context.tenants.items():
                check_registry_references(tenant, self.infos, context.registry_file(tenant_id))
        target = ctx.target(stack)
        source = ctx.registry_file(target.tenant.id) if target.tenant else ""
        return stack_policy_configs(self.infos, target, ctx.tenants, ctx.defaults, ctx.pack_config, source)

    def evaluate(self, run: StackRun, config: Mapping[str, str] | None = None, context: PolicyContext | None = None) -> StackPolicyResult:
        """Every pack's verdict on one captured stack.

        ``config`` is the stack's config (default: read as the CLI reads it); ``context``
        replaces the session's registry and pack config for this stack only (the packs stay
        up), for example to try a registry change.
        """
        ctx = context or self.context
        configs = self.configs(run.stack, context)
        stack_cfg = dict(config) if config is not None else stack_config(PROJECT_ROOT, run.stack)
        wire = stack_wire(run.resources, stack_cfg)
        stack_request = analyzer_pb2.AnalyzerStackConfigureRequest(
            stack=run.stack, project=ctx.project, organization=ctx.organization, dry_run=True,
            config=stack_cfg, tags={"pulumi:project": ctx.project, "pulumi:runtime": "python"},
        )
        jobs = []
        for pack in self.packs:
            request = configure_request(configs[pack.info.name])
            jobs.append((pack, self._pool.submit(pack.evaluate, wire, request, stack_request)))
        result = StackPolicyResult(stack=run.stack)
        for pack, job in jobs:
            try:
                responses = job.result()
            except grpc.RpcError as exc:
                raise PolicyPackError(pack.info.name, f"{exc.code().name}: {exc.details()} ({pack.stderr_tail()})") from None
            _collect(pack.info.name, responses, wire, result)
        return result


class PolicyPackError(UserError):
    """A pack failed while analyzing (a bug in a rule, or a crashed process): one line."""

    def __init__(self, pack: str, detail: str) -> None:
        super().__init__(f"policy pack '{pack}'", f"failed: {detail}")
        self.pack = pack


def _collect(pack: str, responses: Sequence[analyzer_pb2.AnalyzeResponse], wire: _StackWire, result: StackPolicyResult) -> None:
    from policies.rules.exemptions import parse_marker

    urns = [r.urn for r in wire.analyze] + [""]
    for urn, response in zip(urns, responses):
        for d in response.diagnostics:
            message = d.message.split("\n", 1)[1] if "\n" in d.message else d.message
            result.violations.append(Violation(pack, d.policyName, LEVELS[d.enforcementLevel], d.urn or urn, message))
        for na in response.not_applicable:
            for used in parse_marker(na.reason):
                result.exemptions.append(
                    ExemptionUse(pack, na.policy_name, used.get("resource"), used["reason"], used["expires"], used["source"], tuple(used.get("urns", [])))
                )


def evaluate_stacks(stack_runs: Iterable[StackRun], context: PolicyContext,
                    configs: Mapping[str, Mapping[str, str]] | None = None) -> dict[str, StackPolicyResult]:
    """Run every pack over every captured stack; ``{stack name: result}`` in input order.

    ``configs`` optionally gives each stack's config (``{stack: {"aws:region": ...}}``);
    by default it is read the way the CLI reads it (Pulumi.yaml and Pulumi.<stack>.yaml).
    """
    with PolicySession(context) as session:
        return {run.stack: session.evaluate(run, (configs or {}).get(run.stack)) for run in stack_runs}


__all__ = [
    "DEFAULT_PACKS",
    "ExemptionUse",
    "PackProcess",
    "PolicyContext",
    "PolicyPackError",
    "PolicySession",
    "StackPolicyResult",
    "Violation",
    "evaluate_stacks",
]
