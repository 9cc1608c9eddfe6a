"""Offline policy enforcement: the policy packs driven over the Analyzer protocol.

``runner.evaluate_stacks`` checks captured stacks; ``sarif.to_sarif`` reports the result for
code scanning.
"""
