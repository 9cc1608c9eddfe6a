"""DeploymentPipeline under the offline engine: bucket, build projects, pipeline, IAM."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from components.pipeline import PLATFORMCTL, health_alarms
from platformctl.engine.runner import stack_config
from ubertruck import PROJECT_ROOT
from ubertruck.defaults import load_defaults
from ubertruck.stacks import TenantStack

from .conftest import DEV_ACCOUNT, Plan, account_of, policy_of

PIPELINE = "ubertruck:pipeline:DeploymentPipeline"
PROJECT = "aws:codebuild/project:Project"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"


def bucket(env: str) -> str:
    """The artifact bucket of ``env``'s shared stack: its account and region make it unique."""
    return f"ubertruck-{env}-artifacts-{account_of(env)}-ap-south-1"


#: The dev shared stack's config (``Pulumi.dev.yaml``), which the pipeline reads.
PIPELINE_CONFIG = stack_config(PROJECT_ROOT, "dev")


@pytest.fixture(scope="module")
def dev(shared_dev: Plan) -> Plan:
    return shared_dev


@pytest.fixture(scope="module")
def prod(shared_prod: Plan) -> Plan:
    return shared_prod


def _bucket_part(plan: Plan, type_: str, env: str, suffix: str) -> dict[str, Any]:
    return plan.named(type_, f"{bucket(env)}-{suffix}").inputs


def _pipeline(plan: Plan) -> dict[str, Any]:
    (pipeline,) = plan.of_type("aws:codepipeline/pipeline:Pipeline")
    return pipeline.inputs


def _stage(plan: Plan, name: str) -> dict[str, Any]:
    (stage,) = [s for s in _pipeline(plan)["stages"] if s["name"] == name]
    return stage


def _buildspec(plan: Plan, project: str) -> dict[str, Any]:
    return yaml.safe_load(plan.named(PROJECT, project).inputs["source"]["buildspec"])


def _commands(spec: dict[str, Any]) -> list[str]:
    return [c for phase in spec["phases"].values() for c in phase["commands"]]


# --------------------------------------------------------------------------- artifact bucket


def test_artifact_bucket_is_versioned_and_encrypted_with_the_platform_key(dev: Plan) -> None:
    assert _bucket_part(dev, "aws:s3/bucketVersioning:BucketVersioning", "dev", "versioning")["versioningConfiguration"] == {"status": "Enabled"}
    (rule,) = _bucket_part(dev, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "dev", "encryption")["rules"]
    default = rule["applyServerSideEncryptionByDefault"]
    assert default["sseAlgorithm"] == "aws:kms"
    key = dev.named("aws:kms/key:Key", "ubertruck-dev-platform")
    assert key.inputs["enableKeyRotation"] is True
    encryption = dev.named("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", f"{bucket('dev')}-encryption")
    assert encryption.property_dependencies["rules"] == [key.urn]


def test_artifact_bucket_blocks_public_access(dev: Plan) -> None:
    block = _bucket_part(dev, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "dev", "public-access")
    assert all(block[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))


