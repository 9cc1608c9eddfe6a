"""Pulumi component resources: one module per service; ``tenant.py`` and ``shared.py`` compose them.

Conventions: type token ``ubertruck:<module>:<Name>``, ``parent=self`` on every child, typed
inputs (dataclasses), ``register_outputs`` last, resource names starting ``<tenant>-<env>``.
"""
