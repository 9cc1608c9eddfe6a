"""The tenant's customer-managed KMS key: rotation on, a policy naming only this tenant."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from ubertruck.settings import TenantSettings

from .context import child


#: What the account root may do to a key: administer it (never use it). Tenant keys and the
#: platform key share this statement, so both stay administrable the same way.
KEY_ADMIN_ACTIONS = (
    "kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*",
    "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource",
    "kms:UntagResource", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:RotateKeyOnDemand",
)
#: What a role named in a key policy may do with the key: encrypt and decrypt data.
KEY_USE_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey")
#: What CloudWatch Logs needs of a key to encrypt the log groups under it.
LOGS_KEY_ACTIONS = ("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*")


def account_root(account_id: str) -> str:
    """The account's root principal: key policies name it, then narrow by condition."""
    return f"arn:aws:iam::{account_id}:root"


def account_administers(account_id: str) -> dict[str, object]:
    """The key policy statement letting the account root administer the key
    (``"Resource": "*"`` in a key policy means *this key*)."""
    return {
        "Sid": "AccountAdministers",
        "Effect": "Allow",
        "Principal": {"AWS": account_root(account_id)},
        "Action": list(KEY_ADMIN_ACTIONS),
        "Resource": "*",
    }



def log_groups_use_key(sid: str, region: str, account_id: str, log_group_pattern: str) -> dict[str, object]:
    """The key policy statement letting CloudWatch Logs of ``region`` encrypt the log groups
    whose names match ``log_group_pattern`` (and no others) under the key."""
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Service": f"logs.{region}.amazonaws.com"},
        "Action": list(LOGS_KEY_ACTIONS),
        "Resource": "*",
        "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{region}:{account_id}:log-group:{log_group_pattern}"}},
    }


@dataclass(frozen=True)
class TenantKeyArgs:
    settings: TenantSettings
    account_id: str


def tenant_role_arn_pattern(settings: TenantSettings, account_id: str) -> str:
    """Every IAM role of the tenant stack is named ``<tenant>-<env>-…``; this matches them all."""
    return f"arn:aws:iam::{account_id}:role/{settings.prefix}-*"


def key_policy(settings: TenantSettings, account_id: str) -> str:
    """Key policy: the account root administers; only this tenant's roles and the services
    acting for them (logs, SNS, SQS, Secrets Manager, DynamoDB in this account) use the key."""
    region = settings.region
    root = account_root(account_id)
    statements = [
        account_administers(account_id),
        {
            "Sid": "TenantRolesUseKey",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            "Action": list(KEY_USE_ACTIONS),
            "Resource": "*",
            "Condition": {"ArnLike": {"aws:PrincipalArn": tenant_role_arn_pattern(settings, account_id)}},
        },
        log_groups_use_key("TenantLogGroupsUseKey", region, account_id, f"/ubertruck/{settings.prefix}*"),
        {
            "Sid": "TenantMessagingUsesKey",
            "Effect": "Allow",
            "Principal": {"Service": ["sns.amazonaws.com", "sqs.amazonaws.com", "events.amazonaws.com"]},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
        },
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


class TenantKey(pulumi.ComponentResource):
    """``ubertruck:tenant_key:TenantKey`` — one CMK per tenant stack, with an alias."""

    key: aws.kms.Key
    arn: pulumi.Output[str]

    def __init__(self, name: str, args: TenantKeyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ubertruck:tenant_key:TenantKey", name, None, opts)
        settings = args.settings
        encryption = settings.global_config.security.encryption_settings
        self.key = aws.kms.Key(
            f"{settings.prefix}-key",
            description=f"UberTruck tenant {settings.tenant_id} ({settings.environment}) data key",
            enable_key_rotation=encryption.kms_key_rotation,
            deletion_window_in_days=settings.env.kms_deletion_window_days,
            policy=key_policy(settings, args.account_id),
            tags=settings.tags,
            opts=child(self),
        )
        aws.kms.Alias(
            f"{settings.prefix}-key-alias",
            name=f"alias/ubertruck/{settings.prefix}",
            target_key_id=self.key.key_id,
            opts=child(self),
        )
        self.arn = self.key.arn
        self.register_outputs({"arn": self.key.arn, "key_id": self.key.key_id})
