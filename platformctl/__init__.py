"""Operator package for the UberTruck platform: offline engine, apply, provisioning API and CLI.

The registry, defaults, settings and stack model it works on live in the domain core,
``ubertruck``.
"""
