"""The package's dependencies point one way, as docs/ARCHITECTURE.md says ("The parts").

Every module of `shiporskip` is read with `ast` (nothing is imported) and put in a layer; a
module may import modules of its own layer or a lower one, never a higher one. What counts:
- for the layer rule, every import: at module level, inside functions and classes, and
  under `if TYPE_CHECKING:` (a type that names a higher layer is a dependency all the same);
- for cycles, every import that runs: module-level and function-level ones (a cycle closed
  inside a function is still a cycle, it only fails later), but not `if TYPE_CHECKING:` ones.
Importing `a.b.c` also runs the packages `a` and `a.b`; those implicit edges are not counted,
as Python resolves them before the module itself.
"""

import ast
from pathlib import Path

import shiporskip

PACKAGE = Path(shiporskip.__file__).parent

# Lowest first. A prefix names a module and everything under it; the longest prefix wins.
LAYERS = [
    (
        "base",
        [
            "shiporskip",
            "shiporskip.conf",
            "shiporskip.settings",
            "shiporskip.control_chars",
            "shiporskip.security",
            "shiporskip.mail",
            "shiporskip.links",
            "shiporskip.sessions",
            "shiporskip.statements",
        ],
    ),
    ("catalog", ["shiporskip.catalog"]),
    ("panel", ["shiporskip.panel"]),
    ("compare and community", ["shiporskip.compare", "shiporskip.community"]),
    ("newsletter", ["shiporskip.newsletter"]),
    (
        "pages",
        [
            "shiporskip.pages",
            "shiporskip.middleware",
            "shiporskip.pagecache",
            "shiporskip.api",
            "shiporskip.feeds",
            "shiporskip.sharing",
            "shiporskip.ops",
            "shiporskip.urls",
            "shiporskip.wsgi",
        ],
    ),
    ("cli", ["shiporskip.cli", "shiporskip.backup"]),
]
# Each app's face on the web (its views, addresses, admin and template tags) is part of the
# pages layer, whichever app it sits in: the tool page may show the panel, the catalog may not.
PAGE_PARTS = {"views", "list_views", "search_views", "urls", "admin", "templatetags"}
RANK = {name: rank for rank, (name, _) in enumerate(LAYERS)}


def module_names() -> dict[str, Path]:
    names = {}
    for path in PACKAGE.rglob("*.py"):
        parts = ("shiporskip", *path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


MODULES = module_names()


def layer_of(module: str) -> str | None:
    best = None
    for name, prefixes in LAYERS:
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and (
                best is None or len(prefix) > len(best[1])
            ):
                best = (name, prefix)
    # "shiporskip" names the package's own __init__ only: a new top-level module needs a layer.
    if not best or (best[1] == "shiporskip" and module != "shiporskip"):
        return None
    if PAGE_PARTS & set(module.split(".")[2:]) and RANK[best[0]] < RANK["pages"]:
        return "pages"
    return best[0]


def target(name: str) -> str:
    """The package module an imported name lives in: the name itself, or its nearest parent."""
    while name not in MODULES:
        name = name.rpartition(".")[0]
    return name


def imports(module: str) -> list[tuple[str, int, bool]]:
    """(imported module, line, runs) for every import of the package in `module`."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []

    def visit(node, runs: bool):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and is_type_checking(child.test):
                for part in child.body:
                    visit_one(part, False)
                for part in child.orelse:
                    visit_one(part, runs)
                continue
            visit_one(child, runs)

    def visit_one(node, runs: bool):
        if isinstance(node, ast.Import):
            found.extend(
                (target(a.name), node.lineno, runs)
                for a in node.names
                if a.name.split(".")[0] == "shiporskip"
            )
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package
                for _ in range(node.level - 1):
                    anchor = anchor.rpartition(".")[0]
                base = f"{anchor}.{base}" if base else anchor
            if base.split(".")[0] == "shiporskip":
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    found.append((full if full in MODULES else target(base), node.lineno, runs))
        visit(node, runs)

    visit(tree, True)
    return [(name, line, runs) for name, line, runs in found if name != module]


def is_type_checking(test) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def test_every_module_has_a_layer():
    missing = sorted(m for m in MODULES if layer_of(m) is None)
    assert not missing, f"give these modules a layer in LAYERS (and docs/ARCHITECTURE.md): {missing}"


def test_no_module_imports_a_higher_layer():
    upward = []
    for module in sorted(MODULES):
        mine = layer_of(module)
        for name, line, _ in imports(module):
            theirs = layer_of(name)
            if mine and theirs and RANK[theirs] > RANK[mine]:
                upward.append(
                    f"{MODULES[module].relative_to(PACKAGE.parent)}:{line}: "
                    f"{module} ({mine}) imports {name} ({theirs})"
                )
    assert not upward, "imports against the dependency direction:\n" + "\n".join(upward)


def test_no_import_cycle():
    graph = {m: sorted({name for name, _, runs in imports(m) if runs}) for m in MODULES}
    cycles = find_cycles(graph)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join([*c, c[0]]) for c in cycles)


def find_cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """One cycle per strongly connected component of more than one module (Tarjan's)."""
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def connect(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, []):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return cycles


def test_the_checks_can_fail():
    """The rules see what they are meant to see (a checker that finds nothing proves nothing)."""
    assert layer_of("shiporskip.catalog.models") == "catalog"
    assert layer_of("shiporskip.catalog.views") == "pages"
    assert layer_of("shiporskip.cli.serve") == "cli"
    assert layer_of("shiporskip.somewhere_new") is None
    assert find_cycles({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}) == [["a", "b", "c"]]
    assert find_cycles({"a": ["b"], "b": []}) == []
    # A function-level import is seen, and one under TYPE_CHECKING is seen but does not run.
    seen = {name: runs for name, _, runs in imports("shiporskip.cli.serve")}
    assert seen["shiporskip.panel.tasks"] is True
