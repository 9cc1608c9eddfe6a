"""TEST TOOLING: make chosen operations of the stand-in fail, to test failure handling end to end.

Nothing in production reads this. When the store folder holds ``faults.json`` (the name is
``localaws.faults_file`` in defaults.yaml), every provider operation first looks for a matching
entry there and, if one matches, fails with its message instead of touching the cloud::

    [
      {"operation": "create", "urn_contains": "acme-dev", "type": "aws:dynamodb/table:Table",
       "message": "table quota reached", "transient": false, "times": null}
    ]

- ``operation``: ``check``, ``diff``, ``create``, ``read``, ``update``, ``delete``, ``invoke``
  or ``*`` for any. Invokes match on their function token as ``type``.
- ``urn_contains`` and ``type``: optional filters (a URN substring; an exact type token).
- ``transient``: when true the error reads ``<localaws.transient_error>: <message>``; that text is
  AWS's throttling answer (``RequestLimitExceeded: Rate exceeded``), which the apply layer must
  classify as transient and retry. A permanent fault's error is just ``message``.
- ``times``: how many matching operations fail before the entry is spent (``null``: all of them).
  The count is shared by every provider process using the folder.
"""

from __future__ import annotations

import fcntl
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from ubertruck.atomic import write_text_atomic

from .settings import localaws_defaults

ANY_OPERATION = "*"


@dataclass(frozen=True)
class Fault:
    operation: str
    urn_contains: str = ""
    type: str = ""
    message: str = "injected fault"
    transient: bool = False
    times: int | None = None

    def matches(self, operation: str, urn: str, type_: str) -> bool:
        return (
            self.operation in (operation, ANY_OPERATION)
            and self.urn_contains in urn
            and (not self.type or self.type == type_)
            and (self.times is None or self.times > 0)
        )

    def error_text(self) -> str:
        return f"{localaws_defaults().transient_error}: {self.message}" if self.transient else self.message


class InjectedFault(Exception):
    """The failure a fault entry asked for."""


def faults_path(store_root: Path) -> Path:
    return Path(store_root) / localaws_defaults().faults_file


def install_faults(store_root: Path, faults: list[Fault]) -> None:
    """Write ``faults`` as the folder's fault list (replacing any before)."""
    write_text_atomic(faults_path(store_root), json.dumps([asdict(f) for f in faults], indent=1))


def clear_faults(store_root: Path) -> None:
    faults_path(store_root).unlink(missing_ok=True)


def raise_if_faulted(store_root: Path, operation: str, urn: str, type_: str) -> None:
    """Raise :class:`InjectedFault` if an entry of the folder's fault list matches this operation."""
    path = faults_path(store_root)
    if not path.exists():
        return
    # The lock makes "match, then count one down" one step across provider processes.
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            faults = [Fault(**entry) for entry in json.loads(path.read_text(encoding="utf-8"))]
        except FileNotFoundError:
            return
        for index, fault in enumerate(faults):
            if fault.matches(operation, urn, type_):
                if fault.times is not None:
                    faults[index] = Fault(**{**asdict(fault), "times": fault.times - 1})
                    install_faults(store_root, faults)
                raise InjectedFault(fault.error_text())
