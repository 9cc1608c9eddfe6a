"""Alembic's environment: migrations run on the connection ``Database.migrate`` hands over.

There is no alembic.ini and no URL here: the caller holds the connection, its transaction and
the lock that lets one process at a time migrate.
"""

from __future__ import annotations

from alembic import context

from platformctl.service.tables import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run the migrations through platformctl.service.database.Database.migrate()")

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
