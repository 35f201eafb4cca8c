"""Import layering of ``ebjepa_mini``: no cycle between modules, no import pointing upwards.

The imports are read from the source files with ``ast`` (nothing is imported): absolute
(``import ebjepa_mini.x``, ``from ebjepa_mini.x import y``) and relative (``from .x import y``,
``from .. import x``), at module level and inside functions (a lazy import is still a dependency).
The implicit import of a parent package (``ebjepa_mini.data`` before ``ebjepa_mini.data.views``)
is not counted; ``importlib.import_module`` calls are not seen.

Layers, lowest first; a module may import from its own layer and from the ones below it.
Found in the imports as they stand (regenerate the picture with
``grep -n "^from \\.\\|^ *from \\." ebjepa_mini/*.py ebjepa_mini/*/*.py``):

0. data: ``ebjepa_mini.data`` and its modules (``moving_mnist`` and the package import ``sources``;
   ``two_rooms_walks`` imports ``two_rooms``; ``two_rooms`` and ``views`` import nothing of the package).
1. foundations: the package root (seeds, device, ``experiment_setup``, ``chapter_setup``; imports
   ``presets``), ``presets`` (imports ``regularizers``: ``WorldSettings`` holds a ``WorldWeights``),
   ``records``, ``regularizers``, ``energy`` (a package: ``toy``, ``latent``, ``training``, ``toy_jepa``
   share the private ``energy._common``), ``nets`` (imports ``data`` for the detection grid and the Two
   Rooms canvas), ``metrics``, ``optim``, ``probes``, ``train``, ``paper`` (the published numbers; imports ``records``
   for its glue; no other import inside the layer).
2. models: ``jepa`` (regularizers), ``collapse`` and ``image`` (data, jepa, foundations),
   ``rollout`` (nets), ``video`` (data, foundations, rollout), ``world`` (data, foundations).
3. ``planning`` (data, presets).
4. presentation: ``viz`` (energy, metrics, regularizers, rollout, data; inside the package
   every subject module imports ``viz.style``), ``checks`` (a package, one module per subject like
   ``viz``: energy, metrics, regularizers, rollout, world, planning), ``widgets`` (collapse, data,
   planning, presets, viz, world).
5. CLI: ``bench`` (everything it measures).

Known exceptions: none; every import of the package follows the order above. An import that
has to go against it is listed in ``KNOWN_UPWARD`` with a comment that says why.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = "ebjepa_mini"
ROOT = Path(__file__).resolve().parents[1] / PACKAGE

#: Layer of each top-level part of the package (``""`` is the package root, ``ebjepa_mini/__init__.py``);
#: a sub-package (``data``, ``viz``, a future ``planning/``) shares the layer of its name.
LAYERS = {
    "data": 0,
    "": 1, "presets": 1, "records": 1, "regularizers": 1, "energy": 1, "nets": 1, "metrics": 1, "optim": 1, "probes": 1,
    "train": 1, "paper": 1,
    "jepa": 2, "world": 2, "video": 2, "rollout": 2, "image": 2, "collapse": 2,
    "planning": 3,
    "viz": 4, "widgets": 4, "checks": 4,
    "bench": 5,
}
LAYER_NAMES = ["data", "foundations", "models", "planning", "presentation", "CLI"]

#: ``(importer, imported)`` pairs allowed to point upwards, each with its reason. Keep it empty.
KNOWN_UPWARD: set[tuple[str, str]] = set()


def package_modules(root: Path = ROOT, package: str = PACKAGE) -> dict[str, tuple[Path, bool]]:
    """``{dotted module name: (source file, is a package)}`` for every ``.py`` file below ``root``."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).with_suffix("").parts
        is_pkg = rel[-1] == "__init__"
        parts = rel[:-1] if is_pkg else rel
        out[".".join((package, *parts))] = (path, is_pkg)
    return out


