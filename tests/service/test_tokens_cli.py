"""``platformctl tokens create|revoke|list``: the token is printed once with its id, list never
shows a secret or a hash, bad input is one line and exit 2."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from platformctl.service.database import Database
from platformctl.service.settings import sqlite_url
from platformctl.service.tables import TokenRow
from platformctl.service.tokens import Scope, TokenRejected, TokenStore
from tests.registry.support import run_cli
from ubertruck.defaults import load_defaults

SECTION = load_defaults().service


@pytest.fixture()
def url(tmp_path) -> str:
    return sqlite_url(tmp_path / "tokens.sqlite")


def _create(url: str, *args: str) -> tuple[str, str]:
    result = run_cli("tokens", "create", *args, "--database", url)
    assert result.code == 0, result.stderr
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines())
    assert set(lines) == {"token_id", "token"}
    return lines["token_id"], lines["token"]


def test_create_prints_the_token_once_and_it_verifies(url):
    token_id, token = _create(url, "--scope", "read", "--scope", "provision", "--expires", "7", "--label", "ci")
    record = TokenStore(Database(url)).verify(token)
    assert record.token_id == token_id
    assert record.scopes == frozenset({Scope.READ, Scope.PROVISION})
    assert (record.label, (record.expires_at - record.created_at).days) == ("ci", 7)


def test_list_shows_ids_scopes_and_states_and_never_a_secret_or_hash(url, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    kept_id, kept = _create(url, "--scope", "read", "--label", "reader")
    gone_id, gone = _create(url, "--scope", "offboard")
    assert run_cli("tokens", "revoke", gone_id, "--database", url).code == 0
    with Database(url).session() as session:
        stored = [(row.secret_hash, row.salt) for row in session.scalars(select(TokenRow))]
    table = run_cli("tokens", "list", "--database", url)
    as_json = run_cli("tokens", "list", "--json", "--database", url)
    assert table.code == as_json.code == 0
    for output in (table.stdout, as_json.stdout):
        for token in (kept, gone):
            assert token.rsplit("_", 1)[-1] not in output
        for secret_hash, salt in stored:
            assert secret_hash not in output and salt not in output
    rows = json.loads(as_json.stdout)
    assert [(r["token_id"], r["scopes"], r["state"]) for r in rows] == [(kept_id, ["read"], "active"), (gone_id, ["offboard"], "revoked")]
    assert rows[1]["revoked_at"] is not None
    lines = {line.split("│")[1].strip(): line for line in table.stdout.splitlines() if line.startswith("│")}
    assert "reader" in lines[kept_id] and "active" in lines[kept_id]
    assert "revoked" in lines[gone_id]


def test_revoke_makes_the_token_refused(url):
    token_id, token = _create(url, "--scope", "read")
    result = run_cli("tokens", "revoke", token_id, "--database", url)
    assert result.code == 0 and token_id in result.stdout
    with pytest.raises(TokenRejected) as refused:
        TokenStore(Database(url)).verify(token)
    assert refused.value.reason == "revoked"


def test_default_database_is_the_configured_sqlite_file_under_the_state_folder(tmp_path, monkeypatch):
    monkeypatch.delenv(SECTION.database_url_env_var, raising=False)
    result = run_cli("tokens", "create", "--scope", "read", "--state-dir", str(tmp_path))
    assert result.code == 0, result.stderr
    assert (tmp_path / SECTION.database_file).is_file()
    token = dict(line.split(": ", 1) for line in result.stdout.splitlines())["token"]
    assert TokenStore(Database(sqlite_url(tmp_path / SECTION.database_file))).verify(token)


def test_the_environment_variable_names_the_database(tmp_path, monkeypatch):
    url = sqlite_url(tmp_path / "from-env.sqlite")
    monkeypatch.setenv(SECTION.database_url_env_var, url)
    assert run_cli("tokens", "create", "--scope", "read", "--state-dir", str(tmp_path / "state")).code == 0
    assert len(TokenStore(Database(url)).list()) == 1
    assert not (tmp_path / "state" / SECTION.database_file).exists()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["create"], "--scope: give at least one scope"),
        (["create", "--scope", "admin"], "--scope: unknown scope 'admin'"),
        (["create", "--scope", "read", "--expires", "soon"], "--expires: expected a whole number of days, got 'soon'"),
        (["create", "--scope", "read", "--expires", "0"], "--expires: expected a whole number of days from 1"),
        (["create", "--scope", "read", "--label", "x" * (SECTION.token_label_max_length + 1)], "--label: expected printable text"),
        (["revoke", "tok_0000"], "token: no token with id 'tok_0000'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(url, args, words):
    Database(url).migrate()
    result = run_cli("tokens", *args, "--database", url)
    assert result.code == 2
    assert result.stdout == ""
    assert len(result.error_lines) == 1 and len(result.stderr.splitlines()) == 1
    assert words in result.error_lines[0]
    assert TokenStore(Database(url)).list() == [], "nothing was created"


@pytest.mark.parametrize("database", ["not-a-url", "mysql://u@h/d", "postgresql+psycopg://ops:pw-not-shown@127.0.0.1:1/jobs"])
def test_a_bad_or_unreachable_database_is_one_line_and_exit_2(database):
    result = run_cli("tokens", "list", "--database", database)
    assert result.code == 2
    assert len(result.stderr.splitlines()) == 1 and result.error_lines
    assert "pw-not-shown" not in result.stderr
