"""The functions' pure contract modules (config schemas, route manifests), loaded from outside Lambda.

A service's contracts live next to its code, ``functions/<service>/<module>.py``, and import the
shared library the way Lambda does (``from common.config_schema import ...``). The functions run
with ``functions/`` on ``sys.path``. The platform (the core's settings, the components, a plan
worker, the real engine's language host, a test) imports the very same files through this one
loader, whatever ``sys.path`` holds, and without putting ``functions/`` on it
(``functions/secrets`` would then shadow the standard library's ``secrets``):

- ``common`` is registered under its own name from ``functions/common``, so the contracts'
  absolute imports resolve; a ``common`` already imported from ``functions/common`` (the function
  tests put ``functions/`` on ``sys.path``) is reused, with the very same classes; any other
  ``common`` is an error;
- a service package is loaded as ``functions.<service>`` (a namespace package over
  ``functions/``), not under its own name, so ``secrets`` never shadows anything and relative
  imports work;
- ``functions/`` is never added to ``sys.path``: nothing else of the functions becomes importable.

Only stdlib-and-pydantic modules belong here: a module that imports the functions' AWS stack
(boto3, Powertools) would drag it into the Pulumi program. Every other module imports the schemas
from here (``from ubertruck.contracts import auth_schema``), never from ``functions`` directly:
this module registers the packages first.

>>> from ubertruck.contracts import schema_for
>>> schema_for("booking").__name__
'BookingConfig'
>>> load_function_module("booking", "routes").ROUTES.service
'booking'
>>> "booking" in service_packages_with("routes")
True
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, create_model

from . import PROJECT_ROOT

FUNCTIONS_DIR = PROJECT_ROOT / "functions"
#: The shared function library (the functions' layer), and the package name contracts import it by.
COMMON_PACKAGE = "common"
#: The namespace package the service packages are imported under.
FUNCTIONS_PACKAGE = "functions"
_INIT = "__init__.py"
#: The module of a service package that holds its schema, as ``SCHEMA``.
SCHEMA_MODULE = "config_schema"
#: The ``integration`` entry the infrastructure publishes itself (``components/config_params``):
#: absent from registry trees, present in SSM and in fallback documents.
PUBLISHED_ENTRY = "resources"


class SchemaImportError(ImportError):
    """A contract cannot be imported from ``functions/`` (a clashing ``common``, a missing file)."""


def _same_folder(module: types.ModuleType, folder: Path) -> bool:
    paths = [Path(p).resolve() for p in getattr(module, "__path__", None) or []]
    return folder.resolve() in paths


def _register_common() -> None:
    existing = sys.modules.get(COMMON_PACKAGE)
    folder = FUNCTIONS_DIR / COMMON_PACKAGE
    if existing is not None:
        if not _same_folder(existing, folder):
            raise SchemaImportError(f"a module named {COMMON_PACKAGE!r} from {getattr(existing, '__file__', '?')} is already imported; the config schemas need {folder}")
        return
    spec = importlib.util.spec_from_file_location(COMMON_PACKAGE, folder / _INIT, submodule_search_locations=[str(folder)])
    if spec is None or spec.loader is None:
        raise SchemaImportError(f"cannot import the function library from {folder}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[COMMON_PACKAGE] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[COMMON_PACKAGE]
        raise


def _register_functions() -> None:
    existing = sys.modules.get(FUNCTIONS_PACKAGE)
    if existing is not None:
        if not _same_folder(existing, FUNCTIONS_DIR):
            raise SchemaImportError(f"a module named {FUNCTIONS_PACKAGE!r} from {getattr(existing, '__file__', '?')} is already imported; the config schemas need {FUNCTIONS_DIR}")
        return
    package = types.ModuleType(FUNCTIONS_PACKAGE, "The platform's function packages (see ubertruck.contracts).")
    package.__path__ = [str(FUNCTIONS_DIR)]
    sys.modules[FUNCTIONS_PACKAGE] = package


def _install() -> None:
    _register_common()
    _register_functions()


_install()


def load_function_module(package: str, module: str) -> types.ModuleType:
    """``functions/<package>/<module>.py``, imported once per process.

    ``package`` is a service (``booking``) or ``common``. A missing module raises
    ``ModuleNotFoundError`` naming it.
    """
    _install()
    if package == COMMON_PACKAGE:
        return importlib.import_module(f"{COMMON_PACKAGE}.{module}")
    if not (FUNCTIONS_DIR / package / _INIT).is_file():
        raise ModuleNotFoundError(f"no service package functions/{package}", name=package)
    return importlib.import_module(f"{FUNCTIONS_PACKAGE}.{package}.{module}")


def service_packages_with(module: str) -> list[str]:
    """The services (not ``common``) that have a ``<module>.py``, sorted: ``["booking", ...]``."""
    return sorted(
        p.name for p in FUNCTIONS_DIR.iterdir() if p.name != COMMON_PACKAGE and (p / _INIT).is_file() and (p / f"{module}.py").is_file()
    )

# The schema modules, imported once the two packages above are registered. Static imports, so
# type checkers and readers see exactly which classes the platform uses.
from common import config_schema as common_schema  # noqa: E402
from functions.auth import config_schema as auth_schema  # noqa: E402
from functions.booking import config_schema as booking_schema  # noqa: E402
from functions.configuration import config_schema as configuration_schema  # noqa: E402
from functions.notification import config_schema as notification_schema  # noqa: E402
from functions.payment import config_schema as payment_schema  # noqa: E402
from functions.secrets import config_schema as secrets_schema  # noqa: E402
from functions.tracking import config_schema as tracking_schema  # noqa: E402

GlobalConfig = common_schema.GlobalConfig
ServiceContract = common_schema.ServiceContract

#: Every service's contract, by the service's name (``defaults.yaml`` ``platform.services``).
SCHEMAS: dict[str, type[common_schema.ServiceContract]] = {
    **{module.SCHEMA_SERVICE: module.SCHEMA for module in (
        auth_schema, booking_schema, configuration_schema, notification_schema, payment_schema, secrets_schema, tracking_schema,
    )},
    **common_schema.INFRASTRUCTURE_SCHEMAS,
}

ModelT = TypeVar("ModelT", bound=BaseModel)


def schema_for(service: str) -> type[common_schema.ServiceContract]:
    """The contract of ``service``: ``functions/<service>/config_schema.py``'s ``SCHEMA``, or,
    for a service with no function package, ``common.config_schema.INFRASTRUCTURE_SCHEMAS``."""
    try:
        return SCHEMAS[service]
    except KeyError:
        raise SchemaImportError(
            f"service {service!r} has no config schema: expected functions/{service}/{SCHEMA_MODULE}.py (imported in "
            "ubertruck/contracts.py) or an entry of INFRASTRUCTURE_SCHEMAS"
        ) from None


@lru_cache(maxsize=None)
def registry_schema_for(service: str) -> type[common_schema.ServiceContract]:
    """``service``'s contract as a registry tree meets it: without ``integration.resources``,
    which the infrastructure publishes (so a registry file that sets it is refused as unknown)."""
    schema = schema_for(service)
    integration = schema.model_fields["integration"].annotation
    if not (isinstance(integration, type) and issubclass(integration, BaseModel)) or PUBLISHED_ENTRY not in integration.model_fields:
        return schema
    kept = {name: (field.annotation, field) for name, field in integration.model_fields.items() if name != PUBLISHED_ENTRY}
    unpublished = create_model(f"{integration.__name__}BeforePublishing", __base__=common_schema.ContractModel, **kept)  # type: ignore[call-overload]
    return create_model(f"{schema.__name__}BeforePublishing", __base__=schema, integration=(unpublished, ...))


def typed(model: BaseModel, expected: type[ModelT]) -> ModelT:
    """``model`` as ``expected``, for callers that know which schema validated it."""
    if not isinstance(model, expected):
        raise TypeError(f"expected a {expected.__name__}, got a {type(model).__name__}")
    return model


__all__ = [
    "FUNCTIONS_DIR",
    "PUBLISHED_ENTRY",
    "SCHEMAS",
    "GlobalConfig",
    "SchemaImportError",
    "ServiceContract",
    "auth_schema",
    "booking_schema",
    "common_schema",
    "configuration_schema",
    "load_function_module",
    "notification_schema",
    "payment_schema",
    "registry_schema_for",
    "schema_for",
    "secrets_schema",
    "service_packages_with",
    "tracking_schema",
    "typed",
]
