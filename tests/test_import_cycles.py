"""No import circle in the pixivcrawl package: module-level and function-level imports both count."""
from __future__ import annotations

import ast
from pathlib import Path

import pixivcrawl

ROOT = Path(pixivcrawl.__file__).parent

# Circles outside the sandbox that are not this test's to untangle; each must still exist (see below).
KNOWN: list[set[str]] = [
    # workers.keys imports extensions.spider_arguments inside a function; extensions imports keys at the top
    {"pixivcrawl.extensions", "pixivcrawl.workers.keys"},
]


def modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = ["pixivcrawl", *path.relative_to(ROOT).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def import_graph() -> dict[str, set[str]]:
    """module -> the pixivcrawl modules it imports anywhere in its body (functions included)."""
    mods = modules()
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for mod, path in mods.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # imports under `if TYPE_CHECKING:` never run: they cannot make a circle at import time
        typing_only = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If)
                       and ast.unparse(block.test).endswith("TYPE_CHECKING") for n in ast.walk(block)}
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                subs = [f"{base}.{a.name}" for a in node.names]
                # `from pkg import sub` imports the submodule; `from pkg import name` the package
                names = subs if all(n in mods for n in subs) else [base, *subs]
            for name in names:
                if name in mods and name != mod:
                    graph[mod].add(name)
    return graph


def circles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(comp)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_graph_sees_function_level_imports() -> None:
    graph = import_graph()
    assert "pixivcrawl.sandbox.routes_illust" in graph["pixivcrawl.sandbox.app"]  # imported inside a function


def test_no_import_circles() -> None:
    found = circles(import_graph())
    unexpected = [sorted(c) for c in found if c not in KNOWN]
    assert not unexpected, f"import circles: {unexpected}"
    stale = [sorted(c) for c in KNOWN if c not in found]
    assert not stale, f"known circles that no longer exist (drop them from KNOWN): {stale}"


if __name__ == "__main__":  # print the graph: python tests/test_import_cycles.py [prefix]
    import sys

    prefix = sys.argv[1] if len(sys.argv) > 1 else "pixivcrawl"
    g = import_graph()
    for m in sorted(g):
        if m.startswith(prefix):
            print(m, "->", ", ".join(sorted(x for x in g[m] if x.startswith(prefix))))
    print("circles:", [sorted(c) for c in circles(g)])
