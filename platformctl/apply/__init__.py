"""Applying stacks with the real engine: the Automation API boundary, waves, drift and offboarding.

``operations`` holds the contract between the wave scheduler and whatever runs one stack
operation (the Automation API in production, a named stand-in in tests and benchmarks).
"""
