"""The UberTruck domain core: what the components, the CLI, the policy packs and the tests share.

The tenant registry (model, loader, cache), the platform defaults, the merged and typed tenant
settings, stack names, errors, the functions' contract modules (config schemas, route manifests)
and the Lambda artifacts manifest model. Nothing here imports ``components``, ``platformctl`` or
``policies`` (``tests/test_layering.py`` holds it to that): they import the core.
"""

from pathlib import Path

#: The project root: where Pulumi.yaml, defaults.yaml and tenants/ live.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
