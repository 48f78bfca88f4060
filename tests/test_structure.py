"""The package's shape: no import circle (imports inside functions included), no module over 450
lines, and every stage imports only the stages below it."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "dfer"
MAX_LINES = 450

#: What each part of dfer may import (besides itself): data flows one way, parts several stages
#: need sit below all of them, and the command line sits above everything.
ALLOWED = {
    "errors": set(),
    "labels": {"errors"},
    "io": {"errors"},
    "assets": {"errors", "io"},
    "faces": {"errors", "io"},
    "data": {"errors", "io", "labels"},
    "metrics": {"data", "errors", "io", "labels"},
    "models": {"assets", "errors", "io", "labels"},
    "preprocess": {"data", "errors", "faces", "io", "labels"},
    "engine": {"data", "errors", "io", "labels", "metrics", "models"},
    "predict": {"engine", "errors", "faces", "io", "labels", "models"},
    "spot": {"data", "engine", "errors", "io", "labels", "metrics", "models", "preprocess"},
    "curation": {"data", "engine", "errors", "faces", "io", "labels", "metrics", "models", "preprocess"},
    "web": {"curation", "data", "errors", "io", "labels"},
}


def module_files() -> dict[str, Path]:
    """Dotted module name → file, packages named by their folder."""
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def imports(path: Path, name: str, modules: dict[str, Path]) -> set[str]:
    """The dfer modules ``path`` imports anywhere in its code (resolved to the deepest known module)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name and target.split(".")[0] == "dfer":
                found.add(target)
    return found


def graph() -> dict[str, set[str]]:
    modules = module_files()
    return {name: imports(path, name, modules) for name, path in modules.items()}


def strongly_connected(edges: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's strongly connected components with more than one module."""
    index, low, stack, on_stack, components, counter = {}, {}, [], set(), [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for other in edges[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(component)

    for node in edges:
        if node not in index:
            visit(node)
    return components


def test_no_import_circles():
    circles = []
    for component in strongly_connected(graph()):
        # a package's __init__ that re-exports its submodules joins their component without a design
        # circle; what is left must be a single module
        core = {m for m in component if not any(o.startswith(m + ".") for o in component)} if len(component) > 2 \
            else component
        if len(core) > 1:
            circles.append(sorted(component))
    assert not circles, circles


def test_the_circle_check_finds_a_lazy_import_circle(tmp_path):
    edges = {"dfer.a": {"dfer.b"}, "dfer.b": {"dfer.a"}, "dfer.c": {"dfer.a"}}
    assert strongly_connected(edges) == [{"dfer.a", "dfer.b"}]
    (tmp_path / "b.py").write_text("def f():\n    from dfer.a import g\n")
    assert imports(tmp_path / "b.py", "dfer.b", {"dfer.a": None, "dfer.b": None}) == {"dfer.a"}


def test_no_module_is_over_450_lines():
    long = {name: len(path.read_text().splitlines()) for name, path in module_files().items()}
    assert {name: lines for name, lines in long.items() if lines > MAX_LINES} == {}


@pytest.mark.parametrize("part", sorted(ALLOWED))
def test_each_part_imports_only_the_parts_below_it(part):
    wrong = {}
    for name, targets in graph().items():
        parts = name.split(".")
        if len(parts) > 1 and parts[1] == part:
            outside = {t.split(".")[1] for t in targets if len(t.split(".")) > 1} - {part} - ALLOWED[part]
            if outside:
                wrong[name] = sorted(outside)
    assert not wrong, f"{part} may import only {sorted(ALLOWED[part])}: {wrong}"


def test_every_part_is_placed():
    parts = {path.stem for path in PACKAGE.glob("*.py")} | {path.name for path in PACKAGE.iterdir()
                                                           if path.is_dir() and any(path.glob("*.py"))}
    assert parts - {"__init__", "cli"} == set(ALLOWED)
