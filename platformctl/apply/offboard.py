"""Offboarding a tenant: its stacks destroyed, its data kept until the retention ends, every step audited.

For each environment the tenant runs in:

1. ``up`` with ``ubertruck:offboarding`` set: nothing changes in the cloud, but the tenant's tables
   (the audit table among them) and key are now marked ``retain_on_delete`` in the state
   (components/retention.py);
2. ``destroy``: everything else is deleted; the retained resources stay in the account;
3. a retention record (``<state>/retention/<tenant>.json``) lists them with the date the tenant's
   ``compliance.data_retention_days`` end.

Only when every stack is destroyed is the registry file removed. Any failure stops there, with
the registry file in place and the audit log saying how far it got.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

from ubertruck.atomic import write_text_atomic
from ubertruck.defaults import PlatformDefaults
from ubertruck.registry.loader import tenant_file
from ubertruck.registry.model import Tenant
from ubertruck.stacks import StackRef, tenant_stack_name

from .audit import AuditLog
from .automation import AutomationStackOperations, PackConfig
from .operations import StackOutcome
from .target import EngineTarget

Say = Callable[[str], None]


@dataclass(frozen=True)
class OffboardResult:
    tenant: str
    succeeded: bool
    outcomes: tuple[StackOutcome, ...]
    retention_record: Path | None
    registry_removed: bool


def retention_until(tenant: Tenant, today: dt.date) -> dt.date:
    """The first day the tenant's retained data may be deleted."""
    return today + dt.timedelta(days=tenant.compliance.data_retention_days)


def _record_retention(path: Path, tenant: Tenant, kept: list[dict[str, object]], until: dt.date, today: dt.date | None) -> Path:
    """Add ``kept`` to the tenant's retention record (by URN: a re-run adds nothing twice)."""
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {
        "tenant": tenant.id, "data_retention_days": tenant.compliance.data_retention_days, "resources": [],
    }
    document["offboarded"] = (today or dt.date.today()).isoformat()
    document["retain_until"] = max(document.get("retain_until", ""), until.isoformat())
    known = {r["urn"] for r in document["resources"]}
    document["resources"] += [r for r in kept if r["urn"] not in known]
    write_text_atomic(path, json.dumps(document, indent=1, sort_keys=True) + "\n")
    return path


def offboard_tenant(
    tenant: Tenant,
    target: EngineTarget,
    defaults: PlatformDefaults,
    registry_dir: Path,
    state: Path,
    packs: dict[str, list[PackConfig]],
    say: Say,
    on_output: Callable[[str, str], None] = lambda stack, line: None,
    today: dt.date | None = None,
) -> OffboardResult:
    """Destroy ``tenant``'s stacks keeping its data, record the retention, then remove its registry file."""
    audit = AuditLog(state / defaults.offboarding.audit_file)
    offboarding = replace(target, config={**target.config, f"{defaults.platform.project}:offboarding": "true"})
    operations = AutomationStackOperations(offboarding, defaults, packs, existing_only=True)
    until = retention_until(tenant, today or dt.date.today())
    audit.record("offboard.start", "started", tenant=tenant.id, environments=list(tenant.environments), retain_until=until.isoformat())
    outcomes: list[StackOutcome] = []
    record: Path | None = None
    for environment in tenant.environments:
        stack = StackRef(name=tenant_stack_name(tenant.id, environment), environment=environment, tenant_id=tenant.id)
        for operation in ("up", "destroy"):
            say(f"{stack.name}: {'marking data as retained' if operation == 'up' else 'destroying'}")
            outcome = operations.run(operation, stack, functools.partial(on_output, stack.name))
            outcomes.append(outcome)
            audit.record(
                f"offboard.{operation}", "succeeded" if outcome.succeeded else "failed", tenant=tenant.id, stack=stack.name,
                changes=outcome.changes, message=outcome.message,
            )
            if not outcome.succeeded:
                say(f"{stack.name}: {operation} failed: {outcome.message}; the registry file stays")
                audit.record("offboard.stop", "failed", tenant=tenant.id, stack=stack.name)
                return OffboardResult(tenant.id, False, tuple(outcomes), record, False)
        kept = [dict(change, stack=stack.name) for change in outcome.resource_changes if change["op"] == "retain"]
        # Recorded per stack: a later stack's failure must not lose what this one left in the account.
        record = _record_retention(state / defaults.offboarding.retention_dir / f"{tenant.id}.json", tenant, kept, until, today)
        audit.record("offboard.retention", "recorded", tenant=tenant.id, stack=stack.name, record=str(record),
                     resources=len(kept), retain_until=until.isoformat())
        say(f"{stack.name}: {outcome.message or 'destroyed'}; {len(kept)} resource(s) retained until {until.isoformat()}")
    registry_file = tenant_file(tenant.id, registry_dir)
    registry_file.unlink()
    audit.record("offboard.registry", "removed", tenant=tenant.id, file=str(registry_file))
    say(f"{tenant.id}: offboarded; registry file {registry_file} removed; retention record {record}")
    return OffboardResult(tenant.id, True, tuple(outcomes), record, True)
