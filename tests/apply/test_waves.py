"""Wave planning: environments in order; shared stack, canaries, then tiers; destroy runs the shared stack last."""

from __future__ import annotations

from pathlib import Path

import pytest

from platformctl.apply.options import FailureThreshold, options_from_defaults, parse_failure_threshold
from platformctl.apply.rollout import plan_rollout
from platformctl.apply.waves import plan_waves
from ubertruck.defaults import load_defaults
from ubertruck.errors import UserError
from ubertruck.stacks import StackRef, all_stacks

from .support import ENVIRONMENTS, TIERS, options, registry, stacks_of


def _layout(operation, tenants, tmp_path: Path, concurrency: int = 2) -> list[tuple[str, list[str]]]:
    plan = plan_rollout(operation, stacks_of(tenants), tenants, options(tmp_path, concurrency=concurrency))
    return [(w.label, [s.name for s in w.stacks]) for w in plan.waves]


FLEET = {"acme": "enterprise", "globex": "standard", "initech": "basic", "umbrella": "enterprise", "hooli": "basic"}


def test_up_runs_shared_then_canaries_then_tiers_per_environment(tmp_path):
    tenants = registry(FLEET, canaries=["umbrella"])
    assert _layout("up", tenants, tmp_path) == [
        ("dev shared", ["dev"]),
        ("dev canary", ["umbrella-dev"]),
        ("dev tier basic", ["hooli-dev", "initech-dev"]),
        ("dev tier standard", ["globex-dev"]),
        ("dev tier enterprise", ["acme-dev"]),
        ("prod shared", ["prod"]),
        ("prod canary", ["umbrella-prod"]),
        ("prod tier basic", ["hooli-prod", "initech-prod"]),
        ("prod tier standard", ["globex-prod"]),
        ("prod tier enterprise", ["acme-prod"]),
    ]


@pytest.mark.parametrize("operation", ["preview", "refresh"])
def test_preview_and_refresh_order_like_up(tmp_path, operation):
    tenants = registry(FLEET, canaries=["acme"])
    assert _layout(operation, tenants, tmp_path) == _layout("up", tenants, tmp_path)


def test_destroy_runs_an_environments_tenants_before_its_shared_stack(tmp_path):
    tenants = registry(FLEET, canaries=["umbrella"])
    layout = _layout("destroy", tenants, tmp_path)
    assert [label for label, _ in layout] == [
        "dev canary", "dev tier basic", "dev tier standard", "dev tier enterprise", "dev shared",
        "prod canary", "prod tier basic", "prod tier standard", "prod tier enterprise", "prod shared",
    ]


def test_tier_order_comes_from_the_options(tmp_path):
    tenants = registry(FLEET)
    plan = plan_waves("up", stacks_of(tenants), tenants, ("enterprise", "basic", "standard"), ENVIRONMENTS, 3, None)
    assert [w.label for w in plan][:4] == ["dev shared", "dev tier enterprise", "dev tier basic", "dev tier standard"]


def test_empty_waves_are_left_out_and_every_stack_is_in_exactly_one_wave(tmp_path):
    tenants = registry({"initech": "basic"})
    stacks = stacks_of(tenants)
    plan = plan_rollout("up", stacks, tenants, options(tmp_path))
    assert [w.label for w in plan.waves] == ["dev shared", "dev tier basic", "prod shared", "prod tier basic"]
    assert sorted(s for w in plan.waves for s in w.stacks) == sorted(stacks)
    assert [w.index for w in plan.waves] == list(range(len(plan.waves)))


def test_a_tenant_filter_without_shared_stacks_plans_only_tenant_waves(tmp_path):
    tenants = registry(FLEET)
    only = all_stacks(tenants, ENVIRONMENTS, only_tenants=["globex"])  # what --tenant globex selects
    plan = plan_rollout("up", only, tenants, options(tmp_path))
    assert [w.label for w in plan.waves] == ["dev tier standard", "prod tier standard"]


