"""The provisioning service's HTTP API (FastAPI): tenants, jobs, their events, health.

``create_app(settings)`` builds the application; ``platformctl serve`` runs it with uvicorn.
"""

from .app import create_app

__all__ = ["create_app"]