def imports_of(name: str, path: Path, is_pkg: bool, modules) -> set[str]:
    """The modules of the package that module ``name`` (source ``path``) imports, anywhere in its body."""
    here = name if is_pkg else name.rpartition(".")[0]
    found = set()

    def resolve(target: str, names=()) -> None:
        subs = [f"{target}.{n}" for n in names if f"{target}.{n}" in modules]
        found.update(subs)
        if len(subs) < len(names) or not names:   # a name defined in the module (or package) itself
            found.add(target)

    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == PACKAGE or alias.name.startswith(PACKAGE + "."):
                    resolve(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here.split(".")
                if node.level - 1 >= len(base):
                    raise AssertionError(f"{name}: relative import beyond the top-level package")
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            elif node.module and (node.module == PACKAGE or node.module.startswith(PACKAGE + ".")):
                target = node.module
            else:
                continue
            resolve(target, tuple(a.name for a in node.names if a.name != "*"))
    found.discard(name)
    unknown = found - set(modules)
    assert not unknown, f"{name} imports modules that do not exist: {sorted(unknown)}"
    return found


def import_graph(root: Path = ROOT, package: str = PACKAGE) -> dict[str, set[str]]:
    modules = package_modules(root, package)
    return {name: imports_of(name, path, is_pkg, modules) for name, (path, is_pkg) in modules.items()}


def layer_of(module: str, layers=LAYERS) -> int:
    part = module.split(".")[1] if "." in module else ""
    if part not in layers:
        raise AssertionError(f"module {module} has no layer: add {part!r} to LAYERS in tests/test_layers.py "
                             f"(one of {LAYER_NAMES})")
    return layers[part]


def upward_imports(graph, layers=LAYERS, known=frozenset()) -> list[str]:
    bad = []
    for src, targets in sorted(graph.items()):
        for dst in sorted(targets):
            if layer_of(dst, layers) > layer_of(src, layers) and (src, dst) not in known:
                bad.append(f"{src} ({LAYER_NAMES[layer_of(src, layers)]}) imports {dst} "
                           f"({LAYER_NAMES[layer_of(dst, layers)]})")
    return bad


def find_cycle(graph) -> list[str] | None:
    """One import cycle as ``[a, b, ..., a]``, or ``None`` (depth-first search)."""
    state: dict[str, int] = {}   # 1: on the current path, 2: done
    stack: list[str] = []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_every_module_has_a_layer():
    for name in package_modules():
        layer_of(name)


#: Longest module allowed (``wc -l``): one concept a module, short enough to read in one sitting (issue 21).
MAX_MODULE_LINES = 400


def test_no_module_is_too_long():
    """Every module of the package has at most ``MAX_MODULE_LINES`` lines; a longer one is split by concept."""
    long = {name: n for name, (path, _) in package_modules().items()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert not long, f"modules over {MAX_MODULE_LINES} lines, split them by concept: {long}"


def test_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_no_upward_import():
    bad = upward_imports(import_graph(), known=KNOWN_UPWARD)
    assert not bad, "imports against the layer order " + " -> ".join(LAYER_NAMES) + ":\n" + "\n".join(bad)


def test_known_exceptions_still_exist():
    """A listed exception that no longer happens is removed from ``KNOWN_UPWARD``."""
    graph = import_graph()
    stale = [pair for pair in KNOWN_UPWARD if pair[1] not in graph.get(pair[0], ())]
    assert not stale, f"no longer imported, remove from KNOWN_UPWARD: {stale}"


def test_reader_sees_every_kind_of_import():
    """The graph holds the imports this file's checks rely on: relative, parent-relative,
    ``from . import module``, absolute, and imports inside functions."""
    g = import_graph()
    assert "ebjepa_mini.presets" in g["ebjepa_mini"]                 # from .presets import ... (root package)
    assert "ebjepa_mini.data.two_rooms" in g["ebjepa_mini.planning.yardsticks"]  # from ..data import two_rooms as tr
    assert "ebjepa_mini.checks.energy" in g["ebjepa_mini.checks"]     # from . import energy (a sibling module)
    assert "ebjepa_mini.energy" in g["ebjepa_mini.checks.energy"]     # from .. import energy
    assert "ebjepa_mini.energy" in g["ebjepa_mini.viz.energy"]        # from .. import energy
    assert "ebjepa_mini.energy.toy" in g["ebjepa_mini.energy"]        # from .toy import ... (package root)
    assert "ebjepa_mini.rollout" in g["ebjepa_mini.viz.video"]        # from ..rollout import ... inside a function
    assert "ebjepa_mini.world" in g["ebjepa_mini.bench"]              # inside a function
    assert "ebjepa_mini.world" in g["ebjepa_mini.planning.yardsticks"]  # from ..world import ... inside a function


@pytest.mark.parametrize("case", ["upward", "cycle", "absolute upward"])
def test_checks_fail_on_a_bad_package(tmp_path, case):
    """The checks themselves catch an upward import and a cycle (in a throw-away package)."""
    pkg = tmp_path / PACKAGE
    (pkg / "viz").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "viz" / "__init__.py").write_text("from .style import PALETTE\n")
    (pkg / "viz" / "style.py").write_text("PALETTE = {}\n")
    (pkg / "bench.py").write_text("from .viz import PALETTE\n")
    if case == "upward":
        (pkg / "energy.py").write_text("def f():\n    from .viz.style import PALETTE\n")
    elif case == "absolute upward":
        (pkg / "energy.py").write_text("import ebjepa_mini.bench\n")
    else:
        (pkg / "viz" / "style.py").write_text("def f():\n    from . import PALETTE\nPALETTE = {}\n")
        (pkg / "energy.py").write_text("")
    graph = import_graph(pkg)
    if case == "cycle":
        assert find_cycle(graph) == ["ebjepa_mini.viz", "ebjepa_mini.viz.style", "ebjepa_mini.viz"]
        assert upward_imports(graph) == []
    else:
        assert find_cycle(graph) is None
        assert len(upward_imports(graph)) == 1
