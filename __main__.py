"""Pulumi program: the stack name says what to build.

``dev``/``prod`` build the shared platform of that environment, over the registry's tenant stacks
of that environment; ``<tenant>-<env>`` builds that tenant's platform from ``tenants/<tenant>.yaml``
merged over the environment's defaults, with the Lambda artifacts ``platformctl package`` builds
(built here when missing or stale). All file I/O happens here: the components get typed values.
"""

from pathlib import Path

import pulumi

from components.retention import retain_on_delete
from components.shared import SharedPlatform
from components.tenant import TenantPlatform
from platformctl.package import program_artifacts
from ubertruck.defaults import load_defaults
from ubertruck.registry import tenant_file
from ubertruck.settings import tenant_settings
from ubertruck.stacks import read_environment_tenant_stacks, resolve_stack

defaults = load_defaults()
config = pulumi.Config(defaults.platform.project)
registry_dir = Path(__file__).parent / (config.get("registryDir") or "tenants")
stack, tenant = resolve_stack(pulumi.get_stack(), defaults.platform.environments, registry_dir)
if config.get_bool("offboarding"):
    retain_on_delete(defaults.offboarding.retained_types)
if tenant is None:
    tenant_stacks = read_environment_tenant_stacks(stack.environment, defaults.platform.environments, registry_dir)
    platform = SharedPlatform(stack.environment, defaults, tenant_stacks)
else:
    settings = tenant_settings(tenant, stack.environment, defaults, str(tenant_file(tenant.id, registry_dir)))
    platform = TenantPlatform(settings, program_artifacts(defaults))
for key, value in platform.outputs.items():
    pulumi.export(key, value)
