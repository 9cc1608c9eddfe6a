"""The provisioning service's audit trail: every API request and every job transition.

It is the same append-only JSONL as the engine commands' audit log (``platformctl/apply/audit.py``:
``O_APPEND``, fsync before the call returns, nothing ever rewritten), with the service's fields:
``token_id`` (the actor; never the token itself), ``tenant``, ``action``, ``outcome`` and what
changed. What changed is recorded as the dotted paths of the changed fields, never their values:
a tenant's config can hold values that must not be copied into a log.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator, Mapping

from ..apply.audit import AuditLog

#: The ``action`` of a request record; a job transition's is ``job.<transition>``.
REQUEST_ACTION = "request"
JOB_ACTION_PREFIX = "job."


def changed_paths(change: Mapping[str, Any], prefix: str = "") -> list[str]:
    """The dotted path of every leaf of ``change`` (a mapping's keys, never its values).

    >>> changed_paths({"tier": "gold", "config": {"global": {"a": 1, "b": {}}}})
    ['config.global.a', 'config.global.b', 'tier']
    """
    paths: list[str] = []
    for key, value in change.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            paths.extend(changed_paths(value, f"{path}."))
        else:
            paths.append(path)
    return sorted(paths)


class ServiceAudit:
    """Appends the service's records to ``path`` (one JSON object a line)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._log = AuditLog(path)

    def request(
        self,
        *,
        token_id: str | None,
        method: str,
        path: str,
        tenant: str | None,
        status: int,
        change: Mapping[str, Any] | None = None,
        reason: str | None = None,
    ) -> None:
        """One API request: who (token id, or none when no valid token came), what, and how it ended."""
        details: dict[str, Any] = {"token_id": token_id, "method": method, "path": path, "status": status}
        if change is not None:
            details["changed"] = changed_paths(change)
        if reason is not None:
            details["reason"] = reason
        self._log.record(REQUEST_ACTION, _outcome(status), tenant=tenant or "", **details)

    def job(self, *, job_id: str, tenant: str, token_id: str, transition: str, outcome: str, detail: Mapping[str, Any] | None = None) -> None:
        """One job transition (queued, started, retried, finished ...) and its outcome.

        ``detail`` carries facts such as stack names, change counts or an error summary; it is
        written as given, so it must hold no config value and no secret."""
        details: dict[str, Any] = {"token_id": token_id, "job_id": job_id}
        if detail:
            details["detail"] = dict(detail)
        self._log.record(f"{JOB_ACTION_PREFIX}{transition}", outcome, tenant=tenant, **details)

    def entries(self) -> Iterator[dict[str, Any]]:
        return self._log.entries()


def _outcome(status: int) -> str:
    """How a request ended, in a word: ``accepted`` (2xx/3xx), ``refused`` (4xx), ``error`` (5xx)."""
    if status >= 500:
        return "error"
    return "refused" if status >= 400 else "accepted"
