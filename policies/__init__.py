"""UberTruck policy packs: the seed's validation checklist as Pulumi policies.

``policies/rules`` holds the rules, one module per area; each pack directory
(``policies/security``, ``policies/platform``) is a real Pulumi policy pack whose
``__main__.py`` is the only place a ``PolicyPack`` is built (building one starts the
Analyzer server and blocks). ``policies/sdk_compat.py`` is the one module that touches private
SDK names; the packs use it to choose between the stock SDK and the offline engine's fast paths.

Installed as a package (``pip install -e .``), so the packs import ``policies.rules`` without any
search-path edit, whichever engine starts them.
"""
