"""The anti-pattern scanner behind ``platformctl scan``.

It finds hardcoded business and operational values (rates, timeouts, API keys, tenant-specific
branches, ``BASE_RATE=500``-style settings) in Python, read through its syntax tree, and in
configuration and environment files, read line by line. Rules are data (``rules.yaml``),
extended per repository (``antipatterns.yaml``) or per run (``--rules``).

>>> from ubertruck import PROJECT_ROOT
>>> report = scan([PROJECT_ROOT / "platformctl" / "scan"])
>>> report.findings
[]

Modules: ``ruleset`` (the rule file model), ``files`` (what is read), ``prefilter`` (the cheap
keyword test), ``python_checks`` and ``text_checks`` (matching), ``suppressions``, ``engine``
(running a scan), ``formats`` and ``sarif`` (reports).
"""

from .engine import ScanReport, scan
from .findings import Finding, SuppressedFinding

__all__ = ["Finding", "ScanReport", "SuppressedFinding", "scan"]
