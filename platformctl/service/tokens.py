"""Bearer tokens of the provisioning API: scopes, expiry, revocation; only hashes are stored.

A token reads ``<prefix>_<token id>_<secret>`` (``ut_tok_0123abcd…_9f…``). The id is public (logs
and the audit trail name it) and makes verification one primary-key lookup; the secret is random
(``token_secret_bytes``), so an HMAC-SHA256 of it keyed by a per-token salt is as strong as a slow hash and costs
microseconds per request. Comparison is constant-time. Nothing here ever puts the presented
token, or any part of the secret, into an exception or a log line.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from enum import Enum
from typing import Any, Iterable

from sqlalchemy import Row, bindparam, select

from ubertruck.errors import UserError

from .database import Database
from .tables import TokenRow


class Scope(str, Enum):
    READ = "read"
    PROVISION = "provision"
    OFFBOARD = "offboard"


#: Why a token was refused; the only words a refusal carries.
REJECTION_REASONS = ("missing", "malformed", "unknown", "expired", "revoked")


@dataclass(frozen=True)
class TokenRecord:
    token_id: str
    scopes: frozenset[Scope]
    label: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None

    def state(self, now: dt.datetime | None = None) -> str:
        """``active``, ``expired`` or ``revoked`` at ``now``."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= (now or utcnow()):
            return "expired"
        return "active"

    def allows(self, scope: Scope) -> bool:
        return scope in self.scopes


class TokenRejected(Exception):
    """A presented token is not accepted. ``reason`` is one of :data:`REJECTION_REASONS`;
    ``token_id`` is set when the token named a known id (safe to log)."""

    def __init__(self, reason: str, token_id: str | None = None) -> None:
        super().__init__(f"token rejected: {reason}")
        self.reason = reason
        self.token_id = token_id


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def parse_scopes(names: Iterable[str]) -> frozenset[Scope]:
    """Scopes from their names; UserError naming the bad one (or none given)."""
    scopes: set[Scope] = set()
    for name in names:
        try:
            scopes.add(Scope(name.strip().lower()))
        except ValueError:
            raise UserError("--scope", f"unknown scope {name!r} (expected one of: {', '.join(s.value for s in Scope)})") from None
    if not scopes:
        raise UserError("--scope", f"give at least one scope ({', '.join(s.value for s in Scope)})")
    return frozenset(scopes)


class TokenStore:
    """Create, revoke, list and verify tokens in the service's database."""

    def __init__(self, database: Database) -> None:
        self.database = database
        section = database.section
        self._section = section
        # Lengths follow from the configured byte counts (hex: two characters a byte).
        self._shape = re.compile(
            rf"^{re.escape(section.token_prefix)}_({re.escape(section.token_id_prefix)}[0-9a-f]{{{2 * section.id_bytes}}})_([0-9a-f]{{{2 * section.token_secret_bytes}}})$"
        )

    def create(self, scopes: Iterable[Scope], *, expires_days: int | None, label: str = "") -> tuple[TokenRecord, str]:
        """The record and the bearer secret (shown once; only a hash is stored)."""
        chosen = frozenset(Scope(s) for s in scopes)
        if not chosen:
            raise UserError("--scope", f"give at least one scope ({', '.join(s.value for s in Scope)})")
        if expires_days is not None and not 1 <= expires_days <= self._section.token_max_expiry_days:
            raise UserError("--expires", f"expected a whole number of days from 1 to {self._section.token_max_expiry_days}")
        if len(label) > self._section.token_label_max_length or any(not ch.isprintable() for ch in label):
            raise UserError("--label", f"expected printable text of at most {self._section.token_label_max_length} characters")
        now = utcnow()
        token_id = self._section.token_id_prefix + secrets.token_hex(self._section.id_bytes)
        secret = secrets.token_hex(self._section.token_secret_bytes)
        salt = secrets.token_hex(self._section.token_salt_bytes)
        row = TokenRow(
            token_id=token_id,
            salt=salt,
            secret_hash=_hash(salt, secret),
            scopes=",".join(sorted(s.value for s in chosen)),
            label=label,
            created_at=now,
            expires_at=now + dt.timedelta(days=expires_days) if expires_days is not None else None,
            revoked_at=None,
        )
        with self.database.session(write=True) as session:
            session.add(row)
            record = _record(row)
        return record, f"{self._section.token_prefix}_{token_id}_{secret}"

    def revoke(self, token_id: str) -> TokenRecord:
        """Revoke a token (from now on it is refused); revoking it again keeps the first time."""
        with self.database.session(write=True) as session:
            row = session.get(TokenRow, token_id)
            if row is None:
                raise UserError("token", f"no token with id {token_id!r}")
            if row.revoked_at is None:
                row.revoked_at = utcnow()
            return _record(row)

    def verify(self, presented: str | None) -> TokenRecord:
        """The record of a valid token; :class:`TokenRejected` otherwise."""
        if not presented:
            raise TokenRejected("missing")
        match = self._shape.match(presented.strip())
        if match is None:
            raise TokenRejected("malformed")
        token_id, secret = match.groups()
        # Read afresh on every call (one primary-key row, no ORM object): a token revoked a moment
        # ago is refused on the very next request, in every server process.
        with self.database.reading() as connection:
            row = connection.execute(_VERIFY, {"token_id": token_id}).one_or_none()
        # An unknown id and a wrong secret read alike to the caller: neither confirms the id.
        if row is None or not hmac.compare_digest(row.secret_hash, _hash(row.salt, secret)):
            raise TokenRejected("unknown")
        record = _record(row)
        state = record.state()
        if state != "active":
            raise TokenRejected(state, token_id)
        return record

    def get(self, token_id: str) -> TokenRecord | None:
        with self.database.session() as session:
            row = session.get(TokenRow, token_id)
            return _record(row) if row is not None else None

    def list(self) -> list[TokenRecord]:
        """Every token, oldest first (revoked and expired ones too)."""
        with self.database.session() as session:
            rows = session.scalars(select(TokenRow).order_by(TokenRow.created_at, TokenRow.token_id)).all()
            return [_record(row) for row in rows]


#: What verification reads: the token's row (every field of :class:`TokenRecord`, the salt and the
#: hash), as a statement built once.
_VERIFY = select(*TokenRow.__table__.columns).where(TokenRow.token_id == bindparam("token_id"))


def _hash(salt: str, secret: str) -> str:
    return hmac.new(bytes.fromhex(salt), secret.encode("ascii"), hashlib.sha256).hexdigest()


def _record(row: TokenRow | Row[Any]) -> TokenRecord:
    return TokenRecord(
        token_id=row.token_id,
        scopes=frozenset(Scope(name) for name in row.scopes.split(",") if name),
        label=row.label,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )
