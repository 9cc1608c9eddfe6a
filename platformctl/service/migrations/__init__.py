"""Alembic migrations of the provisioning service's store (``Database.migrate`` runs them)."""
