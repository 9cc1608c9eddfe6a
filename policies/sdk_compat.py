"""The one module that touches private parts of the Pulumi SDKs (``pulumi``, ``pulumi_policy``).

Everything here leans on something the SDKs do not promise to keep: a private name, a module
global that a method looks up at call time, or the keyword arguments a class happens to accept.
Each of them is listed in :data:`INTERNALS`, and ``tests/policies/test_sdk_compat.py`` pins them
at the installed versions: an upgrade that renames one fails that test, in CI, long before a
pack or a plan meets it.

Two users:

* **The policy packs** (:func:`configure_pack`, called by ``policies.rules.sdk.pack_arguments``).
  A pack serves the stock SDK unless the offline engine started it (the environment variable
  named by ``offline.pack_fast_paths_env_var`` in defaults.yaml) *and* the installed pulumi,
  pulumi-policy and protobuf are the versions the internals were checked against
  (:data:`VERIFIED_VERSIONS`). Only then do the per-request conversions of
  :mod:`policies.rules.fast_paths` go in. Under ``pulumi preview`` the variable is absent, so an
  SDK upgrade can never stop a pack from starting there; offline, a version that differs falls
  back to the stock path too (slower, same verdicts).
* **The offline engine** (``platformctl/engine/runner.py``): :func:`configure_mock_runtime`, the
  SDK's ``set_mocks`` without its root stack and with a per-run output set, and
  :func:`run_in_root_stack`, the language host's way of running a program, which settles the
  run's outputs in passes before the SDK's own (quadratic) wait sees them.

This module imports neither ``policies.rules`` nor ``platformctl`` at import time, so both the
packs and the engine can import it without a cycle.

>>> from policies.sdk_compat import check_internals, version_mismatches
>>> check_internals(), version_mismatches()
([], [])
"""

from __future__ import annotations

import asyncio
import contextvars
import importlib
import importlib.metadata
import inspect
import logging
import os
import sys
import threading
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Callable, Iterable, Mapping

#: The distributions whose internals this module was checked against, at those versions. They
#: are a fact about this file, not a setting: requirements.txt pins the same versions (a test
#: keeps them equal), so bumping a pin there fails that test until the internals below have been
#: re-checked at the new version and these updated.
VERIFIED_VERSIONS: Mapping[str, str] = {
    "pulumi": "3.272.0",
    "pulumi-policy": "1.21.0",
    "protobuf": "5.29.6",
}


@dataclass(frozen=True)
class Internal:
    """One thing of an SDK this module relies on, and the shape it relies on.

    ``parameters``: the callable's parameter names, exactly (None: only that it exists).
    ``looks_up``: global or attribute names the function's code must look up when it runs; a
    replacement of a module global only takes effect if the code reads it at call time.
    """

    module: str
    attribute: str
    why: str
    parameters: tuple[str, ...] | None = None
    looks_up: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.module}.{self.attribute}"


_SERVICER = "_PolicyAnalyzerServicer"
_CONVERSIONS = ("json_format", "deserialize_properties", "unknown_checking_proxy", "_get_resource_options", "_get_provider_resource")

#: What the packs' fast paths replace (pulumi_policy's Analyzer servicer and the module globals
#: its methods call).
FAST_PATH_INTERNALS: tuple[Internal, ...] = (
    Internal("pulumi_policy.policy", "json_format.MessageToDict", "replaced by a memoised Struct conversion",
             ("message", "always_print_fields_with_no_presence", "preserving_proto_field_name",
              "use_integers_for_enums", "descriptor_pool", "float_precision")),
    Internal("pulumi_policy.policy", "deserialize_properties", "memoised per request", ("props", "proxy_secrets")),
    Internal("pulumi_policy.policy", "unknown_checking_proxy", "memoised per request", ("props",)),
    Internal("pulumi_policy.policy", _SERVICER, "the servicer class a pack serves"),
    Internal("pulumi_policy.policy", f"{_SERVICER}._get_resource_options", "memoised per request", ("self", "request")),
    Internal("pulumi_policy.policy", f"{_SERVICER}._get_provider_resource", "memoised per request", ("self", "request"),
             ("json_format", "deserialize_properties", "unknown_checking_proxy")),
    Internal("pulumi_policy.policy", f"{_SERVICER}.Analyze", "wrapped to open a memo scope per request",
             ("self", "request", "_context"), _CONVERSIONS),
    Internal("pulumi_policy.policy", f"{_SERVICER}.AnalyzeStack", "wrapped to open a memo scope per request",
             ("self", "request", "_context"), _CONVERSIONS),
)

