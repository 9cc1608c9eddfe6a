"""The SDK compatibility module: its internals pinned at the installed versions, a renamed one
caught here (not at pack start-up), and the fast paths chosen only offline at the verified
versions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import policy as servicer_module
from pulumi_policy.proxy import UNKNOWN_NUMBER_VALUE, UNKNOWN_STRING_VALUE, unknown_checking_proxy

from policies import sdk_compat
from policies.rules.sdk import plain
from policies.sdk_compat import INTERNALS, VERIFIED_VERSIONS, check_internal, check_internals
from ubertruck import PROJECT_ROOT
from ubertruck.defaults import load_defaults

OFFLINE_VARIABLE = load_defaults().offline.pack_fast_paths_env_var
REPORT_VARIABLE = load_defaults().offline.pack_sdk_path_report_env_var
SERVICER = servicer_module._PolicyAnalyzerServicer


def _internal(attribute: str) -> sdk_compat.Internal:
    return next(i for i in INTERNALS if i.attribute == attribute)


# ----------------------------------------------------------------------------------------
# Pins
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("internal", INTERNALS, ids=lambda i: i.name)
def test_each_internal_exists_with_its_pinned_shape(internal: sdk_compat.Internal) -> None:
    assert check_internal(internal) is None


def test_the_installed_sdks_are_the_verified_versions() -> None:
    assert sdk_compat.version_mismatches() == []


def _pins(requirements: Path) -> dict[str, str]:
    pins = {}
    for line in requirements.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", line.strip())
        if match:
            pins[match.group(1).lower()] = match.group(2)
    return pins


@pytest.mark.parametrize("requirements", ["requirements.txt", "policies/security/requirements.txt", "policies/platform/requirements.txt"])
def test_the_verified_versions_are_the_pinned_requirements(requirements: str) -> None:
    # Bumping a pin without re-checking the internals (and VERIFIED_VERSIONS) fails here.
    pins = _pins(PROJECT_ROOT / requirements)
    assert {name: pins.get(name) for name in VERIFIED_VERSIONS} == dict(VERIFIED_VERSIONS)


def test_a_renamed_internal_fails_its_pin(monkeypatch: pytest.MonkeyPatch) -> None:
    internal = _internal("_PolicyAnalyzerServicer._get_resource_options")
    original = SERVICER._get_resource_options
    monkeypatch.delattr(SERVICER, "_get_resource_options")
    monkeypatch.setattr(SERVICER, "_resource_options", original, raising=False)  # the "new" name
    problem = check_internal(internal)
    assert problem is not None and "_get_resource_options: missing" in problem
    assert problem in check_internals()


def test_a_renamed_module_global_fails_its_pin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(servicer_module, "unknown_checking_proxy")
    assert check_internal(_internal("unknown_checking_proxy")) is not None


def test_a_changed_signature_fails_its_pin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(servicer_module, "deserialize_properties", lambda props, proxy_secrets=False, keep_unknowns=False: props)
    problem = check_internal(_internal("deserialize_properties"))
    assert problem is not None and "keep_unknowns" in problem


def test_a_method_that_stops_reading_the_patched_globals_fails_its_pin(monkeypatch: pytest.MonkeyPatch) -> None:
    # If Analyze no longer looked up json_format at call time, replacing it would do nothing.
    monkeypatch.setattr(SERVICER, "Analyze", lambda self, request, _context: None)
    problem = check_internal(_internal("_PolicyAnalyzerServicer.Analyze"))
    assert problem is not None and "no longer looks up" in problem


def test_a_renamed_mock_runtime_internal_fails_its_pin(monkeypatch: pytest.MonkeyPatch) -> None:
    from pulumi.runtime import settings as runtime_settings

    monkeypatch.delattr(runtime_settings.Settings, "outputs")
    assert check_internal(_internal("Settings.outputs")) is not None


# ----------------------------------------------------------------------------------------
# Which path a pack takes
# ----------------------------------------------------------------------------------------


def test_without_the_offline_variable_a_pack_takes_the_stock_path() -> None:
    path = sdk_compat.choose_pack_path(OFFLINE_VARIABLE, environ={})
    assert not path.fast_paths and OFFLINE_VARIABLE in path.reason


def test_offline_at_the_verified_versions_a_pack_takes_the_fast_paths() -> None:
    assert sdk_compat.choose_pack_path(OFFLINE_VARIABLE, environ={OFFLINE_VARIABLE: "1"}).fast_paths


@pytest.mark.parametrize("distribution", sorted(VERIFIED_VERSIONS))
def test_offline_with_any_version_differing_a_pack_takes_the_stock_path(distribution: str) -> None:
    installed = {**VERIFIED_VERSIONS, distribution: VERIFIED_VERSIONS[distribution] + ".post1"}
    path = sdk_compat.choose_pack_path(OFFLINE_VARIABLE, environ={OFFLINE_VARIABLE: "1"}, installed=installed)
    assert not path.fast_paths and distribution in path.reason


def test_offline_with_a_renamed_internal_a_pack_still_starts_on_the_stock_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(SERVICER, "_get_provider_resource")
    path = sdk_compat.choose_pack_path(OFFLINE_VARIABLE, environ={OFFLINE_VARIABLE: "1"})
    assert not path.fast_paths and "_get_provider_resource" in path.reason


def _restore_servicer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Undo whatever an install does to this process when the test ends."""
    for name in ("json_format", "deserialize_properties", "unknown_checking_proxy"):
        monkeypatch.setattr(servicer_module, name, getattr(servicer_module, name))
    for name in ("_get_resource_options", "_get_provider_resource", "Analyze", "AnalyzeStack"):
        monkeypatch.setattr(SERVICER, name, getattr(SERVICER, name))


