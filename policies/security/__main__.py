"""The UberTruck security policy pack (rules: policies/rules; pack contents: PACKS["security"]).

Run as `python -m pulumi.policy <engine> policies/security` by `pulumi preview --policy-pack`
and by `platformctl plan`. Only this module builds the PolicyPack: that starts the server.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the project root, for policies.rules

from pulumi_policy import PolicyPack  # noqa: E402

from policies.rules.sdk import pack_arguments  # noqa: E402

PolicyPack(**pack_arguments("security"))
