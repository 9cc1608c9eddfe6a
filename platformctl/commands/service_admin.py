"""``platformctl tokens create|revoke|list`` and ``platformctl audit``: the provisioning service's
operator side.

``tokens create`` prints the bearer token once (only a salted hash is kept) with its public id;
``tokens list`` shows ids, scopes, labels and states, never a secret or a hash. ``audit`` reads
the service's audit trail and the offboarding audit log, filtered, as a table or ``--json``.
Each takes ``--database URL`` or ``--state-dir`` where it reads one; the default is the
configured SQLite file under ``.state``. Bad input prints one line and exits 2.

Wired into the CLI by ``register(app)``.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any, Iterator, List, Optional

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ubertruck.defaults import load_defaults
from ubertruck.errors import UserError

from ..apply.audit import AuditLog
from ..service.database import Database
from ..service.settings import ServiceSettings
from ..service.tokens import TokenRecord, TokenStore, parse_scopes

tokens_app = typer.Typer(help="Create, revoke and list the provisioning API's bearer tokens.", no_args_is_help=True)

DATABASE = typer.Option(None, "--database", metavar="URL", help="Job store URL (default: the env var in defaults.yaml service, else the SQLite file under the state folder).")
STATE = typer.Option(None, "--state-dir", help="The state folder (default: .state).")


def _console() -> Console:
    # Made per call: Rich reads the terminal width (COLUMNS) when a console is created.
    return Console(highlight=False, soft_wrap=True)


def _store(database: Optional[str], state: Optional[Path]) -> TokenStore:
    db = Database.from_settings(ServiceSettings.load(state_dir=state, database_url=database))
    db.migrate()
    return TokenStore(db)


def _expiry_days(text: Optional[str]) -> Optional[int]:
    """Whole days; the store checks the range."""
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        raise UserError("--expires", f"expected a whole number of days, got {text!r}") from None


def _when(value: Optional[dt.datetime]) -> str:
    return value.isoformat(timespec="seconds") if value is not None else ""


def _token_json(record: TokenRecord) -> dict[str, Any]:
    return {
        "token_id": record.token_id,
        "scopes": sorted(s.value for s in record.scopes),
        "label": record.label,
        "state": record.state(),
        "created_at": _when(record.created_at),
        "expires_at": _when(record.expires_at) or None,
        "revoked_at": _when(record.revoked_at) or None,
    }


@tokens_app.command("create")
def create(
    scope: Optional[List[str]] = typer.Option(None, "--scope", metavar="SCOPE", help="read, provision or offboard (repeatable)."),
    expires: Optional[str] = typer.Option(None, "--expires", metavar="DAYS", help="Days until the token expires (default: never)."),
    label: str = typer.Option("", "--label", help="What the token is for (shown by tokens list)."),
    database: Optional[str] = DATABASE,
    state: Optional[Path] = STATE,
) -> None:
    """Create a token; it is printed once, with its id (only a hash of it is kept)."""
    scopes = parse_scopes(scope or [])
    days = _expiry_days(expires)
    record, secret = _store(database, state).create(scopes, expires_days=days, label=label)
    typer.echo(f"token_id: {record.token_id}")
    typer.echo(f"token: {secret}")
    expiry = f"expires {_when(record.expires_at)}" if record.expires_at else "never expires"
    typer.echo(f"scopes {', '.join(sorted(s.value for s in record.scopes))}; {expiry}. The token is shown only now: store it.", err=True)


@tokens_app.command("revoke")
def revoke(
    token_id: str = typer.Argument(..., metavar="TOKEN_ID", help="The token's id (tok_...)."),
    database: Optional[str] = DATABASE,
    state: Optional[Path] = STATE,
) -> None:
    """Revoke a token: from now on the API refuses it."""
    record = _store(database, state).revoke(token_id)
    typer.echo(f"revoked {record.token_id} at {_when(record.revoked_at)}")


@tokens_app.command("list")
def list_tokens(
    as_json: bool = typer.Option(False, "--json", help="JSON, one object per token."),
    database: Optional[str] = DATABASE,
    state: Optional[Path] = STATE,
) -> None:
    """List tokens: id, scopes, label, state and times (never a secret or a hash)."""
    records = _store(database, state).list()
    if as_json:
        typer.echo(json.dumps([_token_json(r) for r in records], indent=2))
        return
    table = Table()
    # The id is what revoke takes: never cut short, whatever the terminal's width.
    table.add_column("id", no_wrap=True, min_width=max((len(r.token_id) for r in records), default=0))
    for name in ("scopes", "label", "state", "created", "expires"):
        table.add_column(name, overflow="fold")
    for record in records:
        table.add_row(
            record.token_id, ", ".join(sorted(s.value for s in record.scopes)), Text(record.label), record.state(),
            _short(record.created_at), _short(record.expires_at) or "never",
        )
    _console().print(table)


def _short(value: Optional[dt.datetime]) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else ""


# --- audit -----------------------------------------------------------------------------------


def _since(text: Optional[str]) -> Optional[dt.datetime]:
    if text is None:
        return None
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise UserError("--since", f"expected an ISO date or time such as 2026-11-29 or 2026-11-29T22:00:00Z, got {text!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)


def _read(log: str, path: Path) -> Iterator[dict[str, Any]]:
    try:
        for entry in AuditLog(path).entries():
            yield {"log": log, **entry}
    except (ValueError, TypeError, UnicodeDecodeError):
        raise UserError(str(path), "not an audit log (a line is not a JSON object)") from None


def _matches(entry: dict[str, Any], tenant: Optional[str], action: Optional[str], token: Optional[str], since: Optional[dt.datetime]) -> bool:
    if tenant is not None and entry.get("tenant") != tenant:
        return False
    name = str(entry.get("action", ""))
    if action is not None and name != action and not name.startswith(f"{action}."):
        return False
    if token is not None and entry.get("token_id") != token:
        return False
    if since is not None:
        try:
            when = dt.datetime.fromisoformat(str(entry.get("time")))
        except ValueError:
            return False
        return (when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)) >= since
    return True


#: Fields every audit record has; the rest make the table's detail column.
_COMMON = ("log", "time", "operator", "action", "tenant", "stack", "outcome", "token_id")


def _detail(entry: dict[str, Any]) -> str:
    if entry.get("action") == "request":
        changed = f" changed {', '.join(entry['changed'])}" if entry.get("changed") else ""
        reason = f" ({entry['reason']})" if entry.get("reason") else ""
        return f"{entry.get('method', '')} {entry.get('path', '')} -> {entry.get('status', '')}{reason}{changed}"
    parts = [f"stack {entry['stack']}"] if entry.get("stack") else []
    parts += [f"{key} {json.dumps(value, sort_keys=True) if isinstance(value, (dict, list)) else value}" for key, value in sorted(entry.items()) if key not in _COMMON]
    return "; ".join(parts)


def audit(
    tenant: Optional[str] = typer.Option(None, "--tenant", "-t", help="Only this tenant's records."),
    action: Optional[str] = typer.Option(None, "--action", "-a", help="Only this action (`job` matches every job.* action)."),
    token: Optional[str] = typer.Option(None, "--token", metavar="TOKEN_ID", help="Only records of this token id."),
    since: Optional[str] = typer.Option(None, "--since", metavar="ISO", help="Only records at or after this time (UTC unless it names a zone)."),
    as_json: bool = typer.Option(False, "--json", help="JSON: a list of the records as written."),
    state: Optional[Path] = STATE,
) -> None:
    """Read the audit trail: the provisioning service's requests and job transitions, and offboarding."""
    start = _since(since)
    settings = ServiceSettings.load(state_dir=state)
    logs = {"service": settings.audit_path, "offboarding": settings.state_dir / load_defaults().offboarding.audit_file}
    entries = [e for name, path in logs.items() for e in _read(name, path) if _matches(e, tenant, action, token, start)]
    entries.sort(key=lambda e: str(e.get("time", "")))
    if as_json:
        typer.echo(json.dumps(entries, indent=2, sort_keys=True))
        return
    table = Table("time", "actor", "action", "tenant", "outcome", "detail")
    for entry in entries:
        # A service record's actor is its token (none when the request came without a valid one);
        # offboarding is run by an operator at a shell.
        actor = (entry.get("token_id") or "(no token)") if entry["log"] == "service" else entry.get("operator", "")
        table.add_row(*(Text(str(v)) for v in (entry.get("time", ""), actor, entry.get("action", ""), entry.get("tenant", ""), entry.get("outcome", ""), _detail(entry))))
    _console().print(table)
    typer.echo(f"{len(entries)} record(s)", err=True)


def register(app: typer.Typer) -> None:
    app.add_typer(tokens_app, name="tokens")
    app.command("audit")(audit)
