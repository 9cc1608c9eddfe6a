"""Names and accounts across every stack of the shipped registry.

* No two resources, in any two stacks, claim one physical name in one namespace of one account
  and region (``platformctl.engine.names``); and the check does catch a claim made twice, for
  example when two environments are configured into one account.
* Every AWS resource of every stack is created through an explicit provider that pins exactly
  its environment's account (``allowedAccountIds``) and sets the stack's region.
"""

from __future__ import annotations

import pytest

from platformctl.engine.capture import CapturedResource
from platformctl.engine.names import NameClaim, collisions, stack_claims
from platformctl.engine.providers import facts_for, provider_facts
from platformctl.engine.runner import run_stack
from ubertruck.defaults import PlatformDefaults
from ubertruck.registry.loader import REGISTRY_DIR, load_registry
from ubertruck.stacks import StackRef, all_stacks, parse_stack_name

from .conftest import DEFAULTS, PROJECT, Plan, PlanStore, account_of, stack_run_config

REGISTRY = load_registry()
REGISTRY.raise_for_errors()
#: Every stack of the shipped registry: the shared stack of each environment, then its tenants'.
STACKS = all_stacks(REGISTRY.tenants, DEFAULTS.platform.environments)


def _ref(stack: str) -> StackRef:
    return parse_stack_name(stack, DEFAULTS.platform.environments)


def _claims(stack: str, resources: list[CapturedResource], account: str) -> list[NameClaim]:
    _, _, region = stack_run_config(_ref(stack), REGISTRY_DIR)
    return stack_claims(stack, resources, default_account=account, default_region=region)


@pytest.fixture(scope="module")
def every_plan(plans: PlanStore) -> dict[str, Plan]:
    return {ref.name: plans.plan(ref.name) for ref in STACKS}


@pytest.fixture(scope="module")
def every_claim(every_plan: dict[str, Plan]) -> list[NameClaim]:
    return [c for name, plan in every_plan.items() for c in _claims(name, plan.resources, plan.account)]


# ----------------------------------------------------------------------------- names


def test_the_registry_has_shared_and_tenant_stacks_in_every_environment() -> None:
    # What the checks below range over; a registry shrunk to one stack would prove nothing.
    for env in DEFAULTS.platform.environments:
        assert env in {s.name for s in STACKS}
        assert any(s.tenant_id and s.environment == env for s in STACKS)


def test_every_stack_claims_names_of_every_named_kind(every_claim: list[NameClaim]) -> None:
    kinds = {c.type for c in every_claim}
    for kind in (
        "aws:ssm/parameter:Parameter",
        "aws:dynamodb/table:Table",
        "aws:cloudwatch/logGroup:LogGroup",
        "aws:iam/role:Role",
        "aws:kms/alias:Alias",
        "aws:lambda/function:Function",
        "aws:lambda/layerVersion:LayerVersion",
        "aws:sqs/queue:Queue",
        "aws:sns/topic:Topic",
        "aws:secretsmanager/secret:Secret",
        "aws:cognito/userPool:UserPool",
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        "aws:cloudwatch/dashboard:Dashboard",
        "aws:s3/bucket:Bucket",
        "aws:apigateway/restApi:RestApi",
        "aws:codepipeline/pipeline:Pipeline",
        "aws:codebuild/project:Project",
    ):
        assert kind in kinds
    assert {c.stack for c in every_claim} == {s.name for s in STACKS}


def test_no_two_resources_claim_one_name_in_one_account_and_region(every_claim: list[NameClaim]) -> None:
    found = collisions(every_claim)
    assert not found, "\n".join(c.describe() for c in found)


def test_the_check_catches_a_name_claimed_twice(every_plan: dict[str, Plan]) -> None:
    # The shared dev stack planned a second time, as if it were another stack in the same account.
    dev = every_plan["dev"]
    region = stack_run_config(_ref("dev"), REGISTRY_DIR)[2]
    claims = [stack_claims(label, dev.resources, dev.account, region) for label in ("dev", "dev-again")]
    found = collisions([*claims[0], *claims[1]])
    assert found
    assert {c.stack for col in found for c in col.claims} == {"dev", "dev-again"}
    assert any(col.claims[0].type == "aws:iam/role:Role" for col in found)


def _one_account(defaults: PlatformDefaults, environment: str, into: str) -> PlatformDefaults:
    """``defaults`` with ``environment`` configured into the account of ``into``."""
    moved = defaults.environments[environment].model_copy(update={"account_id": defaults.environments[into].account_id})
    return defaults.model_copy(update={"environments": {**defaults.environments, environment: moved}})


def test_two_environments_configured_into_one_account_are_caught(
    plans: PlanStore, every_plan: dict[str, Plan], monkeypatch: pytest.MonkeyPatch
) -> None:
    """acme-prod re-planned with prod configured into the dev account: the tenant's global config
    namespace (``/acme/global/...``, which names no environment) is then claimed twice."""
    merged = _one_account(DEFAULTS, "prod", into="dev")
    # The program reads the defaults through load_defaults (``__main__.py``).
    monkeypatch.setattr("ubertruck.defaults.load_defaults", lambda *args, **kwargs: merged)
    ref = _ref("acme-prod")
    config, organization, region = stack_run_config(ref, REGISTRY_DIR)
    shared = {f"{organization}/{PROJECT}/prod": every_plan["prod"].outputs}
    run = run_stack(ref.name, PROJECT, account_of("dev"), region, shared, organization, config=config)
    moved = _claims("acme-prod", run.resources, account_of("dev"))
    assert {c.account for c in moved if c.account} == {account_of("dev")}

    acme_dev = every_plan["acme-dev"]
    found = collisions([*_claims("acme-dev", acme_dev.resources, account_of("dev")), *moved])
    global_namespace = {
        r.inputs["name"] for r in acme_dev.of_type("aws:ssm/parameter:Parameter") if r.inputs["name"].startswith("/acme/global/")
    }
    assert global_namespace
    assert {col.claims[0].name for col in found} == global_namespace
    assert all({c.stack for c in col.claims} == {"acme-dev", "acme-prod"} for col in found)


# ----------------------------------------------------------------------------- accounts


def test_every_aws_resource_goes_through_a_provider_pinned_to_its_environment(every_plan: dict[str, Plan]) -> None:
    for stack, plan in every_plan.items():
        ref = _ref(stack)
        account = account_of(ref.environment)
        home = REGISTRY.tenants[ref.tenant_id].region if ref.tenant_id else stack_run_config(ref, REGISTRY_DIR)[2]
        providers = provider_facts(plan.resources)
        assert providers, stack
        for facts in providers.values():
            assert facts.allowed_account_ids == [account], f"{stack}: provider {facts.urn}"
        custom = [r for r in plan.resources if r.custom and r.type.startswith("aws:")]
        assert custom
        for resource in custom:
            facts = facts_for(resource, providers)
            assert facts is not None and not facts.default and facts.urn in providers, f"{stack}: {resource.urn} uses the default provider"
            assert facts.account == account, resource.urn
            # Tenant stacks live in their registry region; the shared stack also has one provider
            # per other tenant region (alarm topics), each of those regions.
            if ref.tenant_id:
                assert facts.region == home, resource.urn


def test_environments_are_in_different_accounts() -> None:
    accounts = [account_of(env) for env in DEFAULTS.platform.environments]
    assert len(set(accounts)) == len(accounts)
