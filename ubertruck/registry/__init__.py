"""The tenant registry: one ``tenants/<tenant-id>.yaml`` per tenant."""

from .loader import RegistryLoadResult, find_registry_files, load_registry, load_tenant, tenant_file
from .model import Tenant

__all__ = ["RegistryLoadResult", "Tenant", "find_registry_files", "load_registry", "load_tenant", "tenant_file"]
