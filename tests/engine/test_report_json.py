"""The plan's JSON: each resource carries the provider it lands through, with account and region."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from platformctl.engine import report
from platformctl.engine.plan import PlannedStack
from platformctl.engine.runner import run_stack
from ubertruck.stacks import StackRef

ACCOUNT = "123456789012"


class _Box(pulumi.ComponentResource):
    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ubertruck:test:Box", name, None, opts)
        aws.sns.Topic(f"{name}-topic", name=f"{name}-topic", opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({})


def _program() -> None:
    pinned = aws.Provider("pinned", region="eu-west-1", allowed_account_ids=[ACCOUNT])
    _Box("acme-dev", opts=pulumi.ResourceOptions(providers={"aws": pinned}))
    aws.sns.Topic("loose", name="loose")


def _document() -> dict:
    run = run_stack("acme-dev", "ubertruck", ACCOUNT, "ap-south-1", {}, "organization", program=_program, config={})
    stack = PlannedStack(
        ref=StackRef(name="acme-dev", environment="dev", tenant_id="acme"), source="", resource_count=len(run.resources),
        outputs={}, _resources=[r.to_dict() for r in run.resources],
    )
    (planned,) = report.to_json([stack])["stacks"]
    return {r["name"]: r for r in planned["resources"]}


def test_resources_carry_their_providers_account_and_region() -> None:
    resources = _document()
    assert resources["acme-dev-topic"]["provider"] == {
        "urn": "urn:pulumi:acme-dev::ubertruck::pulumi:providers:aws::pinned",
        "account": ACCOUNT,
        "region": "eu-west-1",
    }


def test_a_default_provider_is_reported_with_no_account_or_region() -> None:
    provider = _document()["loose"]["provider"]
    assert provider["account"] is None and provider["region"] is None
    assert "::pulumi:providers:aws::default_" in provider["urn"]


def test_components_and_providers_have_no_provider() -> None:
    resources = _document()
    assert resources["acme-dev"]["provider"] is None
    assert resources["pinned"]["provider"] is None
