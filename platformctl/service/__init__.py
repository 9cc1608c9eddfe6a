"""The self-service provisioning service: an HTTP API that queues tenant jobs, the workers that
run them, and what both share: the job records and tokens (a relational store through
SQLAlchemy, schema by Alembic migrations) and the append-only audit trail."""
