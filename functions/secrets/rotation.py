"""The four steps of a Secrets Manager rotation, for secrets of the function's own tenant.

Secrets Manager calls the function once per step with ``SecretId``, ``ClientRequestToken`` (the
id of the new version) and ``Step``. Every step first checks the secret: it must carry the tenant
tag with the function's own tenant, have rotation enabled, and have the token as a version staged
``AWSPENDING`` (a token already ``AWSCURRENT`` means the rotation finished: nothing to do).

createSecret  generate a value under the secret's profile, store it as the pending version
              (the other fields of a JSON secret are kept); a retry finds it and does nothing
setSecret     platform secrets have no downstream system holding a copy (consumers read Secrets
              Manager), so there is nothing to push; the step checks that the pending value exists
              and differs from the current one
testSecret    the pending value must follow its profile's rules and keep the other JSON fields
finishSecret  move ``AWSCURRENT`` to the new version
"""

from __future__ import annotations

from typing import Any, Mapping

from botocore.exceptions import ClientError

from .config_schema import GenerationProfile, SecretsTechnical
from .generation import generate, generated_value, other_fields, problems, with_new_value

CURRENT = "AWSCURRENT"
PENDING = "AWSPENDING"
STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")
_NOT_FOUND = "ResourceNotFoundException"


class RotationRefused(Exception):
    """The secret may not be rotated by this function (another tenant's, or not set up for it)."""


class ForeignSecret(RotationRefused):
    """The secret is not tagged as the function's own tenant's."""


class RotationFailed(Exception):
    """A step could not be completed; Secrets Manager marks the rotation failed and retries."""


class SecretRotation:
    """Runs rotation steps with a Secrets Manager client, under one tenant's generation rules."""

    def __init__(self, client: Any, own_tenant: str, technical: SecretsTechnical) -> None:
        self._client = client
        self._own_tenant = own_tenant
        self._technical = technical

    def run(self, step: str, secret_id: str, token: str) -> str:
        """Run ``step``; returns what was done (``created``, ``tested``, ``already current``...)."""
        if step not in STEPS:
            raise RotationFailed(f"unknown rotation step {step!r}")
        meta = self._client.describe_secret(SecretId=secret_id)
        self._check_secret(meta, token)
        if CURRENT in meta["VersionIdsToStages"][token]:
            return "already current"
        profile = self._profile(meta)
        arn = meta["ARN"]
        if step == "createSecret":
            return self._create(arn, token, profile)
        if step == "setSecret":
            return self._set(arn, token)
        if step == "testSecret":
            return self._test(arn, token, profile)
        return self._finish(arn, token, meta["VersionIdsToStages"])

    def _check_secret(self, meta: Mapping[str, Any], token: str) -> None:
        tags = {tag["Key"]: tag["Value"] for tag in meta.get("Tags", [])}
        if tags.get(self._technical.tenant_tag) != self._own_tenant:
            raise ForeignSecret("the secret does not belong to this function's tenant")
        if not meta.get("RotationEnabled"):
            raise RotationRefused("rotation is not enabled for the secret")
        stages = meta.get("VersionIdsToStages", {}).get(token)
        if stages is None:
            raise RotationRefused("the token is not a version of the secret")
        if CURRENT not in stages and PENDING not in stages:
            raise RotationRefused("the token's version is not pending rotation")

    def _profile(self, meta: Mapping[str, Any]) -> GenerationProfile:
        generation = self._technical.generation
        tags = {tag["Key"]: tag["Value"] for tag in meta.get("Tags", [])}
        name = tags.get(generation.profile_tag, generation.default_profile)
        if name not in generation.profiles:
            raise RotationRefused(f"the secret's profile {name!r} is not configured")
        return generation.profiles[name]

    def _create(self, arn: str, token: str, profile: GenerationProfile) -> str:
        current = self._value(arn, stage=CURRENT)
        if current is None:
            raise RotationFailed("the secret has no current value to rotate")
        if self._value(arn, stage=PENDING, version=token) is not None:
            return "pending value exists"
        text = with_new_value(current, profile.field, generate(self._client, profile))
        self._client.put_secret_value(SecretId=arn, ClientRequestToken=token, SecretString=text, VersionStages=[PENDING])
        return "created"

    def _set(self, arn: str, token: str) -> str:
        pending = self._value(arn, stage=PENDING, version=token)
        if pending is None:
            raise RotationFailed("no pending value to set")
        if pending == self._value(arn, stage=CURRENT):
            raise RotationFailed("the pending value equals the current one")
        return "nothing to push"

    def _test(self, arn: str, token: str, profile: GenerationProfile) -> str:
        pending = self._value(arn, stage=PENDING, version=token)
        current = self._value(arn, stage=CURRENT)
        if pending is None or current is None:
            raise RotationFailed("the pending or the current value is missing")
        value = generated_value(pending, profile.field)
        if value is None:
            raise RotationFailed(f"the pending value has no {profile.field!r} field")
        found = problems(value, profile)
        if found:
            raise RotationFailed(f"the pending value breaks its profile: {'; '.join(found)}")
        if other_fields(pending, profile.field) != other_fields(current, profile.field):
            raise RotationFailed("the pending value changed fields other than the rotated one")
        return "tested"

    def _finish(self, arn: str, token: str, versions: Mapping[str, list[str]]) -> str:
        move: dict[str, str] = {"SecretId": arn, "VersionStage": CURRENT, "MoveToVersionId": token}
        current_version = next((version for version, stages in versions.items() if CURRENT in stages), None)
        if current_version is not None:
            move["RemoveFromVersionId"] = current_version
        self._client.update_secret_version_stage(**move)
        return "finished"

    def _value(self, arn: str, *, stage: str, version: str | None = None) -> str | None:
        request: dict[str, str] = {"SecretId": arn, "VersionStage": stage}
        if version is not None:
            request["VersionId"] = version
        try:
            return str(self._client.get_secret_value(**request)["SecretString"])
        except ClientError as exc:
            if exc.response["Error"]["Code"] == _NOT_FOUND:
                return None
            raise