#: What the offline engine's mock runtime relies on.
MOCK_RUNTIME_INTERNALS: tuple[Internal, ...] = (
    Internal("pulumi.runtime.mocks", "set_mocks", "configure_mock_runtime follows it; a change here needs a look there",
             ("mocks", "project", "stack", "preview", "logger", "monitor", "organization")),
    Internal("pulumi.runtime.mocks", "MockSettings.__init__", "sets every keyword argument as a setting",
             ("self", "_", "kwargs")),
    Internal("pulumi.runtime.settings", "Settings.outputs", "the outstanding-output set, given per run"),
    Internal("pulumi.runtime.settings", "Settings.lock", "the lock of that set, given per run"),
    Internal("pulumi.runtime.settings", "configure", "installs the settings in the current context", ("settings",)),
    Internal("pulumi.runtime.stack", "run_in_stack", "the language host's program runner", ("func",)),
)

INTERNALS: tuple[Internal, ...] = FAST_PATH_INTERNALS + MOCK_RUNTIME_INTERNALS


def _resolve(internal: Internal) -> Any:
    """The object ``internal`` names; AttributeError or ImportError when it is gone."""
    target: Any = importlib.import_module(internal.module)
    for part in internal.attribute.split("."):
        # A class attribute is read from the class dictionary first, so that a descriptor (a
        # context property) is found as itself rather than evaluated.
        found = vars(target).get(part, _ABSENT) if isinstance(target, type) else _ABSENT
        target = found if found is not _ABSENT else getattr(target, part)
    return target


_ABSENT = object()


def _code_names(function: Any) -> set[str]:
    code = getattr(inspect.unwrap(function), "__code__", None)
    return set(code.co_names) if code is not None else set()


def check_internal(internal: Internal) -> str | None:
    """What is wrong with ``internal`` in the installed SDKs, or None when it is as expected."""
    try:
        target = _resolve(internal)
    except (ImportError, AttributeError):
        return f"{internal.name}: missing ({internal.why})"
    if internal.parameters is not None:
        try:
            found = tuple(inspect.signature(inspect.unwrap(target)).parameters)
        except (TypeError, ValueError):
            return f"{internal.name}: not a callable with a signature ({internal.why})"
        if found != internal.parameters:
            return f"{internal.name}: parameters {found}, expected {internal.parameters} ({internal.why})"
    missing = [name for name in internal.looks_up if name not in _code_names(target)]
    if missing:
        return f"{internal.name}: no longer looks up {', '.join(missing)} ({internal.why})"
    return None


def check_internals(internals: Iterable[Internal] = INTERNALS) -> list[str]:
    """One line per internal that is missing or has another shape; empty when all are as pinned."""
    return [problem for problem in map(check_internal, internals) if problem is not None]


def installed_versions(names: Iterable[str] = VERIFIED_VERSIONS) -> dict[str, str]:
    """The installed version of each distribution ("" when it is not installed)."""
    versions: dict[str, str] = {}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = ""
    return versions


def version_mismatches(installed: Mapping[str, str] | None = None) -> list[str]:
    """One line per distribution whose installed version is not the verified one."""
    found = installed_versions() if installed is None else installed
    return [
        f"{name} {found.get(name) or 'not installed'} (internals verified at {version})"
        for name, version in VERIFIED_VERSIONS.items()
        if found.get(name) != version
    ]


