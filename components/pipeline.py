"""The deployment pipeline of one environment, following the seed's deployment stages.

``DeploymentPipeline`` (shared stack ``<env>``) builds a CodePipeline (V2) named
``ubertruck-<env>`` that deploys that environment from its source branch:

1. **Source** — the repository and branch from stack config, through a CodeStar connection.
2. **Validate** — anti-pattern scan, registry validation, offline plan with the policy packs.
3. **Test** — the project's test suite.
4. **Approve** — a manual approval, in the environments ``pipeline.approval_environments`` names.
5. **Deploy** — ``platformctl preview`` (both policy packs) then ``platformctl up`` (the offline gate,
   then the engine with both packs) of the shared stack, then of every tenant stack of the environment.
   Afterwards CodePipeline watches each tenant's standard alarms for
   ``pipeline.health_check_minutes``; an alarm, or a failed deploy, rolls the stage back to the
   last successful revision.

The tenant stacks are deployed by their own project, whose buildspec lists them. Because the
shared stack (this program) is deployed first, in the same stage, a newly onboarded tenant's
stack is already in that buildspec when the tenant deploy starts.

Least privilege: the check builds can touch only the artifact bucket, the platform key and their
log group; the deploy builds can in addition assume the deploy role (``ubertruck:deployRoleArn``),
which holds the permissions ``pulumi up`` needs and is provisioned outside the platform. No
statement of these roles names ``"*"`` as a resource.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import pulumi
import pulumi_aws as aws
import yaml

from ubertruck.stacks import TenantStack

from .context import child, known_after, require_account
from .iam import Grant
from .observability import PlatformContext, platform_key_alias, policy_document, tenant_alarm_names

#: The artifact that carries the checked-out source from stage to stage.
SOURCE_ARTIFACT = "source"
#: Project kinds; ``pipeline.build_timeout_minutes`` has one entry per kind.
VALIDATE, TEST, DEPLOY = "validate", "test", "deploy"
#: Actions of one environment's deploy stage, in order.
DEPLOY_SHARED, DEPLOY_TENANTS = "deploy-shared", "deploy-tenants"


@dataclass(frozen=True)
class PipelineSource:
    """Where the pipeline takes the code from (stack config ``ubertruck:source*``)."""

    #: ``ubertruck:sourceConnectionArn``: a CodeStar/CodeConnections connection to the git host.
    connection_arn: str
    #: ``ubertruck:sourceRepository``: ``owner/name``.
    repository: str
    #: ``ubertruck:sourceBranch``: the branch this environment deploys.
    branch: str


@dataclass(frozen=True)
class PipelineConfig:
    """The pipeline's stack config (``Pulumi.<env>.yaml``)."""

    source: PipelineSource
    #: ``ubertruck:deployRoleArn``: the role deploy builds assume to run ``pulumi up``.
    deploy_role_arn: str
    #: ``ubertruck:stateBackendUrl``: the Pulumi state backend (``s3://…`` or Pulumi Cloud).
    state_backend_url: str

    @classmethod
    def from_stack_config(cls, config: pulumi.Config) -> "PipelineConfig":
        """Read the keys above; a missing key fails the stack with the key's name."""
        source = PipelineSource(config.require("sourceConnectionArn"), config.require("sourceRepository"), config.require("sourceBranch"))
        return cls(source, config.require("deployRoleArn"), config.require("stateBackendUrl"))

    def require_account(self, platform: PlatformContext, where: str) -> None:
        """Refuse ARNs outside the environment's account: the pipeline's roles are granted the
        deploy role and the connection, so one of another environment would cross accounts."""
        require_account(f"{where}:deployRoleArn", self.deploy_role_arn, platform.account_id, platform.environment)
        require_account(f"{where}:sourceConnectionArn", self.source.connection_arn, platform.account_id, platform.environment)


def role_names(platform: PlatformContext) -> dict[str, str]:
    """The pipeline's IAM role names, by what assumes them."""
    return {
        "checks": platform.name("pipeline", "checks"),
        "deploy": platform.name("pipeline", "deploy"),
        "pipeline": platform.name("pipeline"),
    }


def pipeline_key_users(platform: PlatformContext, config: PipelineConfig) -> list[str]:
    """Role ARNs that use the platform key and publish to the alarm topic: the pipeline's own roles
    and the deploy role (Pulumi's ``awskms`` secrets provider encrypts stack secrets with it)."""
    return sorted([*(platform.role_arn(n) for n in role_names(platform).values()), config.deploy_role_arn])


