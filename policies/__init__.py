"""UberTruck policy packs: the seed's validation checklist as Pulumi policies.

``policies/rules`` holds the rules, one module per area; each pack directory
(``policies/security``, ``policies/platform``) is a real Pulumi policy pack whose
``__main__.py`` is the only place a ``PolicyPack`` is built (building one starts the
Analyzer server and blocks).
"""