def test_each_wave_gets_the_cap_and_a_failure_limit_scaled_to_its_size(tmp_path):
    tenants = registry({f"t{i}": "basic" for i in range(10)} | {"solo": "standard"})
    plan = plan_waves("up", stacks_of(tenants), tenants, TIERS, ENVIRONMENTS, 4, FailureThreshold(fraction=0.25))
    by_label = {w.label: w for w in plan}
    assert (by_label["dev tier basic"].concurrency, by_label["dev tier basic"].failure_limit) == (4, 3)  # ceil(0.25 * 10)
    assert (by_label["dev tier standard"].concurrency, by_label["dev tier standard"].failure_limit) == (1, 1)


def test_a_failure_count_larger_than_a_wave_stops_when_the_whole_wave_failed():
    assert FailureThreshold(count=5).limit_for(2) == 2
    assert FailureThreshold(count=2).limit_for(10) == 2
    assert FailureThreshold(fraction=0.01).limit_for(10) == 1


def test_a_tier_missing_from_the_tier_order_is_a_clear_error(tmp_path):
    tenants = registry({"acme": "enterprise"})
    with pytest.raises(UserError, match="rollout.tier_order.*'enterprise'"):
        plan_waves("up", stacks_of(tenants), tenants, ("basic", "standard"), ENVIRONMENTS, 2, None)


def test_a_stack_listed_twice_is_refused(tmp_path):
    tenants = registry({"acme": "enterprise"})
    twice = stacks_of(tenants) + [StackRef("acme-dev", "dev", "acme")]
    with pytest.raises(UserError, match="acme-dev"):
        plan_waves("up", twice, tenants, TIERS, ENVIRONMENTS, 2, None)


def test_a_tenant_stack_whose_tenant_is_not_in_the_registry_is_refused():
    with pytest.raises(UserError, match="ghost"):
        plan_waves("up", [StackRef("ghost-dev", "dev", "ghost")], {}, TIERS, ENVIRONMENTS, 2, None)


def test_the_shipped_tier_order_lists_every_declared_tier():
    defaults = load_defaults()
    assert sorted(defaults.rollout.tier_order) == sorted(defaults.tiers)


def test_options_come_from_defaults_and_the_command_line_overrides_them(tmp_path):
    section = load_defaults().rollout
    plain = options_from_defaults("up", log_dir=tmp_path)
    assert plain.concurrency == section.concurrency
    assert plain.retry.max_attempts == section.retry.max_attempts
    assert plain.report_path == tmp_path / section.report_file
    overridden = options_from_defaults("up", concurrency=section.concurrency + 1, failure_threshold="7", log_dir=tmp_path)
    assert overridden.concurrency == section.concurrency + 1
    assert overridden.failure_threshold == FailureThreshold(count=7)


def test_without_a_log_dir_each_run_gets_its_own_folder_under_the_log_root():
    options_ = options_from_defaults("destroy")
    assert options_.log_dir.parent.name == Path(load_defaults().rollout.log_root).name
    assert options_.log_dir.name.startswith("destroy-")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("3", FailureThreshold(count=3)), ("0.1", FailureThreshold(fraction=0.1)), ("25%", FailureThreshold(fraction=0.25)), ("1.0", FailureThreshold(fraction=1.0))],
)
def test_failure_threshold_flag_forms(text, expected):
    assert parse_failure_threshold(text) == expected


@pytest.mark.parametrize("text", ["0", "-1", "1.5", "150%", "lots", ""])
def test_bad_failure_threshold_flags_are_usage_errors(text):
    with pytest.raises(UserError, match="--failure-threshold"):
        parse_failure_threshold(text)


def test_a_concurrency_below_one_is_a_usage_error(tmp_path):
    with pytest.raises(UserError, match="--concurrency"):
        options(tmp_path, concurrency=0)