def health_alarms(stacks: Sequence[TenantStack]) -> dict[str, list[str]]:
    """The standard alarm names of ``stacks``, by region (a health rule watches one region)."""
    by_region: dict[str, list[str]] = {}
    for stack in stacks:
        by_region.setdefault(stack.region, []).extend(tenant_alarm_names(stack.name))
    return dict(sorted(by_region.items()))


# --------------------------------------------------------------------------- buildspecs

VENV = [
    "python -m venv .venv",
    ".venv/bin/pip install --quiet -r requirements.txt",
]


def _buildspec(platform: PlatformContext, install: list[str], phases: dict[str, list[str]]) -> str:
    python = platform.defaults.pipeline.python_version
    spec: dict[str, Any] = {
        "version": "0.2",
        "phases": {"install": {"runtime-versions": {"python": python}, "commands": [*VENV, *install]}},
    }
    spec["phases"].update({phase: {"commands": commands} for phase, commands in phases.items()})
    return yaml.safe_dump(spec, sort_keys=False)


def validate_buildspec(platform: PlatformContext) -> str:
    """Stage 1 of the seed: hardcoded-value scan, config schema validation, security compliance
    (the offline plan of every stack through the policy packs)."""
    return _buildspec(
        platform,
        [],
        {
            "build": [
                ".venv/bin/python -m platformctl scan .",
                ".venv/bin/python -m platformctl tenants validate",
                "make plan",
            ]
        },
    )


def test_buildspec(platform: PlatformContext) -> str:
    """Stage 2 of the seed: the unit and integration tests."""
    return _buildspec(platform, [], {"build": ["make test"]})


#: How deploy builds run the operator CLI (the project's venv, made by the install phase).
PLATFORMCTL = ".venv/bin/python -m platformctl"


def deploy_commands(stacks: Sequence[str]) -> list[str]:
    """The deploy of ``stacks``: a preview through both policy packs, then ``up`` (which gates
    offline first), by the same ``platformctl`` commands an operator runs."""
    selection = " ".join(f"--stack {stack}" for stack in stacks)
    target = '--backend "$PULUMI_BACKEND_URL" --secrets-provider "$PULUMI_SECRETS_PROVIDER"'
    return [f"{PLATFORMCTL} preview {selection} {target}", f"{PLATFORMCTL} up {selection} {target}"]


def deploy_buildspec(platform: PlatformContext, stacks: Sequence[str]) -> str:
    """``platformctl preview`` then ``up`` of ``stacks``, as the deploy role, against the state backend."""
    return _buildspec(
        platform,
        [
            'curl -fsSL https://get.pulumi.com | sh -s -- --version "$PULUMI_VERSION"',
            'export PATH="$HOME/.pulumi/bin:$PATH"',
        ],
        {
            "pre_build": [
                # The build's own role may only assume the deploy role; Pulumi and the AWS provider
                # run under that role through this profile.
                'aws configure set profile.deploy.role_arn "$DEPLOY_ROLE_ARN"',
                "aws configure set profile.deploy.credential_source EcsContainer",
                "export AWS_PROFILE=deploy",
            ],
            "build": deploy_commands(stacks),
        },
    )


# --------------------------------------------------------------------------- IAM


def grants_document(grants: Sequence[Grant]) -> pulumi.Output[str]:
    """An identity policy with one Allow statement per grant (resources may be Outputs)."""
    resolved = [pulumi.Output.all(*g.resources) for g in grants]
    return pulumi.Output.all(*resolved).apply(
        lambda values: policy_document(
            [{"Sid": f"Grant{i}", "Effect": "Allow", "Action": list(g.actions), "Resource": list(r)} for i, (g, r) in enumerate(zip(grants, values))]
        )
    )


def assume_role_document(platform: PlatformContext, service: str) -> str:
    return policy_document(
        [
            {
                "Effect": "Allow",
                "Principal": {"Service": service},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": platform.account_id}},
            }
        ]
    )


# --------------------------------------------------------------------------- component


@dataclass(frozen=True)
class RoleWithPolicy:
    """A role and its inline policy: what uses the role waits for both."""

    role: aws.iam.Role
    policy: aws.iam.RolePolicy


