"""What the provisioning service's benchmarks share: a registry of many tenants, the machine line."""

from __future__ import annotations

import os
import platform
import shutil
from pathlib import Path

import yaml

from tests.service.app_support import new_tenant
from ubertruck import PROJECT_ROOT


def registry_of(root: Path, count: int) -> Path:
    """``root/tenants``: the shipped tenants and generated ones (two environments each), ``count`` in all."""
    registry = root / "tenants"
    shutil.copytree(PROJECT_ROOT / "tenants", registry)
    for index in range(count - len(list(registry.glob("*.yaml")))):
        tenant_id = f"bench-{index:03d}"
        (registry / f"{tenant_id}.yaml").write_text(yaml.safe_dump(new_tenant(tenant_id), sort_keys=False), encoding="utf-8")
    return registry


def machine_line() -> str:
    load = " / ".join(f"{v:.2f}" for v in os.getloadavg())
    return f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}; load average {load}."
