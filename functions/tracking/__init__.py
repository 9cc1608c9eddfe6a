"""Tracking service: ingest truck positions per booking; serve the latest position and the history.

Handler string: ``tracking.handler.lambda_handler``. Every limit (speed, clock skew, page size) comes
from ``/{tenant}/services/tracking/{env}/business``, and the retention from the tenant's compliance
config; see ``tracking.config_schema``. Positions belong to bookings: every route first checks the
caller against the booking's customer and assigned driver, read from the tenant's bookings table
(``tracking.bookings``).
"""