# ----------------------------------------------------------------------------------------
# Policy packs
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SdkPath:
    """How a pack process serves: the stock SDK, or with the offline fast paths."""

    fast_paths: bool
    reason: str

    def line(self) -> str:
        """The one line a pack reports when asked (``offline.pack_sdk_path_report_env_var``)."""
        return f"sdk path: {'fast paths' if self.fast_paths else 'stock'} ({self.reason})"


def choose_pack_path(offline_variable: str, environ: Mapping[str, str] | None = None,
                     installed: Mapping[str, str] | None = None) -> SdkPath:
    """The fast paths only for the offline engine, and only at the verified versions."""
    env = os.environ if environ is None else environ
    if not env.get(offline_variable):
        return SdkPath(False, f"{offline_variable} is not set: not started by the offline engine")
    mismatches = version_mismatches(installed)
    if mismatches:
        return SdkPath(False, "installed versions differ from the verified ones: " + "; ".join(mismatches))
    problems = check_internals(FAST_PATH_INTERNALS)
    if problems:
        # Versions match but the internals do not (a patched install): the stock path is safe.
        return SdkPath(False, "SDK internals differ: " + "; ".join(problems))
    return SdkPath(True, "offline engine, SDK versions verified")


def configure_pack(offline_variable: str, report_variable: str, environ: Mapping[str, str] | None = None,
                   installed: Mapping[str, str] | None = None) -> SdkPath:
    """Choose the pack's SDK path, install the fast paths if chosen, and report the choice on
    stderr when ``report_variable`` is set (a debug hook: tests read it, the engine never sets it)."""
    env = os.environ if environ is None else environ
    path = choose_pack_path(offline_variable, env, installed)
    if path.fast_paths:
        install_fast_paths()
    if env.get(report_variable):
        print(path.line(), file=sys.stderr, flush=True)
    return path


def fast_paths_installed() -> bool:
    """True once :func:`install_fast_paths` ran in this process."""
    from pulumi_policy import policy as servicer_module

    from policies.rules.fast_paths import LastCalls

    return isinstance(getattr(servicer_module.json_format, "MessageToDict", None), LastCalls)


def install_fast_paths() -> None:
    """Replace the servicer's per-policy conversions by per-request ones (idempotent).

    The SDK's ``Analyze`` converts the request again for every policy of the pack; these
    replacements return what the originals return, once per request (see
    :mod:`policies.rules.fast_paths`). Call through :func:`configure_pack`, which checks the
    versions first."""
    from pulumi_policy import policy as servicer_module

    from policies.rules.fast_paths import LastCalls, message_to_dict, one_request, per_request

    if fast_paths_installed():
        return
    json_format = servicer_module.json_format
    servicer_module.json_format = SimpleNamespace(  # type: ignore[assignment]
        MessageToDict=LastCalls(message_to_dict(json_format.MessageToDict)),
        **{k: getattr(json_format, k) for k in ("ParseDict", "Parse", "MessageToJson") if hasattr(json_format, k)},
    )
    servicer_module.deserialize_properties = LastCalls(servicer_module.deserialize_properties)  # type: ignore[assignment]
    servicer_module.unknown_checking_proxy = LastCalls(servicer_module.unknown_checking_proxy)  # type: ignore[assignment]
    servicer = getattr(servicer_module, _SERVICER)
    for method in ("_get_resource_options", "_get_provider_resource"):
        setattr(servicer, method, per_request(getattr(servicer, method)))
    for method in ("Analyze", "AnalyzeStack"):
        setattr(servicer, method, one_request(getattr(servicer, method)))


# ----------------------------------------------------------------------------------------
# Offline engine: the mock runtime
# ----------------------------------------------------------------------------------------


