"""Physical-name claims: which resources claim which names, in which namespace, and when two
claims collide."""

from __future__ import annotations

import json
from typing import Any

from platformctl.engine.capture import CapturedResource
from platformctl.engine.names import collisions, stack_claims

ACCOUNT_A, ACCOUNT_B = "111111111111", "222222222222"
REGION = "ap-south-1"


def _provider(stack: str, name: str, region: str | None, accounts: list[str] | None) -> CapturedResource:
    inputs: dict[str, Any] = {}
    if region:
        inputs["region"] = region
    if accounts is not None:
        inputs["allowedAccountIds"] = json.dumps(accounts)  # as the AWS SDK sends it
    return CapturedResource(
        urn=f"urn:pulumi:{stack}::ubertruck::pulumi:providers:aws::{name}", type="pulumi:providers:aws", name=name, parent="",
        custom=True, provider="", dependencies=[], property_dependencies={}, wire_inputs=inputs,
    )


def _resource(stack: str, type_: str, name: str, inputs: dict[str, Any], provider: CapturedResource | None) -> CapturedResource:
    reference = f"{provider.urn}::{provider.name}" if provider else f"urn:pulumi:{stack}::ubertruck::pulumi:providers:aws::default_7_0_0::id"
    return CapturedResource(
        urn=f"urn:pulumi:{stack}::ubertruck::{type_}::{name}", type=type_, name=name, parent="", custom=True,
        provider=reference, dependencies=[], property_dependencies={}, wire_inputs=inputs,
    )


def _stack(stack: str, region: str, account: str, *resources: tuple[str, dict[str, Any]]) -> list[CapturedResource]:
    """A stack with one pinned provider and ``resources`` (type, inputs) through it."""
    provider = _provider(stack, f"{stack}-aws", region, [account])
    return [provider, *(_resource(stack, t, f"r{i}", inputs, provider) for i, (t, inputs) in enumerate(resources))]


def _collide(a: list[CapturedResource], b: list[CapturedResource]) -> list[str]:
    claims = [*stack_claims("a", a, ACCOUNT_A, REGION), *stack_claims("b", b, ACCOUNT_A, REGION)]
    return [col.claims[0].name for col in collisions(claims)]


PARAM = ("aws:ssm/parameter:Parameter", {"name": "/acme/global/security/x"})
ROLE = ("aws:iam/role:Role", {"name": "acme-dev-booking"})
BUCKET = ("aws:s3/bucket:Bucket", {"bucket": "ubertruck-artifacts"})


def test_one_name_in_one_account_and_region_collides() -> None:
    assert _collide(_stack("a", REGION, ACCOUNT_A, PARAM), _stack("b", REGION, ACCOUNT_A, PARAM)) == ["/acme/global/security/x"]


def test_other_accounts_and_regions_hold_their_own_regional_names() -> None:
    assert _collide(_stack("a", REGION, ACCOUNT_A, PARAM), _stack("b", REGION, ACCOUNT_B, PARAM)) == []
    assert _collide(_stack("a", REGION, ACCOUNT_A, PARAM), _stack("b", "eu-west-1", ACCOUNT_A, PARAM)) == []


def test_iam_names_span_regions_and_bucket_names_span_accounts() -> None:
    assert _collide(_stack("a", REGION, ACCOUNT_A, ROLE), _stack("b", "eu-west-1", ACCOUNT_A, ROLE)) == ["acme-dev-booking"]
    assert _collide(_stack("a", REGION, ACCOUNT_A, ROLE), _stack("b", REGION, ACCOUNT_B, ROLE)) == []
    assert _collide(_stack("a", REGION, ACCOUNT_A, BUCKET), _stack("b", "eu-west-1", ACCOUNT_B, BUCKET)) == ["ubertruck-artifacts"]


def test_kinds_are_separate_namespaces() -> None:
    topic = ("aws:sns/topic:Topic", {"name": "acme-dev-events"})
    queue = ("aws:sqs/queue:Queue", {"name": "acme-dev-events"})
    assert _collide(_stack("a", REGION, ACCOUNT_A, topic), _stack("b", REGION, ACCOUNT_A, queue)) == []


def test_names_within_a_parent_collide_only_in_that_parent() -> None:
    def group(pool: str) -> tuple[str, dict[str, Any]]:
        return ("aws:cognito/userGroup:UserGroup", {"name": "admin", "userPoolId": pool})

    assert _collide(_stack("a", REGION, ACCOUNT_A, group("pool-1")), _stack("b", REGION, ACCOUNT_A, group("pool-2"))) == []
    assert _collide(_stack("a", REGION, ACCOUNT_A, group("pool-1")), _stack("b", REGION, ACCOUNT_A, group("pool-1"))) == ["admin"]


def test_auto_named_resources_claim_nothing() -> None:
    assert stack_claims("a", _stack("a", REGION, ACCOUNT_A, ("aws:sns/topic:Topic", {"kmsMasterKeyId": "k"})), ACCOUNT_A, REGION) == []


def test_two_claims_in_one_stack_collide_too() -> None:
    claims = stack_claims("a", _stack("a", REGION, ACCOUNT_A, PARAM, PARAM), ACCOUNT_A, REGION)
    assert len(collisions(claims)) == 1


def test_a_claim_takes_its_providers_account_and_region() -> None:
    (claim,) = stack_claims("a", _stack("a", "eu-west-1", ACCOUNT_B, PARAM), ACCOUNT_A, REGION)
    assert (claim.account, claim.region) == (ACCOUNT_B, "eu-west-1")


def test_an_unpinned_provider_falls_back_to_the_stacks_account_and_region() -> None:
    loose = _resource("a", PARAM[0], "loose", PARAM[1], None)
    unpinned = _provider("a", "unpinned", None, None)
    through = _resource("a", PARAM[0], "through", {"name": "/acme/other"}, unpinned)
    claims = {c.name: c for c in stack_claims("a", [loose, unpinned, through], ACCOUNT_A, REGION)}
    assert (claims["/acme/global/security/x"].account, claims["/acme/global/security/x"].region) == (ACCOUNT_A, REGION)
    assert (claims["/acme/other"].account, claims["/acme/other"].region) == (ACCOUNT_A, REGION)
