"""The UberTruck platform policy pack (rules: policies/rules; pack contents: PACKS["platform"]).

Run as `python -m pulumi.policy <engine> policies/platform` by `pulumi preview --policy-pack`
(through policies/start-pack) and by `platformctl plan`. Only this module builds the PolicyPack:
that starts the server. The rules come from the installed `policies` package (`pip install -e .`).
"""

from pulumi_policy import PolicyPack

from policies.rules.sdk import pack_arguments

PolicyPack(**pack_arguments("platform"))
