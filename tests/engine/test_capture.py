"""The offline engine records registrations the way the real engine sees them."""

from __future__ import annotations

import re

import pulumi
import pulumi_aws as aws
import pytest

from platformctl.engine.capture import SECRET_MASK
from platformctl.engine.runner import ProgramError, run_stack

ACCOUNT = "123456789012"


class _Box(pulumi.ComponentResource):
    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ubertruck:test:Box", name, None, opts)
        self.key = aws.kms.Key(f"{name}-key", enable_key_rotation=True, opts=pulumi.ResourceOptions(parent=self))
        self.table = aws.dynamodb.Table(
            f"{name}-table",
            name=f"{name}-bookings",
            hash_key="pk",
            attributes=[{"name": "pk", "type": "S"}],
            server_side_encryption={"enabled": True, "kms_key_arn": self.key.arn},
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.param = aws.ssm.Parameter(
            f"{name}-param", name="/acme/x", type="SecureString", value="plain-text", key_id=self.key.arn,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({})


def _program() -> None:
    provider = aws.Provider("regional", region="eu-west-1")
    box = _Box("acme-dev", opts=pulumi.ResourceOptions(providers=[provider]))
    aws.sns.Topic("loose", name="loose")
    pulumi.export("table_arn", box.table.arn)


@pytest.fixture(scope="module")
def run():
    return run_stack("acme-dev", "ubertruck", ACCOUNT, "ap-south-1", {}, "organization", program=_program, config={})


def _by_name(run, name):
    return next(r for r in run.resources if r.name == name)


def test_urns_follow_the_engine_rules(run):
    stack = _by_name(run, "ubertruck-acme-dev")
    assert stack.urn == "urn:pulumi:acme-dev::ubertruck::pulumi:pulumi:Stack::ubertruck-acme-dev"
    # Children of the root stack do not carry the stack's type; children of components do.
    assert _by_name(run, "acme-dev").urn == "urn:pulumi:acme-dev::ubertruck::ubertruck:test:Box::acme-dev"
    assert _by_name(run, "acme-dev-key").urn == (
        "urn:pulumi:acme-dev::ubertruck::ubertruck:test:Box$aws:kms/key:Key::acme-dev-key"
    )
    assert _by_name(run, "loose").urn == "urn:pulumi:acme-dev::ubertruck::aws:sns/topic:Topic::loose"


def test_parent_dependencies_and_camel_case_inputs(run):
    table = _by_name(run, "acme-dev-table")
    key = _by_name(run, "acme-dev-key")
    assert table.parent == _by_name(run, "acme-dev").urn
    assert key.urn in table.dependencies
    assert re.fullmatch(rf"arn:aws:kms:eu-west-1:{ACCOUNT}:key/[0-9a-f-]{{36}}", table.inputs["serverSideEncryption"]["kmsKeyArn"])
    assert table.property_dependencies["serverSideEncryption"] == [key.urn]
    assert table.inputs["hashKey"] == "pk"
    assert table.custom is True and _by_name(run, "acme-dev").custom is False


def test_explicit_and_default_providers(run):
    table = _by_name(run, "acme-dev-table")
    assert table.provider.startswith("urn:pulumi:acme-dev::ubertruck::pulumi:providers:aws::regional::")
    loose = _by_name(run, "loose")
    assert "::pulumi:providers:aws::default_" in loose.provider
    # The provider's region drives the fabricated ARNs.
    assert run.outputs["table_arn"] == f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/acme-dev-bookings"
    assert _by_name(run, "loose").inputs["name"] == "loose"


def test_secrets_are_masked_in_the_plain_view_and_kept_on_the_wire(run):
    param = _by_name(run, "acme-dev-param")
    assert param.inputs["value"] == SECRET_MASK
    assert "plain-text" not in str(param.report_view())
    assert "plain-text" in str(param.wire_inputs)


def test_stacks_do_not_leak_state_into_each_other():
    first = run_stack("a-dev", "ubertruck", ACCOUNT, "ap-south-1", {}, "organization", program=_program, config={})
    second = run_stack("b-dev", "ubertruck", ACCOUNT, "ap-south-1", {}, "organization", program=_program, config={})
    assert len(first.resources) == len(second.resources)
    assert all(r.urn.startswith("urn:pulumi:b-dev::") for r in second.resources)


def test_program_failure_names_the_stack():
    def broken() -> None:
        raise ValueError("boom")

    with pytest.raises(ProgramError, match="stack 'x-dev': program failed"):
        run_stack("x-dev", "ubertruck", ACCOUNT, "ap-south-1", {}, "organization", program=broken, config={})


def test_stack_reference_reads_the_given_outputs():
    def program() -> None:
        ref = pulumi.StackReference("organization/ubertruck/dev")
        pulumi.export("topic", ref.get_output("alarm_topic_arn"))

    outputs = {"organization/ubertruck/dev": {"alarm_topic_arn": "arn:aws:sns:ap-south-1:1:t"}}
    run = run_stack("acme-dev", "ubertruck", ACCOUNT, "ap-south-1", outputs, "organization", program=program, config={})
    assert run.outputs["topic"] == "arn:aws:sns:ap-south-1:1:t"
    assert any(r.type == "pulumi:pulumi:StackReference" and r.read for r in run.resources)


# ----------------------------------------------------------------------------- accounts


def _pinned(accounts: list[str]):
    def program() -> None:
        provider = aws.Provider("pinned", region="eu-west-1", allowed_account_ids=accounts)
        topic = aws.sns.Topic("t", name="t", opts=pulumi.ResourceOptions(provider=provider))
        pulumi.export("topic_arn", topic.arn)

    return program


def test_a_provider_pinned_to_the_account_works_and_arns_name_that_account():
    run = run_stack("acme-dev", "ubertruck", ACCOUNT, "ap-south-1", {}, "organization", program=_pinned([ACCOUNT]), config={})
    assert _by_name(run, "t").provider.startswith("urn:pulumi:acme-dev::ubertruck::pulumi:providers:aws::pinned::")
    assert run.outputs["topic_arn"] == f"arn:aws:sns:eu-west-1:{ACCOUNT}:t"


def test_a_provider_pinned_to_another_account_fails_like_the_aws_provider():
    with pytest.raises(ProgramError, match=f"stack 'acme-dev'.*AWS account ID not allowed: {ACCOUNT}"):
        run_stack("acme-dev", "ubertruck", ACCOUNT, "ap-south-1", {}, "organization", program=_pinned(["210987654321"]), config={})


def test_disabled_default_providers_refuse_a_resource_without_an_explicit_one():
    def program() -> None:
        aws.sns.Topic("loose", name="loose")

    config = {"pulumi:disable-default-providers": '["aws"]'}
    with pytest.raises(ProgramError, match="default provider for 'aws' disabled: 'aws:sns/topic:Topic::loose' must use an explicit provider"):
        run_stack("acme-dev", "ubertruck", ACCOUNT, "ap-south-1", {}, "organization", program=program, config=config)
    # Explicit providers still work with the default one disabled.
    pinned = run_stack("acme-dev", "ubertruck", ACCOUNT, "ap-south-1", {}, "organization", program=_pinned([ACCOUNT]), config=config)
    assert _by_name(pinned, "t").inputs["name"] == "t"


def test_a_failed_run_leaves_nothing_behind_for_the_next_run_in_the_process():
    # A program that stops while a failed provider's outputs are still pending once left them in
    # a set every run shares; the next run awaited them and failed with the earlier run's error.
    def stops_early() -> None:
        provider = aws.Provider("pinned", region="eu-west-1", allowed_account_ids=["210987654321"])
        aws.sns.Topic("t", name="t", opts=pulumi.ResourceOptions(provider=provider))
        # The invoke waits for the provider, which failed: the program stops here.
        aws.get_caller_identity(opts=pulumi.InvokeOptions(provider=provider))

    with pytest.raises(ProgramError):
        run_stack("acme-dev", "ubertruck", ACCOUNT, "ap-south-1", {}, "organization", program=stops_early, config={})
    run = run_stack("acme-dev", "ubertruck", ACCOUNT, "ap-south-1", {}, "organization", program=_pinned([ACCOUNT]), config={})
    assert run.outputs["topic_arn"] == f"arn:aws:sns:eu-west-1:{ACCOUNT}:t"