def configure_mock_runtime(monitor: Any, logger: logging.Logger, project: str, stack: str, organization: str) -> None:
    """Install the SDK's mock runtime for one program run in the current context.

    This is ``pulumi.runtime.set_mocks`` with two differences: no root stack is registered here
    (:func:`run_in_root_stack` registers it, as the language host does, so it is captured once),
    and the run gets its own outstanding-output set and lock. ``MockSettings`` otherwise falls back
    to one set shared by every run in the process: a run that failed would leave its failed outputs
    there, and the next run would await them and fail with the earlier run's error."""
    from pulumi.runtime import mocks
    from pulumi.runtime.settings import configure

    outputs: set[asyncio.Task[Any]] = set()
    lock = threading.Lock()
    settings = mocks.MockSettings(
        monitor=monitor,
        monitor_features=set(monitor.GetDeploymentInfo(None).supportedFeatures),
        engine=mocks.MockEngine(logger),
        project=project,
        stack=stack,
        dry_run=False,
        organization=organization,
        callbacks=None,
        outputs=outputs,
        lock=lock,
    )
    configure(settings)
    _RUN_OUTPUTS.set((outputs, lock))


#: The outstanding-output set and lock of the run configured in this context (ours: see above).
_RUN_OUTPUTS: contextvars.ContextVar[tuple[set[asyncio.Task[Any]], threading.Lock]] = contextvars.ContextVar("offline_run_outputs")


async def _settle_outputs(outputs: set[asyncio.Task[Any]], lock: threading.Lock) -> None:
    """Wait for every outstanding output of the run, in passes over the whole set.

    The SDK's own wait (``wait_for_rpcs``) takes the outputs one completion at a time, each
    time waiting on all that remain, so a program with n outputs costs it n * n callbacks; about
    half of a tenant stack's offline run went there. One pass waits for the whole set at once
    (stopping at the first failure, which it raises as the SDK would); outputs created meanwhile
    are taken by the next pass. What remains for the SDK's wait afterwards is the root stack's
    own few outputs.
    """
    while True:
        with lock:
            if not outputs:
                return
            pending = list(outputs)
            outputs.clear()
        done, not_done = await asyncio.wait(pending, return_when=asyncio.FIRST_EXCEPTION)
        if not_done:
            with lock:
                outputs.update(not_done)
        for task in done:
            await task


_LOOPS = threading.local()


def _thread_loop() -> asyncio.AbstractEventLoop:
    """This thread's event loop for program runs, made current so that the SDK's own synchronous
    waits inside the program find it. Kept between runs: the SDK's executor work of a run that
    failed may still settle on it."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise RuntimeError("an offline program run is synchronous: call it outside a running event loop")
    loop = getattr(_LOOPS, "loop", None)
    if loop is None or loop.is_closed():
        loop = asyncio.new_event_loop()
        _LOOPS.loop = loop
    asyncio.set_event_loop(loop)
    return loop


def run_in_root_stack(program: Callable[[], Any],
                      exception_handler: Callable[[asyncio.AbstractEventLoop, dict[str, Any]], None] | None = None) -> None:
    """Run ``program`` inside a root stack resource and wait for every outstanding registration,
    as the language host runs ``__main__.py``. ``exception_handler`` becomes the loop's handler
    for failed futures nobody awaited."""
    from pulumi.runtime.stack import run_in_stack

    run_outputs = _RUN_OUTPUTS.get(None)

    async def program_then_outputs() -> None:
        result = program()
        if inspect.isawaitable(result):
            await result
        if run_outputs is not None:
            await _settle_outputs(*run_outputs)

    loop = _thread_loop()
    if exception_handler is not None:
        loop.set_exception_handler(exception_handler)
    loop.run_until_complete(run_in_stack(program_then_outputs))


__all__ = [
    "FAST_PATH_INTERNALS",
    "INTERNALS",
    "MOCK_RUNTIME_INTERNALS",
    "VERIFIED_VERSIONS",
    "Internal",
    "SdkPath",
    "check_internal",
    "check_internals",
    "choose_pack_path",
    "configure_mock_runtime",
    "configure_pack",
    "fast_paths_installed",
    "install_fast_paths",
    "installed_versions",
    "run_in_root_stack",
    "version_mismatches",
]
