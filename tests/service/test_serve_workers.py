"""``platformctl serve --workers N``: one server process builds its app itself; several are
uvicorn's workers, each building its app from the command's arguments (handed through the
environment) over the same job store and registry the command migrated and was given."""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any, Iterator
from unittest import mock

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from platformctl.service.api import serving
from platformctl.service.database import Database
from platformctl.service.settings import ServiceSettings
from platformctl.service.tokens import Scope, TokenStore
from tests.registry.support import run_cli
from tests.service.app_support import copy_registry
from ubertruck.defaults import load_defaults

SECTION = load_defaults().service


@pytest.fixture()
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The arguments' variable is unset before and restored after (serve sets it in this process)."""
    # Set, then deleted: monkeypatch then restores it as it was (unset) whatever serve wrote.
    monkeypatch.setenv(serving.ARGUMENTS_VARIABLE, "")
    monkeypatch.delenv(serving.ARGUMENTS_VARIABLE)
    yield


def _serve(tmp_path: Path, *options: str) -> tuple[dict[str, Any], Path, Path]:
    """Run ``serve`` with uvicorn.run recorded instead of listening: uvicorn's call, state, registry."""
    registry, state = copy_registry(tmp_path), tmp_path / "state"
    calls: list[dict[str, Any]] = []
    with mock.patch.object(uvicorn, "run", lambda app, **kwargs: calls.append({"app": app, **kwargs})):
        result = run_cli("serve", "--port", "18080", "--state-dir", str(state), "--registry", str(registry), *options)
    assert result.code == 0, result.stderr
    assert len(calls) == 1
    return calls[0], state, registry


def test_several_workers_build_their_app_over_the_job_store_and_registry_serve_was_given(tmp_path: Path, environment: None) -> None:
    call, state, registry = _serve(tmp_path, "--workers", "2")
    assert (call["app"], call["factory"], call["workers"], call["port"]) == (serving.APP_FACTORY, True, 2, 18080)
    # The command migrated the store: a token made there now is what a worker's app verifies.
    database = Database.from_settings(ServiceSettings.load(state_dir=state))
    token = TokenStore(database).create([Scope.READ], expires_days=None, label="worker")[1]
    module, name = call["app"].split(":")
    app = getattr(importlib.import_module(module), name)()
    assert isinstance(app, FastAPI)
    client = TestClient(app)
    answer = client.get("/tenants/acme", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["id"] == "acme"
    assert (registry / "acme.yaml").is_file()


def test_one_worker_runs_the_app_in_the_command_itself(tmp_path: Path, environment: None) -> None:
    call, _, _ = _serve(tmp_path, "--workers", "1")
    assert isinstance(call["app"], FastAPI)
    assert "workers" not in call and "factory" not in call
    assert serving.ARGUMENTS_VARIABLE not in os.environ


def test_without_workers_the_service_section_says_how_many(tmp_path: Path, environment: None) -> None:
    call, _, _ = _serve(tmp_path)
    assert call.get("workers", 1) == SECTION.server_workers


def test_a_worker_reads_every_token_afresh_so_a_revoked_one_is_refused_at_once(tmp_path: Path, environment: None) -> None:
    call, state, _ = _serve(tmp_path, "--workers", "2")
    store = TokenStore(Database.from_settings(ServiceSettings.load(state_dir=state)))
    record, token = store.create([Scope.READ], expires_days=None, label="revoked")
    # Two apps as two worker processes build them; the token is revoked through neither.
    first, second = (TestClient(serving.app_from_environment()) for _ in range(2))
    headers = {"Authorization": f"Bearer {token}"}
    assert [c.get("/tenants/acme", headers=headers).status_code for c in (first, second)] == [200, 200]
    store.revoke(record.token_id)
    answers = [c.get("/tenants/acme", headers=headers) for c in (first, second)]
    assert [a.status_code for a in answers] == [401, 401]
    assert all(a.json()["detail"] == "unauthorised: token revoked" for a in answers)


def test_the_factory_outside_serve_says_what_it_is_for(environment: None) -> None:
    with pytest.raises(RuntimeError, match=serving.ARGUMENTS_VARIABLE):
        serving.app_from_environment()
