"""Fixtures for the functions' tests: ``functions/`` on sys.path, moto, provisioned tenants."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from .fn_support import FUNCTIONS_DIR, Tenant, provision, tenant_config

if str(FUNCTIONS_DIR) not in sys.path:
    sys.path.insert(0, str(FUNCTIONS_DIR))

REGION = "ap-south-1"
# moto needs credentials and a region; X-Ray has no daemon here.
for _name, _value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "POWERTOOLS_TRACE_DISABLED": "true",
}.items():
    os.environ[_name] = _value


@pytest.fixture
def aws() -> Iterator[None]:
    """An empty in-process AWS (moto) for the duration of one test."""
    from moto import mock_aws

    with mock_aws():
        yield


@pytest.fixture
def provision_tenant(aws: None) -> Callable[..., Tenant]:
    """Provision a tenant environment: ``provision_tenant("acme", config=...)``."""

    def make(tenant_id: str, environment: str = "dev", config: dict[str, Any] | None = None) -> Tenant:
        return provision(tenant_id, environment, config if config is not None else tenant_config(tenant_id, environment), REGION)

    return make


@pytest.fixture
def acme(provision_tenant: Callable[..., Tenant]) -> Tenant:
    """Tenant ``acme`` in ``dev`` with the platform defaults' config."""
    return provision_tenant("acme")


@pytest.fixture
def globex(provision_tenant: Callable[..., Tenant]) -> Tenant:
    """Tenant ``globex`` in ``dev`` with the platform defaults' config (same account, other namespace)."""
    return provision_tenant("globex")


@pytest.fixture
def code_root(tmp_path: Path) -> Path:
    """A function code root (``LAMBDA_TASK_ROOT``) to hold a test's ``fallback.json``."""
    root = tmp_path / "task"
    root.mkdir()
    return root
