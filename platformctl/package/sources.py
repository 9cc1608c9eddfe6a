"""The function sources: which files a package ships, and which modules are Lambda handlers.

A handler module is a module of a service package (``functions/<service>/<module>.py``) that
binds ``lambda_handler`` at module level; the program's functions name them as
``<service>.<module>.lambda_handler`` (``components/function.py``). Found by reading the source
(``ast``), never by importing it: the build must not run function code.
"""

from __future__ import annotations

import ast
import fnmatch
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

#: The name Lambda calls in a handler module (``<service>.<module>.lambda_handler``).
HANDLER_NAME = "lambda_handler"


@dataclass(frozen=True)
class HandlerModule:
    """One function the program can deploy: its service package and handler module."""

    service: str
    module: str

    @property
    def name(self) -> str:
        """``<service>.<module>``: the key the manifest and the components share."""
        return f"{self.service}.{self.module}"

    @property
    def handler(self) -> str:
        return f"{self.name}.{HANDLER_NAME}"


def package_files(package_dir: Path, exclude: tuple[str, ...]) -> list[Path]:
    """Every file under ``package_dir`` that ships, sorted; none under an excluded name."""
    files = []
    for path in package_dir.rglob("*"):
        rel = path.relative_to(package_dir)
        if any(fnmatch.fnmatchcase(part, pattern) for part in rel.parts for pattern in exclude):
            continue
        if path.is_file():
            files.append(path)
    return sorted(files, key=lambda p: p.relative_to(package_dir).as_posix())


@lru_cache(maxsize=256)
def _binds_handler(source: str) -> bool:
    # Most modules never mention the name: skip parsing them (the parse is the build's main cost
    # when nothing changed, and every stack program pays it).
    if HANDLER_NAME not in source:
        return False
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == HANDLER_NAME:
            return True
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == HANDLER_NAME for t in node.targets):
            return True
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == HANDLER_NAME:
            return True
    return False


def handler_modules(functions_dir: Path, common_package: str) -> list[HandlerModule]:
    """Every service package's handler modules, sorted (the common library has none)."""
    found = []
    for package in sorted(p for p in functions_dir.iterdir() if (p / "__init__.py").is_file()):
        if package.name == common_package:
            continue
        for module in sorted(package.glob("*.py")):
            if _binds_handler(module.read_text(encoding="utf-8")):
                found.append(HandlerModule(package.name, module.stem))
    return found
