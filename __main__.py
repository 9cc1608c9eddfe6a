"""Pulumi program: the stack name says what to build.

``dev``/``prod`` build the shared platform of that environment; ``<tenant>-<env>`` builds that
tenant's platform from ``tenants/<tenant>.yaml`` merged over the environment's defaults.
"""

from pathlib import Path

import pulumi

from components.shared import SharedPlatform
from components.tenant import TenantPlatform
from platformctl.defaults import load_defaults
from platformctl.registry import tenant_file
from platformctl.settings import tenant_settings
from platformctl.stacks import resolve_stack

defaults = load_defaults()
registry_dir = Path(__file__).parent / (pulumi.Config(defaults.platform.project).get("registryDir") or "tenants")
stack, tenant = resolve_stack(pulumi.get_stack(), defaults.platform.environments, registry_dir)
if tenant is None:
    platform = SharedPlatform(stack.environment, defaults, registry_dir)
else:
    platform = TenantPlatform(tenant_settings(tenant, stack.environment, defaults, str(tenant_file(tenant.id, registry_dir))))
for key, value in platform.outputs.items():
    pulumi.export(key, value)
