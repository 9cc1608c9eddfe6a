"""TokenStore: tokens are created with scopes and expiry, stored only as salted hashes, verified
in one lookup, revoked; every refusal names its reason and never the token."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from platformctl.service.database import Database
from platformctl.service.settings import sqlite_url
from platformctl.service.tables import TokenRow
from platformctl.service.tokens import REJECTION_REASONS, Scope, TokenRecord, TokenRejected, TokenStore, parse_scopes
from ubertruck.defaults import load_defaults
from ubertruck.errors import UserError

SECTION = load_defaults().service


@pytest.fixture()
def tokens(tmp_path) -> TokenStore:
    database = Database(sqlite_url(tmp_path / "tokens.sqlite"))
    database.migrate()
    return TokenStore(database)


def _rejection(tokens: TokenStore, presented: str | None) -> TokenRejected:
    with pytest.raises(TokenRejected) as refused:
        tokens.verify(presented)
    return refused.value


def _assert_never_quotes(error: TokenRejected, presented: str) -> None:
    secret = presented.rsplit("_", 1)[-1]
    for text in (str(error), repr(error), repr(error.args), error.reason):
        assert presented not in text and (len(secret) < 8 or secret not in text)


def test_created_token_verifies_to_its_record(tokens):
    record, secret = tokens.create([Scope.READ, Scope.PROVISION], expires_days=30, label="ci pipeline")
    assert secret.startswith(f"{SECTION.token_prefix}_{record.token_id}_")
    assert record.token_id.startswith(SECTION.token_id_prefix)
    assert record.scopes == frozenset({Scope.READ, Scope.PROVISION})
    assert record.label == "ci pipeline"
    assert record.expires_at - record.created_at == dt.timedelta(days=30)
    assert record.created_at.tzinfo == dt.timezone.utc
    assert tokens.verify(secret) == record
    assert tokens.verify(f"  {secret}\n") == record, "whitespace around a header value is not part of the token"
    assert record.allows(Scope.PROVISION) and not record.allows(Scope.OFFBOARD)


def test_a_token_without_expiry_never_expires(tokens):
    record, secret = tokens.create([Scope.OFFBOARD], expires_days=None)
    assert record.expires_at is None
    assert record.state(dt.datetime.max.replace(tzinfo=dt.timezone.utc)) == "active"
    assert tokens.verify(secret).token_id == record.token_id


def test_only_a_salted_hash_of_the_secret_is_stored(tokens):
    first, secret = tokens.create([Scope.READ], expires_days=None)
    second, _ = tokens.create([Scope.READ], expires_days=None)
    secret_part = secret.rsplit("_", 1)[-1]
    with tokens.database.session() as session:
        rows = {row.token_id: row for row in session.scalars(select(TokenRow))}
    for column in TokenRow.__table__.columns:
        assert secret_part not in str(getattr(rows[first.token_id], column.key)), column.key
    assert rows[first.token_id].salt != rows[second.token_id].salt
    assert "hash" not in {f.name for f in dataclasses.fields(TokenRecord)} and "salt" not in {f.name for f in dataclasses.fields(TokenRecord)}


@pytest.mark.parametrize("presented", [None, ""])
def test_missing_token(tokens, presented):
    assert _rejection(tokens, presented).reason == "missing"


def test_malformed_tokens(tokens):
    _, secret = tokens.create([Scope.READ], expires_days=None)
    for presented in (f"Bearer {secret}", secret[:-1], secret + "0", secret.replace(SECTION.token_prefix, "xx", 1), secret.upper(), "ut_tok_x_y"):
        error = _rejection(tokens, presented)
        assert error.reason == "malformed", presented
        _assert_never_quotes(error, presented)


def test_unknown_id_and_wrong_secret_read_alike(tokens):
    record, secret = tokens.create([Scope.READ], expires_days=None)
    last = secret[-1]
    wrong_secret = secret[:-1] + ("0" if last != "0" else "1")
    unknown_id = secret.replace(record.token_id, SECTION.token_id_prefix + "0" * (2 * SECTION.id_bytes))
    for presented in (wrong_secret, unknown_id):
        error = _rejection(tokens, presented)
        assert (error.reason, error.token_id) == ("unknown", None)
        _assert_never_quotes(error, presented)


def test_expired_token_is_refused(tokens):
    record, secret = tokens.create([Scope.READ], expires_days=1)
    past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)
    with tokens.database.session(write=True) as session:
        session.execute(update(TokenRow).where(TokenRow.token_id == record.token_id).values(expires_at=past))
    error = _rejection(tokens, secret)
    assert (error.reason, error.token_id) == ("expired", record.token_id)
    _assert_never_quotes(error, secret)
    assert record.state(record.expires_at) == "expired" and record.state(record.created_at) == "active"


def test_revoked_token_is_refused_and_revoking_again_keeps_the_first_time(tokens):
    record, secret = tokens.create([Scope.READ, Scope.OFFBOARD], expires_days=None)
    other, other_secret = tokens.create([Scope.READ], expires_days=None)
    revoked = tokens.revoke(record.token_id)
    assert revoked.revoked_at is not None and revoked.state() == "revoked"
    error = _rejection(tokens, secret)
    assert (error.reason, error.token_id) == ("revoked", record.token_id)
    _assert_never_quotes(error, secret)
    assert tokens.revoke(record.token_id).revoked_at == revoked.revoked_at
    assert tokens.verify(other_secret) == other, "revoking one token leaves the others"


def test_revoking_an_unknown_token_is_bad_input(tokens):
    with pytest.raises(UserError, match="no token with id 'tok_nope'"):
        tokens.revoke("tok_nope")


def test_list_is_every_token_oldest_first_with_its_state(tokens):
    first, _ = tokens.create([Scope.READ], expires_days=None, label="a")
    second, _ = tokens.create([Scope.PROVISION], expires_days=5, label="b")
    tokens.revoke(first.token_id)
    listed = tokens.list()
    assert [r.token_id for r in listed] == [first.token_id, second.token_id]
    assert [r.state() for r in listed] == ["revoked", "active"]
    assert tokens.get(second.token_id) == second and tokens.get("tok_nope") is None


@pytest.mark.parametrize(
    ("kwargs", "where"),
    [
        ({"scopes": [], "expires_days": None}, "--scope"),
        ({"scopes": [Scope.READ], "expires_days": 0}, "--expires"),
        ({"scopes": [Scope.READ], "expires_days": SECTION.token_max_expiry_days + 1}, "--expires"),
        ({"scopes": [Scope.READ], "expires_days": None, "label": "x" * (SECTION.token_label_max_length + 1)}, "--label"),
        ({"scopes": [Scope.READ], "expires_days": None, "label": "two\nlines"}, "--label"),
    ],
)
def test_create_refuses_bad_input_and_stores_nothing(tokens, kwargs, where):
    scopes = kwargs.pop("scopes")
    with pytest.raises(UserError) as refused:
        tokens.create(scopes, **kwargs)
    assert refused.value.where == where
    assert tokens.list() == []


def test_parse_scopes():
    assert parse_scopes(["read", " PROVISION ", "read"]) == frozenset({Scope.READ, Scope.PROVISION})
    with pytest.raises(UserError, match="unknown scope 'admin'"):
        parse_scopes(["read", "admin"])
    with pytest.raises(UserError, match="at least one scope"):
        parse_scopes([])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(presented=st.text(min_size=1, max_size=200) | st.from_regex(r"ut_tok_[0-9a-f]{16}_[0-9a-f]{64}", fullmatch=True))
def test_any_presented_string_is_refused_with_a_known_reason_and_never_quoted(tokens, presented):
    with pytest.raises(TokenRejected) as refused:
        tokens.verify(presented)
    assert refused.value.reason in REJECTION_REASONS
    if presented.strip():
        assert presented.strip() not in str(refused.value) or presented.strip() in "token rejected: " + refused.value.reason
