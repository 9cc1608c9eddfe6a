"""Package layering (DESIGN.md, "Layout"): dependencies point one way.

```
functions (contracts)  <-  ubertruck (domain core)  <-  components, policies, platformctl
```

Every module's imports are read with ``ast`` (module-level, function-local and ``TYPE_CHECKING``
ones alike, relative ones resolved), and folded into a graph of the top-level packages:

- the domain core, ``ubertruck``, imports neither ``components``, ``platformctl`` nor ``policies``;
- ``components`` never imports ``platformctl``;
- no two top-level packages import each other, directly or round a longer loop.

And a component never reads files: the program and the CLI do the I/O and pass typed values in.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

import pytest

from ubertruck import PROJECT_ROOT

#: The top-level packages whose layering is checked.
PACKAGES = ("ubertruck", "components", "platformctl", "policies", "functions")
#: (importer, imported) pairs that must never occur.
FORBIDDEN = {
    ("ubertruck", "components"): "the domain core imports neither the components nor the CLI",
    ("ubertruck", "platformctl"): "the domain core imports neither the components nor the CLI",
    ("ubertruck", "policies"): "the domain core imports neither the components nor the policy packs",
    ("components", "platformctl"): "the components never import the CLI",
}
#: The functions' shared library: Lambda (and the core's contract loader) import it as ``common``.
COMMON = "common"
#: Calls that read files or the registry; a component makes none of them.
FILE_READS = frozenset({
    "open", "read_text", "read_bytes", "iterdir", "glob", "rglob", "walk", "listdir", "scandir",
    "load_registry", "load_tenant", "read_environment_tenant_stacks", "load_defaults", "load_file",
})


@dataclass(frozen=True)
class Edge:
    """One import of package ``target`` by a module of package ``source``, with where it is."""

    source: str
    target: str
    where: str


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(tree: ast.AST, module: str, is_package: bool) -> Iterable[tuple[str, int]]:
    """The absolute names ``tree`` (module ``module``) imports, with their line numbers."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                name = ".".join([*base, *([node.module] if node.module else [])])
            else:
                name = node.module or ""
            yield name, node.lineno


def top_package(name: str, importer: str) -> str | None:
    """Which checked top-level package ``name`` belongs to, or None (stdlib, third party)."""
    head = name.split(".")[0]
    if head == COMMON:
        return "functions"
    if importer == "functions" and head != "functions" and (PROJECT_ROOT / "functions" / head / "__init__.py").is_file():
        # Inside Lambda, a service package is imported by its own name (functions/ is the root).
        return "functions"
    return head if head in PACKAGES else None


def package_edges(root: Path, packages: Iterable[str] = PACKAGES) -> list[Edge]:
    """Every import between different top-level packages under ``root``."""
    edges = []
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            module = module_name(path, root)
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for name, line in imported_modules(tree, module, path.name == "__init__.py"):
                target = top_package(name, package)
                if target is not None and target != package:
                    edges.append(Edge(package, target, f"{path.relative_to(root)}:{line} imports {name}"))
    return edges


def cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one package (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []
    nodes = sorted({*graph, *(t for targets in graph.values() for t in targets)})

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in nodes:
        if node not in index:
            visit(node)
    return sorted(found)


def layering_violations(edges: Iterable[Edge]) -> list[str]:
    """One line per forbidden import, then one per import cycle between packages."""
    edges = list(edges)
    problems = [f"{e.where}: {FORBIDDEN[(e.source, e.target)]}" for e in edges if (e.source, e.target) in FORBIDDEN]
    graph: dict[str, set[str]] = {}
    for edge in edges:
        graph.setdefault(edge.source, set()).add(edge.target)
    for group in cycles(graph):
        witnesses = [e.where for e in edges if e.source in group and e.target in group]
        problems.append(f"import cycle between {', '.join(group)}: " + "; ".join(witnesses[:6]))
    return problems


def file_reads(root: Path, package: str) -> list[str]:
    """Calls under ``root/package`` that read files or the registry."""
    found = []
    for path in sorted((root / package).rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
                if name in FILE_READS:
                    found.append(f"{path.relative_to(root)}:{node.lineno} calls {name}()")
    return found


# --------------------------------------------------------------------------- the project


def test_the_project_keeps_its_layers() -> None:
    assert layering_violations(package_edges(PROJECT_ROOT)) == []


def test_the_checker_sees_the_project_s_real_edges() -> None:
    # Guards against a checker that passes because it reads nothing.
    pairs = {(e.source, e.target) for e in package_edges(PROJECT_ROOT)}
    assert {("components", "ubertruck"), ("platformctl", "ubertruck"), ("platformctl", "components"), ("ubertruck", "functions")} <= pairs


def test_no_component_reads_files() -> None:
    assert file_reads(PROJECT_ROOT, "components") == []


# --------------------------------------------------------------------------- the checker can fail


def _tree(root: Path, files: Mapping[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"ubertruck/__init__.py": "", "ubertruck/model.py": "def f():\n    from platformctl.cli import main\n"},
            ["ubertruck/model.py:2 imports platformctl.cli: the domain core imports neither the components nor the CLI"],
        ),
        (
            {"ubertruck/__init__.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import components.tenant\n"},
            ["ubertruck/__init__.py:3 imports components.tenant: the domain core imports neither the components nor the CLI"],
        ),
        (
            {"components/__init__.py": "", "components/api.py": "from platformctl.errors import UserError\n"},
            ["components/api.py:1 imports platformctl.errors: the components never import the CLI"],
        ),
    ],
    ids=["core-imports-cli-in-a-function", "core-imports-components-for-typing", "component-imports-cli"],
)
def test_a_forbidden_import_is_reported(tmp_path: Path, files: dict[str, str], expected: list[str]) -> None:
    assert layering_violations(package_edges(_tree(tmp_path, files))) == expected


def test_relative_imports_inside_a_package_are_not_edges(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"ubertruck/__init__.py": "", "ubertruck/registry/__init__.py": "from ..errors import E\nfrom . import model\n"})
    assert package_edges(root) == []


def test_an_import_cycle_between_packages_is_reported(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "policies/__init__.py": "from platformctl import engine\n",
        "platformctl/__init__.py": "import functions.x\n",
        "functions/x.py": "from policies import rules\n",
    })
    (problem,) = layering_violations(package_edges(root))
    assert problem.startswith("import cycle between functions, platformctl, policies: ")
    assert "policies/__init__.py:1 imports platformctl" in problem


def test_cycles_finds_every_loop_of_a_synthetic_graph() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"e"}, "e": {"d"}, "f": {"a"}}
    assert cycles(graph) == [["a", "b", "c"], ["d", "e"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_a_component_that_reads_a_file_is_reported(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"components/pipeline.py": "from ubertruck.registry import load_registry\nx = load_registry([])\ny = path.read_text()\n"})
    assert file_reads(root, "components") == ["components/pipeline.py:2 calls load_registry()", "components/pipeline.py:3 calls read_text()"]