@dataclass(frozen=True)
class DeploymentPipelineArgs:
    platform: PlatformContext
    config: PipelineConfig
    #: The platform CMK (``PlatformObservability.key_arn``): artifacts and build logs.
    key_arn: pulumi.Input[str]
    #: The alarm topic: manual approvals are announced there.
    alarm_topic_arn: pulumi.Input[str]
    #: Tenant stacks of this environment (``ubertruck.stacks.environment_tenant_stacks``, read by
    #: the program), deployed after the shared stack and health-checked through their standard alarms.
    tenant_stacks: Sequence[TenantStack] = field(default_factory=tuple)


class DeploymentPipeline(pulumi.ComponentResource):
    """``ubertruck:pipeline:DeploymentPipeline`` — artifact bucket, build projects, pipeline."""

    bucket: aws.s3.Bucket
    projects: dict[str, aws.codebuild.Project]
    pipeline: aws.codepipeline.Pipeline

    def __init__(self, name: str, args: DeploymentPipelineArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ubertruck:pipeline:DeploymentPipeline", name, None, opts)
        platform, key_arn = args.platform, args.key_arn
        self.bucket = self._artifact_bucket(platform, key_arn)
        log_group = aws.cloudwatch.LogGroup(
            platform.name("pipeline", "logs"),
            name=f"{platform.log_group_prefix}/pipeline",
            retention_in_days=platform.defaults.shared.log_retention_days,
            kms_key_id=key_arn,
            tags=platform.tags,
            opts=child(self),
        )
        storage = self._storage_grants(key_arn, log_group)
        roles = role_names(platform)
        checks_role = self._role(platform, roles["checks"], "codebuild.amazonaws.com", storage)
        deploy_role = self._role(platform, roles["deploy"], "codebuild.amazonaws.com", [*storage, Grant(["sts:AssumeRole"], [args.config.deploy_role_arn])])
        specs = {
            VALIDATE: (VALIDATE, checks_role, validate_buildspec(platform)),
            TEST: (TEST, checks_role, test_buildspec(platform)),
            DEPLOY_SHARED: (DEPLOY, deploy_role, deploy_buildspec(platform, [platform.environment])),
        }
        if args.tenant_stacks:
            specs[DEPLOY_TENANTS] = (DEPLOY, deploy_role, deploy_buildspec(platform, [s.name for s in args.tenant_stacks]))
        self.projects = {
            action: self._project(platform, action, kind, role, spec, key_arn, log_group, args.config)
            for action, (kind, role, spec) in specs.items()
        }
        alarm_arns = [platform.arn("cloudwatch", f"alarm:{n}", region) for region, names in health_alarms(args.tenant_stacks).items() for n in names]
        pipeline_grants = [
            Grant(["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"], [self.bucket.arn.apply(lambda a: f"{a}/*")]),
            Grant(["s3:GetBucketVersioning", "s3:GetBucketLocation", "s3:GetBucketAcl"], [self.bucket.arn]),
            Grant(["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"], [key_arn]),
            Grant(["codebuild:StartBuild", "codebuild:BatchGetBuilds", "codebuild:StopBuild"], [p.arn for p in self.projects.values()]),
            # Connections carry either service prefix, depending on when they were created.
            Grant(["codestar-connections:UseConnection", "codeconnections:UseConnection"], [args.config.source.connection_arn]),
            Grant(["sns:Publish"], [args.alarm_topic_arn]),
        ]
        if alarm_arns:
            pipeline_grants.append(Grant(["cloudwatch:DescribeAlarms"], alarm_arns))
        pipeline_role = self._role(platform, roles["pipeline"], "codepipeline.amazonaws.com", pipeline_grants)
        self.pipeline = self._pipeline(platform, args, pipeline_role, key_arn)
        self.register_outputs({"pipeline_name": self.pipeline.name, "artifact_bucket": self.bucket.bucket})

    # -- artifact bucket

    def _artifact_bucket(self, platform: PlatformContext, key_arn: pulumi.Input[str]) -> aws.s3.Bucket:
        """Versioned, SSE-KMS under the platform key, private, TLS only, expiring."""
        # Bucket names are global: the account and region make this one unique.
        bucket_name = platform.name("artifacts", platform.account_id, platform.region)
        bucket = aws.s3.Bucket(bucket_name, bucket=bucket_name, tags=platform.tags, opts=child(self))
        aws.s3.BucketOwnershipControls(f"{bucket_name}-ownership", bucket=bucket.id, rule={"object_ownership": "BucketOwnerEnforced"}, opts=child(self))
        aws.s3.BucketPublicAccessBlock(
            f"{bucket_name}-public-access",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child(self),
        )
        aws.s3.BucketVersioning(f"{bucket_name}-versioning", bucket=bucket.id, versioning_configuration={"status": "Enabled"}, opts=child(self))
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{bucket_name}-encryption",
            bucket=bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms", "kms_master_key_id": key_arn}, "bucket_key_enabled": True}],
            opts=child(self),
        )
        days = platform.defaults.shared.artifact_retention_days
        aws.s3.BucketLifecycleConfiguration(
            f"{bucket_name}-lifecycle",
            bucket=bucket.id,
            rules=[
                {
                    "id": "expire-artifacts",
                    "status": "Enabled",
                    "filter": {"prefix": ""},
                    "expiration": {"days": days},
                    "noncurrent_version_expiration": {"noncurrent_days": days},
                }
            ],
            opts=child(self),
        )
        # The name (an input) and the ARN S3 derives from it, both known in a first preview: the
        # packs match the TLS-only policy to its bucket through them.
        bucket_arn = known_after(bucket, f"arn:aws:s3:::{bucket_name}")
        aws.s3.BucketPolicy(f"{bucket_name}-policy", bucket=bucket.bucket, policy=bucket_arn.apply(tls_only_bucket_policy), opts=child(self))
        return bucket

    # -- IAM

    def _storage_grants(self, key_arn: pulumi.Input[str], log_group: aws.cloudwatch.LogGroup) -> list[Grant]:
        """What every build needs: its log group, the artifacts, the key they are encrypted with."""
        return [
            Grant(["logs:CreateLogStream", "logs:PutLogEvents"], [log_group.arn, log_group.arn.apply(lambda a: f"{a}:*")]),
            Grant(["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"], [self.bucket.arn.apply(lambda a: f"{a}/*")]),
            Grant(["s3:GetBucketAcl", "s3:GetBucketLocation"], [self.bucket.arn]),
            Grant(["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"], [key_arn]),
        ]

    def _role(self, platform: PlatformContext, role_name: str, service: str, grants: Sequence[Grant]) -> RoleWithPolicy:
        role = aws.iam.Role(role_name, name=role_name, assume_role_policy=assume_role_document(platform, service), tags=platform.tags, opts=child(self))
        # The role's name (its id in AWS), known in a preview: the packs find a role's policies by it.
        policy = aws.iam.RolePolicy(f"{role_name}-policy", role=role.name, name=f"{role_name}-policy", policy=grants_document(grants), opts=child(self))
        return RoleWithPolicy(role, policy)

    # -- build projects

    def _project(
        self,
        platform: PlatformContext,
        action: str,
        kind: str,
        role: RoleWithPolicy,
        buildspec: str,
        key_arn: pulumi.Input[str],
        log_group: aws.cloudwatch.LogGroup,
        config: PipelineConfig,
    ) -> aws.codebuild.Project:
        settings = platform.defaults.pipeline
        variables: dict[str, str] = {}
        if kind == DEPLOY:
            variables = {
                "PULUMI_VERSION": settings.pulumi_version,
                "PULUMI_BACKEND_URL": config.state_backend_url,
                "PULUMI_SECRETS_PROVIDER": f"awskms://{platform_key_alias(platform)}?region={platform.region}",
                "PULUMI_SKIP_UPDATE_CHECK": "true",
                "DEPLOY_ROLE_ARN": config.deploy_role_arn,
            }
        project_name = platform.name(action)
        return aws.codebuild.Project(
            project_name,
            name=project_name,
            description=f"UberTruck {platform.environment} pipeline: {action}",
            service_role=role.role.arn,
            build_timeout=settings.build_timeout_minutes[kind],
            queued_timeout=settings.queued_timeout_minutes,
            encryption_key=key_arn,
            artifacts={"type": "CODEPIPELINE"},
            source={"type": "CODEPIPELINE", "buildspec": buildspec},
            environment={
                "compute_type": settings.build_compute_type,
                "image": settings.build_image,
                "type": settings.build_environment_type,
                "image_pull_credentials_type": "CODEBUILD",
                "environment_variables": [{"name": k, "value": v, "type": "PLAINTEXT"} for k, v in variables.items()],
            },
            logs_config={"cloudwatch_logs": {"status": "ENABLED", "group_name": log_group.name, "stream_name": action}, "s3_logs": {"status": "DISABLED"}},
            tags=platform.tags,
            # AWS checks the role when the project is created: its policy must be in place.
            opts=child(self, depends_on=[role.role, role.policy]),
        )

    # -- pipeline

    def _build_action(self, action: str, run_order: int) -> aws.codepipeline.PipelineStageActionArgsDict:
        return {
            "name": action,
            "category": "Build",
            "owner": "AWS",
            "provider": "CodeBuild",
            "version": "1",
            "run_order": run_order,
            "input_artifacts": [SOURCE_ARTIFACT],
            "configuration": {"ProjectName": self.projects[action].name},
        }

    def _deploy_stage(self, platform: PlatformContext, args: DeploymentPipelineArgs) -> aws.codepipeline.PipelineStageArgsDict:
        actions = [self._build_action(a, order) for order, a in enumerate((DEPLOY_SHARED, DEPLOY_TENANTS), start=1) if a in self.projects]
        stage: aws.codepipeline.PipelineStageArgsDict = {"name": f"Deploy-{platform.environment}", "actions": actions, "on_failure": {"result": "ROLLBACK"}}
        wait = str(platform.defaults.pipeline.health_check_minutes)
        rules: list[aws.codepipeline.PipelineStageOnSuccessConditionRuleArgsDict] = [
            {
                "name": f"TenantHealth-{region}",
                "region": region,
                "rule_type_id": {"category": "Rule", "owner": "AWS", "provider": "CloudWatchAlarm", "version": "1"},
                "configuration": {"AlarmName": ",".join(names), "WaitTime": wait},
            }
            for region, names in health_alarms(args.tenant_stacks).items()
        ]
        if rules:
            # Health check: the deployed tenants' standard alarms, watched after the deploy; one
            # rule per region because a rule reads the alarms of one region.
            stage["on_success"] = {"condition": {"result": "ROLLBACK", "rules": rules}}
        return stage

    def _pipeline(self, platform: PlatformContext, args: DeploymentPipelineArgs, role: RoleWithPolicy, key_arn: pulumi.Input[str]) -> aws.codepipeline.Pipeline:
        source = args.config.source
        stages: list[aws.codepipeline.PipelineStageArgsDict] = [
            {
                "name": "Source",
                "actions": [
                    {
                        "name": "Source",
                        "category": "Source",
                        "owner": "AWS",
                        "provider": "CodeStarSourceConnection",
                        "version": "1",
                        "output_artifacts": [SOURCE_ARTIFACT],
                        "configuration": {"ConnectionArn": source.connection_arn, "FullRepositoryId": source.repository, "BranchName": source.branch},
                    }
                ],
            },
            {"name": "Validate", "actions": [self._build_action(VALIDATE, 1)]},
            {"name": "Test", "actions": [self._build_action(TEST, 1)]},
        ]
        if platform.environment in platform.defaults.pipeline.approval_environments:
            stages.append(
                {
                    "name": "Approve",
                    "actions": [
                        {
                            "name": "Approve",
                            "category": "Approval",
                            "owner": "AWS",
                            "provider": "Manual",
                            "version": "1",
                            "configuration": {
                                "NotificationArn": args.alarm_topic_arn,
                                "CustomData": f"Deploy {source.repository}@{source.branch} to {platform.environment}: the shared stack and {len(args.tenant_stacks)} tenant stack(s).",
                            },
                        }
                    ],
                }
            )
        stages.append(self._deploy_stage(platform, args))
        pipeline_name = platform.prefix
        return aws.codepipeline.Pipeline(
            pipeline_name,
            name=pipeline_name,
            pipeline_type="V2",
            execution_mode=platform.defaults.pipeline.execution_mode,
            role_arn=role.role.arn,
            artifact_stores=[{"location": self.bucket.bucket, "type": "S3", "encryption_key": {"id": key_arn, "type": "KMS"}}],
            stages=stages,
            tags=platform.tags,
            opts=child(self, depends_on=[role.role, role.policy]),
        )


def tls_only_bucket_policy(bucket_arn: str) -> str:
    """Refuse every request to the bucket that does not arrive over TLS."""
    return policy_document(
        [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ]
    )
