"""The functions' pure contract modules (route manifests, config schemas), loaded from outside Lambda.

A service's contracts live next to its code, ``functions/<service>/<module>.py``, and import the
shared library the way Lambda does (``from common.routes import ...``). The infrastructure side
(the components, and anything else that checks a contract) reads them through this one loader:

- ``common`` is loaded under its own name from ``functions/common``, so the contracts' absolute
  imports resolve, and the test process (which puts ``functions/`` on ``sys.path``) shares the very
  same module and classes;
- a service package is loaded as ``functions.<service>`` (a namespace package over ``functions/``),
  not under its own name, which may be taken already (``secrets`` is also the standard library's);
- ``functions/`` is never added to ``sys.path``: nothing else of the functions becomes importable.

``platformctl/schemas.py`` registers the same two names the same way for the config schemas; each
accepts the other's registration, so the two load one set of modules.

Only stdlib-and-pydantic modules belong here: a module that imports the functions' AWS stack
(boto3, Powertools) would drag it into the Pulumi program.

>>> load_function_module("booking", "routes").ROUTES.service
'booking'
>>> "booking" in service_packages_with("routes")
True
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

#: Where the functions' packages live in the project.
FUNCTIONS_DIR = Path(__file__).resolve().parent.parent / "functions"
#: The shared library's package name (the functions' layer).
COMMON_PACKAGE = "common"
#: The namespace package every service package is loaded under.
SERVICES_PARENT = "functions"
_INIT = "__init__.py"


def _covers(module: ModuleType, folder: Path) -> bool:
    """Whether ``module`` is a package whose submodules are found in ``folder``."""
    return folder.resolve() in [Path(p).resolve() for p in getattr(module, "__path__", None) or []]


def _load_common() -> None:
    """``common`` from ``functions/common``, or a clear error if that name means something else."""
    wanted = (FUNCTIONS_DIR / COMMON_PACKAGE).resolve()
    loaded = sys.modules.get(COMMON_PACKAGE)
    if loaded is not None:
        if not _covers(loaded, wanted):
            raise ImportError(f"module '{COMMON_PACKAGE}' is {getattr(loaded, '__file__', loaded)!r}; expected the functions' library at {wanted}")
        return
    spec = importlib.util.spec_from_file_location(COMMON_PACKAGE, wanted / _INIT, submodule_search_locations=[str(wanted)])
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load the functions' library from {wanted}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[COMMON_PACKAGE] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[COMMON_PACKAGE]
        raise


def _services_parent() -> None:
    loaded = sys.modules.get(SERVICES_PARENT)
    if loaded is not None:
        if not _covers(loaded, FUNCTIONS_DIR):
            raise ImportError(f"module '{SERVICES_PARENT}' is {getattr(loaded, '__file__', loaded)!r}; expected the namespace over {FUNCTIONS_DIR}")
        return
    spec = importlib.machinery.ModuleSpec(SERVICES_PARENT, None, is_package=True)
    spec.submodule_search_locations = [str(FUNCTIONS_DIR)]
    sys.modules[SERVICES_PARENT] = importlib.util.module_from_spec(spec)


def load_function_module(package: str, module: str) -> ModuleType:
    """``functions/<package>/<module>.py``, imported once per process.

    ``package`` is a service (``booking``) or ``common``. A missing module raises
    ``ModuleNotFoundError`` naming it.
    """
    _load_common()
    if package == COMMON_PACKAGE:
        return importlib.import_module(f"{COMMON_PACKAGE}.{module}")
    if not (FUNCTIONS_DIR / package / _INIT).is_file():
        raise ModuleNotFoundError(f"no service package functions/{package}", name=package)
    _services_parent()
    return importlib.import_module(f"{SERVICES_PARENT}.{package}.{module}")


def service_packages_with(module: str) -> list[str]:
    """The services (not ``common``) that have a ``<module>.py``, sorted: ``["booking", ...]``."""
    return sorted(
        p.name for p in FUNCTIONS_DIR.iterdir() if p.name != COMMON_PACKAGE and (p / _INIT).is_file() and (p / f"{module}.py").is_file()
    )
