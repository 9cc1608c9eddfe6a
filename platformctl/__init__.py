"""Operator package for the UberTruck platform: registry, stack model, offline engine and CLI."""

from pathlib import Path

#: The project root: where Pulumi.yaml, defaults.yaml and tenants/ live.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