def test_configure_pack_installs_nothing_when_a_version_differs(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _restore_servicer(monkeypatch)
    assert not sdk_compat.fast_paths_installed()
    installed = {**VERIFIED_VERSIONS, "pulumi": "0.0.0"}
    path = sdk_compat.configure_pack(OFFLINE_VARIABLE, REPORT_VARIABLE, environ={OFFLINE_VARIABLE: "1", REPORT_VARIABLE: "1"}, installed=installed)
    assert not path.fast_paths
    assert not sdk_compat.fast_paths_installed()
    assert capsys.readouterr().err.startswith("sdk path: stock (installed versions differ")


def test_configure_pack_installs_the_fast_paths_offline_and_reports_only_when_asked(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _restore_servicer(monkeypatch)
    assert sdk_compat.configure_pack(OFFLINE_VARIABLE, REPORT_VARIABLE, environ={OFFLINE_VARIABLE: "1"}).fast_paths
    assert sdk_compat.fast_paths_installed()
    assert capsys.readouterr().err == ""


def test_install_is_idempotent_and_keeps_the_servicer_methods_equivalent(monkeypatch: pytest.MonkeyPatch) -> None:
    _restore_servicer(monkeypatch)
    original_options = SERVICER._get_resource_options
    sdk_compat.install_fast_paths()
    installed = servicer_module.json_format.MessageToDict
    sdk_compat.install_fast_paths()
    assert servicer_module.json_format.MessageToDict is installed
    request = analyzer_pb2.AnalyzeRequest(urn="urn:x", options=analyzer_pb2.AnalyzerResourceOptions(protect=True, parent="urn:p"))
    assert _fields(SERVICER._get_resource_options(None, request)) == _fields(original_options(None, request))


def _fields(options: object) -> dict:
    return {k: vars(v) if hasattr(v, "__dict__") else v for k, v in vars(options).items()}


# ----------------------------------------------------------------------------------------
# The rules' view of the SDK's proxies, through their public face only
# ----------------------------------------------------------------------------------------

_leaves = st.none() | st.booleans() | st.integers(-(2**31), 2**31) | st.text(max_size=6) | st.sampled_from([UNKNOWN_STRING_VALUE, UNKNOWN_NUMBER_VALUE])
_values = st.recursive(_leaves, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4), max_leaves=25)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=8), _values, max_size=5))
def test_plain_gives_back_exactly_what_the_proxy_wraps_unknowns_included(document: dict) -> None:
    assert plain(unknown_checking_proxy(document)) == document


def test_outputs_are_settled_in_passes_including_those_created_meanwhile() -> None:
    import asyncio
    import threading

    from policies.sdk_compat import _settle_outputs

    finished: list[str] = []
    outputs: set[asyncio.Task[None]] = set()
    lock = threading.Lock()

    async def later(name: str) -> None:
        await asyncio.sleep(0)
        finished.append(name)

    async def spawning() -> None:
        await asyncio.sleep(0)
        with lock:  # an output that creates another while the first pass waits, as applies do
            outputs.add(asyncio.ensure_future(later("second pass")))
        finished.append("first pass")

    async def main() -> None:
        outputs.add(asyncio.ensure_future(spawning()))
        await _settle_outputs(outputs, lock)

    asyncio.run(main())
    assert sorted(finished) == ["first pass", "second pass"] and outputs == set()


def test_a_failed_output_is_raised_by_the_settling_pass() -> None:
    import asyncio
    import threading

    from policies.sdk_compat import _settle_outputs

    async def fails() -> None:
        raise ValueError("registration failed")

    async def never() -> None:
        await asyncio.Event().wait()

    async def main() -> None:
        outputs = {asyncio.ensure_future(fails()), asyncio.ensure_future(never())}
        try:
            await _settle_outputs(outputs, threading.Lock())
        finally:
            # The pass stopped at the failure: the output still waiting is put back, not lost.
            assert len(outputs) == 1
            for task in outputs:
                task.cancel()

    with pytest.raises(ValueError, match="registration failed"):
        asyncio.run(main())
