"""Provider functions answer as the offline engine does."""

from __future__ import annotations

from .client import ProviderClient


def test_get_caller_identity_answers_the_pinned_account(provider: ProviderClient):
    provider.configure(region="eu-central-1", allowedAccountIds=["444444444444"])
    identity = provider.invoke("aws:index/getCallerIdentity:getCallerIdentity")
    assert identity["accountId"] == "444444444444"
    assert identity["arn"] == "arn:aws:iam::444444444444:root"


def test_get_region_answers_the_configured_region(provider: ProviderClient):
    provider.configure(region="eu-central-1")
    assert provider.invoke("aws:index/getRegion:getRegion")["name"] == "eu-central-1"