def test_artifact_bucket_policy_denies_requests_without_tls(dev: Plan) -> None:
    policy = json.loads(_bucket_part(dev, "aws:s3/bucketPolicy:BucketPolicy", "dev", "policy")["policy"])
    (deny,) = policy["Statement"]
    arn = f"arn:aws:s3:::{bucket('dev')}"
    assert deny["Effect"] == "Deny" and deny["Principal"] == "*" and deny["Action"] == "s3:*"
    assert deny["Resource"] == [arn, f"{arn}/*"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_artifacts_expire_after_the_configured_retention(dev: Plan) -> None:
    days = load_defaults().shared.artifact_retention_days
    (rule,) = _bucket_part(dev, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "dev", "lifecycle")["rules"]
    assert rule["status"] == "Enabled"
    assert rule["expiration"]["days"] == days
    assert rule["noncurrentVersionExpiration"]["noncurrentDays"] == days


# --------------------------------------------------------------------------- build projects


def test_build_projects_use_the_configured_environment(dev: Plan) -> None:
    settings = load_defaults().pipeline
    projects = {r.name: r.inputs for r in dev.under(PIPELINE) if r.type == PROJECT}
    assert set(projects) == {"ubertruck-dev-validate", "ubertruck-dev-test", "ubertruck-dev-deploy-shared", "ubertruck-dev-deploy-tenants"}
    key_arn = dev.named("aws:kms/key:Key", "ubertruck-dev-platform")
    for name, project in projects.items():
        kind = "deploy" if "deploy" in name else name.rsplit("-", 1)[-1]
        assert project["buildTimeout"] == settings.build_timeout_minutes[kind]
        assert project["queuedTimeout"] == settings.queued_timeout_minutes
        assert project["environment"]["computeType"] == settings.build_compute_type
        assert project["environment"]["image"] == settings.build_image
        assert project["encryptionKey"].startswith("arn:aws:kms:ap-south-1:")
        assert project["logsConfig"]["cloudwatchLogs"]["groupName"] == "/ubertruck/ubertruck-dev/pipeline"
    assert key_arn.inputs["enableKeyRotation"] is True


def test_validate_runs_scan_registry_validation_and_offline_plan(dev: Plan) -> None:
    commands = _commands(_buildspec(dev, "ubertruck-dev-validate"))
    assert ".venv/bin/python -m platformctl scan ." in commands
    assert ".venv/bin/python -m platformctl tenants validate" in commands
    assert "make plan" in commands


def test_test_stage_runs_the_test_suite(dev: Plan) -> None:
    assert "make test" in _commands(_buildspec(dev, "ubertruck-dev-test"))


def _platformctl(commands: list[str]) -> list[str]:
    return [c for c in commands if c.startswith(PLATFORMCTL)]


def test_deploy_previews_with_the_packs_then_brings_up_the_shared_stack_then_each_tenant_stack(dev: Plan) -> None:
    target = '--backend "$PULUMI_BACKEND_URL" --secrets-provider "$PULUMI_SECRETS_PROVIDER"'
    shared = _commands(_buildspec(dev, "ubertruck-dev-deploy-shared"))
    assert _platformctl(shared) == [f"{PLATFORMCTL} preview --stack dev {target}", f"{PLATFORMCTL} up --stack dev {target}"]
    tenants = _commands(_buildspec(dev, "ubertruck-dev-deploy-tenants"))
    selection = " ".join(f"--stack {t}-dev" for t in ("acme", "globex", "initech"))
    assert _platformctl(tenants) == [f"{PLATFORMCTL} preview {selection} {target}", f"{PLATFORMCTL} up {selection} {target}"]
    # No deploy step goes around platformctl (and so around its gate and packs).
    assert not [c for c in shared + tenants if c.startswith("pulumi up") or c.startswith("pulumi preview")]
    # Deploy builds run Pulumi as the deploy role, never as the build's own role.
    assert "export AWS_PROFILE=deploy" in tenants
    variables = {v["name"]: v["value"] for v in dev.named(PROJECT, "ubertruck-dev-deploy-tenants").inputs["environment"]["environmentVariables"]}
    assert variables["DEPLOY_ROLE_ARN"] == PIPELINE_CONFIG["ubertruck:deployRoleArn"]
    assert variables["PULUMI_BACKEND_URL"] == PIPELINE_CONFIG["ubertruck:stateBackendUrl"]
    assert variables["PULUMI_VERSION"] == load_defaults().pipeline.pulumi_version


def test_prod_deploys_only_prod_tenant_stacks(prod: Plan) -> None:
    tenants = _commands(_buildspec(prod, "ubertruck-prod-deploy-tenants"))
    assert [c.split(" --backend")[0] for c in _platformctl(tenants)] == [
        f"{PLATFORMCTL} {operation} --stack acme-prod --stack globex-prod" for operation in ("preview", "up")
    ]


# --------------------------------------------------------------------------- pipeline


def test_pipeline_stages_follow_the_seed(dev: Plan, prod: Plan) -> None:
    assert [s["name"] for s in _pipeline(dev)["stages"]] == ["Source", "Validate", "Test", "Deploy-dev"]
    assert [s["name"] for s in _pipeline(prod)["stages"]] == ["Source", "Validate", "Test", "Approve", "Deploy-prod"]
    (approve,) = _stage(prod, "Approve")["actions"]
    assert (approve["category"], approve["provider"]) == ("Approval", "Manual")
    assert approve["configuration"]["NotificationArn"] == prod.outputs["alarm_topic_arn"]


def test_source_comes_from_stack_config(dev: Plan) -> None:
    (source,) = _stage(dev, "Source")["actions"]
    assert source["configuration"] == {
        "ConnectionArn": PIPELINE_CONFIG["ubertruck:sourceConnectionArn"],
        "FullRepositoryId": PIPELINE_CONFIG["ubertruck:sourceRepository"],
        "BranchName": PIPELINE_CONFIG["ubertruck:sourceBranch"],
    }


def test_deploy_rolls_back_on_failure_and_on_tenant_alarms(prod: Plan) -> None:
    stage = _stage(prod, "Deploy-prod")
    assert [a["name"] for a in sorted(stage["actions"], key=lambda a: a["runOrder"])] == ["deploy-shared", "deploy-tenants"]
    assert stage["onFailure"]["result"] == "ROLLBACK"
    condition = stage["onSuccess"]["condition"]
    assert condition["result"] == "ROLLBACK"
    rules = {r["region"]: r for r in condition["rules"]}
    assert set(rules) == {"ap-south-1", "ap-southeast-1"}
    assert rules["ap-south-1"]["configuration"]["AlarmName"] == "acme-prod-error-rate-high,acme-prod-latency-high"
    assert rules["ap-southeast-1"]["configuration"]["WaitTime"] == str(load_defaults().pipeline.health_check_minutes)
    assert {r["ruleTypeId"]["provider"] for r in condition["rules"]} == {"CloudWatchAlarm"}


def test_artifact_store_is_the_bucket_under_the_platform_key(dev: Plan) -> None:
    (store,) = _pipeline(dev)["artifactStores"]
    assert store["location"] == bucket("dev")
    assert store["encryptionKey"]["type"] == "KMS"
    (pipeline,) = dev.of_type("aws:codepipeline/pipeline:Pipeline")
    assert dev.named("aws:kms/key:Key", "ubertruck-dev-platform").urn in pipeline.property_dependencies["artifactStores"]


def test_health_alarms_group_by_region() -> None:
    stacks = [TenantStack("a-dev", "eu-west-1"), TenantStack("b-dev", "ap-south-1"), TenantStack("c-dev", "eu-west-1")]
    assert health_alarms(stacks) == {
        "ap-south-1": ["b-dev-error-rate-high", "b-dev-latency-high"],
        "eu-west-1": ["a-dev-error-rate-high", "a-dev-latency-high", "c-dev-error-rate-high", "c-dev-latency-high"],
    }


# --------------------------------------------------------------------------- IAM


def _statements(plan: Plan, role: str) -> list[dict[str, Any]]:
    return policy_of(plan.named(ROLE_POLICY, f"{role}-policy"))["Statement"]


def test_no_pipeline_role_grants_a_wildcard_resource(dev: Plan) -> None:
    policies = [r for r in dev.under(PIPELINE) if r.type == ROLE_POLICY]
    assert len(policies) == 3
    for policy in policies:
        for statement in policy_of(policy)["Statement"]:
            assert "*" not in statement["Resource"], (policy.name, statement["Action"])


def test_check_builds_reach_only_bucket_key_and_logs(dev: Plan) -> None:
    resources = {r for s in _statements(dev, "ubertruck-dev-pipeline-checks") for r in s["Resource"]}
    bucket_arn = f"arn:aws:s3:::{bucket('dev')}"
    key = next(r for r in resources if r.startswith("arn:aws:kms:"))
    assert resources == {
        bucket_arn,
        f"{bucket_arn}/*",
        key,
        f"arn:aws:logs:ap-south-1:{DEV_ACCOUNT}:log-group:/ubertruck/ubertruck-dev/pipeline",
        f"arn:aws:logs:ap-south-1:{DEV_ACCOUNT}:log-group:/ubertruck/ubertruck-dev/pipeline:*",
    }
    actions = {a for s in _statements(dev, "ubertruck-dev-pipeline-checks") for a in s["Action"]}
    assert "sts:AssumeRole" not in actions


def test_deploy_builds_may_only_assume_the_deploy_role(dev: Plan) -> None:
    (assume,) = [s for s in _statements(dev, "ubertruck-dev-pipeline-deploy") if "sts:AssumeRole" in s["Action"]]
    assert assume["Resource"] == [PIPELINE_CONFIG["ubertruck:deployRoleArn"]]


def test_pipeline_role_starts_only_its_own_projects(dev: Plan) -> None:
    statements = _statements(dev, "ubertruck-dev-pipeline")
    (builds,) = [s for s in statements if "codebuild:StartBuild" in s["Action"]]
    assert sorted(builds["Resource"]) == sorted(
        f"arn:aws:codebuild:ap-south-1:{DEV_ACCOUNT}:project/ubertruck-dev-{p}" for p in ("validate", "test", "deploy-shared", "deploy-tenants")
    )
    (connection,) = [s for s in statements if "codestar-connections:UseConnection" in s["Action"]]
    assert connection["Resource"] == [PIPELINE_CONFIG["ubertruck:sourceConnectionArn"]]
    (alarms,) = [s for s in statements if "cloudwatch:DescribeAlarms" in s["Action"]]
    assert f"arn:aws:cloudwatch:eu-west-1:{DEV_ACCOUNT}:alarm:initech-dev-latency-high" in alarms["Resource"]


def test_roles_trust_only_their_service_in_this_account(dev: Plan) -> None:
    trust = {
        "ubertruck-dev-pipeline-checks": "codebuild.amazonaws.com",
        "ubertruck-dev-pipeline-deploy": "codebuild.amazonaws.com",
        "ubertruck-dev-pipeline": "codepipeline.amazonaws.com",
    }
    for role, service in trust.items():
        (statement,) = policy_of(dev.named("aws:iam/role:Role", role), "assumeRolePolicy")["Statement"]
        assert statement["Principal"] == {"Service": service}
        assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": DEV_ACCOUNT}}


def test_pipeline_roles_are_the_platform_key_users(dev: Plan) -> None:
    key = dev.named("aws:kms/key:Key", "ubertruck-dev-platform")
    (users,) = [s for s in policy_of(key)["Statement"] if s["Sid"] == "PlatformRolesUseKey"]
    roles = {r.inputs["name"] for r in dev.under(PIPELINE) if r.type == "aws:iam/role:Role"}
    expected = {f"arn:aws:iam::{DEV_ACCOUNT}:role/{r}" for r in roles} | {PIPELINE_CONFIG["ubertruck:deployRoleArn"]}
    assert set(users["Condition"]["ArnEquals"]["aws:PrincipalArn"]) == expected


def test_every_taggable_pipeline_resource_is_tagged(dev: Plan) -> None:
    taggable = ("aws:s3/bucket:Bucket", PROJECT, "aws:iam/role:Role", "aws:codepipeline/pipeline:Pipeline", "aws:cloudwatch/logGroup:LogGroup")
    for resource in (r for r in dev.under(PIPELINE) if r.type in taggable):
        assert resource.inputs["tags"] == {"environment": "dev", "platform": "ubertruck"}, resource.name
