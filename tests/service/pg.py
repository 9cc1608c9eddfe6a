"""A real PostgreSQL (Debian's postgresql 15) for the service's tests, started on a free loopback
port in a temporary folder, once per test process (each xdist worker starts its own).

Postgres refuses to run as root: when the tests run as root, the server runs as the ``postgres``
user (``runuser -u postgres --``) in a folder that user owns. Use it through the ``pg_url``
fixture (a fresh, empty database per test); tests that share it carry
``pytest.mark.xdist_group(GROUP)`` so one worker starts one server for all of them.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import psycopg
import pytest

PG_BIN = Path("/usr/lib/postgresql/15/bin")
#: The xdist group of the tests that use the server.
GROUP = "postgres"
#: Ports tried in turn: another process may take a free port between the check and the start.
PORTS_TO_TRY = 3
SUPERUSER = "postgres"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class PostgresServer:
    root: Path
    port: int
    as_user: tuple[str, ...]

    def url(self, database: str, *, password: str | None = None) -> str:
        auth = f"{SUPERUSER}:{password}" if password else SUPERUSER
        return f"postgresql+psycopg://{auth}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new empty database; its SQLAlchemy URL."""
        name = f"t_{secrets.token_hex(6)}"
        with psycopg.connect(host="127.0.0.1", port=self.port, user=SUPERUSER, dbname="postgres", autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def ctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.as_user, str(PG_BIN / "pg_ctl"), "-D", str(self.root / "data"), *args], capture_output=True, text=True)


def start_server() -> PostgresServer:
    if not (PG_BIN / "initdb").is_file():
        pytest.fail(f"PostgreSQL 15 is not installed ({PG_BIN / 'initdb'} is missing): apt-get install postgresql (.ci/run does)")
    root = Path(tempfile.mkdtemp(prefix="ut-pg-"))
    as_user: tuple[str, ...] = ()
    if os.geteuid() == 0:
        account = pwd.getpwnam(SUPERUSER)
        os.chown(root, account.pw_uid, account.pw_gid)
        as_user = ("runuser", "-u", SUPERUSER, "--")
    init = subprocess.run(
        [*as_user, str(PG_BIN / "initdb"), "-D", str(root / "data"), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"],
        capture_output=True, text=True,
    )
    if init.returncode != 0:
        pytest.fail(f"initdb failed: {init.stderr.strip()}")
    for _ in range(PORTS_TO_TRY):
        server = PostgresServer(root, _free_port(), as_user)
        # A test server: no durability needed, so no fsync; the socket goes in the folder too.
        options = f"-p {server.port} -c listen_addresses=127.0.0.1 -k {root} -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        started = server.ctl("-l", str(root / "server.log"), "-w", "-o", options, "start")
        if started.returncode == 0:
            return server
    log = (root / "server.log").read_text(errors="replace") if (root / "server.log").is_file() else ""
    pytest.fail(f"postgres did not start: {started.stderr.strip()} {log[-2000:]}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = start_server()
    try:
        yield server
    finally:
        server.ctl("-m", "immediate", "-w", "stop")
        shutil.rmtree(server.root, ignore_errors=True)


@pytest.fixture()
def pg_url(postgres_server: PostgresServer) -> str:
    """The URL of a fresh, empty database on the test server."""
    return postgres_server.create_database()
