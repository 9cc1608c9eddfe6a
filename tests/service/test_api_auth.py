"""Bearer tokens on the API: 401 for each bad-token form, 403 for each route a scope does not
cover, both logged and audited without the token; /healthz needs none."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import update

from platformctl.service.tables import TokenRow
from platformctl.service.tokens import Scope, TokenStore

from .app_support import Rig, new_tenant, running_rig


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    with running_rig(tmp_path) as rig:
        yield rig


def _audit(rig: Rig) -> list[dict]:
    return [json.loads(line) for line in rig.settings.audit_path.read_text().splitlines()]


def _bad_header(rig: Rig, form: str) -> tuple[dict[str, str], str]:
    """An Authorization header of the given bad form, and the secret it carries (to look for)."""
    store = TokenStore(rig.database)
    if form == "missing":
        return {}, ""
    if form == "not bearer":
        return {"Authorization": f"Basic {rig.tokens['read']}"}, rig.tokens["read"]
    if form == "malformed":
        return {"Authorization": "Bearer not-a-token"}, "not-a-token"
    if form == "unknown":
        record, secret = store.create([Scope.READ], expires_days=None)
        forged = secret[:-1] + ("0" if secret[-1] != "0" else "1")  # the right shape, the wrong secret
        return {"Authorization": f"Bearer {forged}"}, forged
    record, secret = store.create([Scope.READ], expires_days=30)
    if form == "expired":
        with rig.database.session(write=True) as session:
            session.execute(update(TokenRow).where(TokenRow.token_id == record.token_id).values(expires_at=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)))
    else:
        store.revoke(record.token_id)
    return {"Authorization": f"Bearer {secret}"}, secret


REASONS = {"missing": "missing", "not bearer": "malformed", "malformed": "malformed", "unknown": "unknown", "expired": "expired", "revoked": "revoked"}


@pytest.mark.parametrize("form", sorted(REASONS))
def test_a_bad_token_is_401_logged_and_audited_without_the_token(rig: Rig, form: str, caplog: pytest.LogCaptureFixture) -> None:
    headers, secret = _bad_header(rig, form)
    with caplog.at_level(logging.WARNING, logger="platformctl.service.api"):
        response = rig.client.get("/tenants", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {"detail": f"unauthorised: token {REASONS[form]}"}
    record = _audit(rig)[-1]
    assert (record["path"], record["status"], record["outcome"], record["reason"]) == ("/tenants", 401, "refused", f"token {REASONS[form]}")
    assert any(f"token {REASONS[form]}" in message for message in caplog.messages)
    if secret:
        assert secret not in rig.settings.audit_path.read_text()
        assert not any(secret in message for message in caplog.messages)
        assert secret not in response.text


def _routes(rig: Rig) -> dict[str, tuple[str, str, dict | None]]:
    """A request per route (method, path, body), by the scope it needs."""
    return {
        "GET /tenants": ("GET", "/tenants", None),
        "GET /tenants/{id}": ("GET", "/tenants/acme", None),
        "GET /jobs/{id}": ("GET", "/jobs/job_0", None),
        "GET /jobs/{id}/events": ("GET", "/jobs/job_0/events", None),
        "GET /readyz": ("GET", "/readyz", None),
        "POST /tenants": ("POST", "/tenants", new_tenant("zeta")),
        "PATCH /tenants/{id}": ("PATCH", "/tenants/acme", {"display_name": "Acme"}),
        "DELETE /tenants/{id}": ("DELETE", "/tenants/acme", None),
    }


NEEDS = {
    "GET /tenants": Scope.READ, "GET /tenants/{id}": Scope.READ, "GET /jobs/{id}": Scope.READ, "GET /jobs/{id}/events": Scope.READ,
    "GET /readyz": Scope.READ, "POST /tenants": Scope.PROVISION, "PATCH /tenants/{id}": Scope.PROVISION, "DELETE /tenants/{id}": Scope.OFFBOARD,
}
WRONG = [(route, scope) for route, needed in NEEDS.items() for scope in Scope if scope != needed]


@pytest.mark.parametrize(("route", "scope"), WRONG, ids=[f"{route} with {scope.value}" for route, scope in WRONG])
def test_a_token_without_the_scope_is_403_and_changes_nothing(rig: Rig, route: str, scope: Scope, caplog: pytest.LogCaptureFixture) -> None:
    method, path, body = _routes(rig)[route]
    before = sorted(p.name for p in rig.registry.iterdir())
    with caplog.at_level(logging.WARNING, logger="platformctl.service.api"):
        response = rig.client.request(method, path, json=body, headers=rig.auth(scope.value))
    assert response.status_code == 403
    assert response.json() == {"detail": f"forbidden: this token lacks the '{NEEDS[route].value}' scope"}
    assert sorted(p.name for p in rig.registry.iterdir()) == before
    assert rig.jobs.unfinished() == []
    record = _audit(rig)[-1]
    assert (record["status"], record["reason"]) == (403, f"scope {NEEDS[route].value} missing")
    assert record["token_id"] and rig.tokens[scope.value] not in rig.settings.audit_path.read_text()
    assert any("lacks scope" in message for message in caplog.messages)


def test_each_scope_reaches_its_routes(rig: Rig) -> None:
    # The other side of the 403s: the needed scope gets past auth (404 for the made-up job id).
    statuses = {route: rig.client.request(method, path, json=body, headers=rig.auth(NEEDS[route].value)).status_code
                for route, (method, path, body) in _routes(rig).items()}
    assert statuses == {
        "GET /tenants": 200, "GET /tenants/{id}": 200, "GET /jobs/{id}": 404, "GET /jobs/{id}/events": 404, "GET /readyz": 200,
        "POST /tenants": 202, "PATCH /tenants/{id}": 202, "DELETE /tenants/{id}": 202,
    }


def test_healthz_needs_no_token_and_is_not_audited(rig: Rig) -> None:
    response = rig.client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    assert not rig.settings.audit_path.exists() or all(r["path"] != "/healthz" for r in _audit(rig))
