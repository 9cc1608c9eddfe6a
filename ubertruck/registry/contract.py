"""A registry file's config against the services' config schemas, environment by environment.

The model (``model.py``) checks the file's shape; the config tree it holds is free-form there,
because what a service accepts is defined once, by the service's schema
(``functions/<service>/config_schema.py``). Here every environment's merged tree (defaults, then
environment defaults, then the file's ``config``, then its ``config.environments.<env>``; see
``ubertruck/settings.py``) is validated against those schemas, and each problem is reported once
at the place in the file that holds it:

    tenants/acme.yaml: config.services.booking.business.pricing_models.base_fare_minor: expected an integer, got str
    tenants/acme.yaml: config.environments.prod.services.booking.technical.scaling_policies.memory_mb: Input should be less than or equal to 10240

A value the defaults hold is valid (``defaults.yaml`` is validated when it is loaded), so a
problem always lies in what the file sets, or in how it combines with the defaults (a page size
above the maximum); it is reported at the deepest part of the path the file sets.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from ..defaults import PlatformDefaults
from ..errors import UserError
from .model import Tenant

#: Where the file's config tree, and its per-environment layers, sit in the document.
CONFIG_KEY, ENVIRONMENTS_KEY = "config", "environments"


def _depth(document: Any, path: Sequence[str]) -> int:
    """How many leading parts of ``path`` exist in ``document``."""
    node, depth = document, 0
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            break
        node, depth = node[part], depth + 1
    return depth


def registry_path(document: Mapping[str, Any], environment: str, loc: Sequence[str]) -> str:
    """The dotted path in the registry file of the entry at ``loc`` of the merged tree of
    ``environment``: in the environment layer when the file sets it there (it wins the merge),
    else in the file's ``config``; when neither sets the whole path, in the layer that sets more
    of it (the base layer on a tie)."""
    env_layer = (CONFIG_KEY, ENVIRONMENTS_KEY, environment, *loc)
    base_layer = (CONFIG_KEY, *loc)
    env_depth, base_depth = _depth(document, env_layer), _depth(document, base_layer)
    # Parts of ``loc`` each layer sets (the layer's own prefix does not count).
    env_sets = max(env_depth - (len(env_layer) - len(loc)), 0)
    base_sets = max(base_depth - (len(base_layer) - len(loc)), 0)
    if env_sets == len(loc) or env_sets > base_sets:
        return ".".join(env_layer)
    return ".".join(base_layer)


def contract_errors(tenant: Tenant, document: Mapping[str, Any], where: str, defaults: PlatformDefaults) -> list[UserError]:
    """One line per problem of ``tenant``'s config in any declared environment, each once."""
    # Imported here: settings imports the registry model, and this module is part of the registry.
    from ..settings import config_problems, merged_config

    errors: dict[tuple[str, str], UserError] = {}
    for environment in defaults.platform.environments:
        tree = merged_config(tenant, environment, defaults)
        for problem in config_problems(tree, defaults.platform.services, environment, defaults.platform.sensitive_config):
            field = registry_path(document, environment, problem.loc)
            errors.setdefault((field, problem.problem), UserError(f"{where}: {field}", problem.problem))
    return list(errors.values())


__all__ = ["contract_errors", "registry_path"]
