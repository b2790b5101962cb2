"""The package's import graph, read from the source with ``ast``: no cycle, no edge back up, no private reach.

Every ``import`` counts, also the lazy ones inside functions: a cycle hidden
behind a function-level import still ties two modules together.

``STAGES`` lists the stages from the bottom (what everything may use) to the
top (what nothing in the package uses); a module may import its own stage
(inside one subpackage) or the stages below it, never one above. The order
is the data flow of docs/index.md read as dependencies: a stage imports the
data types and stages it consumes, so the TDA core below ``adapters`` never
imports the torch side, and ``plotting``, ``report`` and ``cli`` sit on top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "zigzag"

#: bottom to top; each entry is one stage (a module or a subpackage, by dotted name)
STAGES = (
    ("zigzag.errors",),
    ("zigzag._version", "zigzag._files", "zigzag._progress", "zigzag._validation", "zigzag._frozen", "zigzag._barcode_files",
     "zigzag._barcode_tables"),
    ("zigzag.clouds", "zigzag.texts", "zigzag.datasets"),
    ("zigzag.streaming",),
    ("zigzag.io",),
    ("zigzag.knn",),
    ("zigzag.complexes",),
    ("zigzag.filtration",),
    ("zigzag.engines",),
    ("zigzag.representatives",),
    ("zigzag.barcode",),
    ("zigzag.distances",),
    ("zigzag.descriptors",),
    ("zigzag.pipeline",),
    ("zigzag.cycles",),
    ("zigzag.pruning",),
    ("zigzag.adapters",),
    ("zigzag.baselines", "zigzag.models"),
    ("zigzag.plotting",),
    ("zigzag.report",),
    ("zigzag.sweeping",),
    ("zigzag.cli",),
    ("zigzag",),
)
#: the only places torch, transformers and lm_eval may be imported (lazily); the kNN imports torch only for device=
TORCH_SIDE = ("zigzag.adapters", "zigzag.models", "zigzag.baselines", "zigzag.knn._torch")
HEAVY = ("torch", "transformers", "lm_eval", "tokenizers", "accelerate")
#: a debt ledger, like scikit-learn's docstring ignore list: library modules that still print or pick a
#: matplotlib backend. An entry that no longer offends fails the test, so the list only shrinks.
PRINT_DEBT = set()
#: the command line may print (it is the user interface)
MAY_PRINT = ("zigzag.cli",)
MAX_LINES = 450


# ---------------------------------------------------------------- reading the graph
def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_modules(root: Path = ROOT) -> dict:
    """Dotted name -> path of every module of the package."""
    return {module_name(p, root): p for p in sorted((root / PACKAGE).rglob("*.py"))}


def _resolve(importer: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = importer.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(path: Path, name: str, known) -> list:
    """``(target module, line)`` of every import in the file, resolved to the deepest known module.

    ``from .x import y`` targets ``x.y`` when that is a module, else ``x``.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(name, is_package, node)
            for alias in node.names:
                full = f"{base}.{alias.name}" if base else alias.name
                found.append((full if full in known else base, node.lineno))
    return found


def import_graph(root: Path = ROOT) -> dict:
    """module -> {imported package module: first line}, edges inside the package only."""
    modules = package_modules(root)
    graph = {}
    for name, path in modules.items():
        edges = {}
        for target, line in imports_of(path, name, modules):
            while target and target not in modules and "." in target:
                target = target.rsplit(".", 1)[0]  # an attribute of a module: the module
            if target in modules and target != name:
                edges.setdefault(target, line)
        graph[name] = edges
    return graph


def find_cycle(graph: dict):
    """One cycle as a list of modules, or None (iterative depth-first search)."""
    state = {}
    for start in graph:
        if state.get(start):
            continue
        stack, path = [(start, iter(graph[start]))], [start]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            for child in children:
                if state.get(child) == 1:
                    return path[path.index(child):] + [child]
                if not state.get(child):
                    state[child] = 1
                    stack.append((child, iter(graph.get(child, ()))))
                    path.append(child)
                    break
            else:
                state[node] = 2
                stack.pop()
                path.pop()
    return None


def stage_of(module: str) -> int:
    best, level = -1, None
    for index, members in enumerate(STAGES):
        for member in members:
            if (module == member or module.startswith(member + ".")) and len(member) > best:
                best, level = len(member), index
    return level


def unit_of(module: str) -> str:
    """The stage member a module belongs to (a subpackage counts as one)."""
    return max((m for members in STAGES for m in members if module == m or module.startswith(m + ".")), key=len)


def private_owner(target: str):
    """For ``a.b._c.d``: the package ``a.b`` whose private module it is (None when nothing is private)."""
    parts = target.split(".")
    for i, part in enumerate(parts):
        if part.startswith("_") and not (part.startswith("__") and part.endswith("__")):
            return ".".join(parts[:i])
    return None


def upward_edges(graph: dict) -> list:
    bad = []
    for module, edges in graph.items():
        for target, line in edges.items():
            if unit_of(module) == unit_of(target):
                continue
            if stage_of(target) >= stage_of(module):
                bad.append(f"{module}:{line} imports {target} (stage {stage_of(target)} >= {stage_of(module)})")
    return bad


def _white_box(path: Path, target: str) -> bool:
    """``tests/test_x.py`` holds the unit tests of a private module ``_x``: it alone may import it."""
    private = next(part for part in target.split(".") if part.startswith("_") and not part.endswith("__"))
    return path.parent.name == "tests" and path.stem == "test" + private


def private_reaches(files: dict, known, root: Path = ROOT) -> list:
    """Imports of ``pkg._x`` from outside ``pkg``; ``files`` maps an importer name to its path."""
    bad = []
    for name, path in files.items():
        for target, line in dict.fromkeys(imports_of(path, name, known)):
            owner = private_owner(target)
            if _white_box(path, target) if owner else False:
                continue
            if owner and target.split(".")[0] == PACKAGE and not (name == owner or name.startswith(owner + ".")):
                bad.append(f"{path.relative_to(root)}:{line} imports {target}, private to {owner}")
    return bad


def _call_name(node: ast.Call) -> str:
    func = node.func
    parts = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
    return ".".join(reversed(parts))


def side_effect_calls(path: Path) -> list:
    """Lines calling ``print`` or ``matplotlib.use`` / ``plt.show`` / ``plt.style.use``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    offending = {"print", "matplotlib.use", "plt.show", "plt.style.use", "pyplot.show"}
    return [f"{_call_name(n)} at line {n.lineno}" for n in ast.walk(tree)
            if isinstance(n, ast.Call) and _call_name(n) in offending]


# ---------------------------------------------------------------- the checks
GRAPH = import_graph()


def test_every_module_has_a_stage():
    missing = [m for m in GRAPH if stage_of(m) is None]
    assert not missing, f"add these modules to STAGES in tests/test_architecture.py: {missing}"


def test_no_import_cycle():
    cycle = find_cycle(GRAPH)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_imports_point_down_the_stages():
    bad = upward_edges(GRAPH)
    assert not bad, "imports pointing up the data flow:\n" + "\n".join(bad)


def test_nothing_reaches_into_another_package_private_modules():
    known = package_modules()
    files = dict(package_modules())
    for folder in ("tests", "examples", "docs", "benchmarks", "tools"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            files[f"{folder}.{path.stem}"] = path
    bad = private_reaches(files, known)
    assert not bad, "\n".join(bad)


def test_torch_is_imported_only_by_the_adapters_models_and_baselines():
    modules = package_modules()
    bad = []
    for name, path in modules.items():
        if name.startswith(TORCH_SIDE):
            continue
        for target, line in imports_of(path, name, modules):
            if target.split(".")[0] in HEAVY:
                bad.append(f"{name}:{line} imports {target}")
    assert not bad, "\n".join(bad)


def test_library_modules_neither_print_nor_set_global_matplotlib_state():
    offenders = {}
    for name, path in package_modules().items():
        if not name.startswith(MAY_PRINT):
            calls = side_effect_calls(path)
            if calls:
                offenders[name] = calls
    new = {m: c for m, c in offenders.items() if m not in PRINT_DEBT}
    assert not new, f"library modules must log, not print, and never pick a backend: {new}"
    paid = PRINT_DEBT - set(offenders)
    assert not paid, f"{sorted(paid)} no longer print: remove them from PRINT_DEBT"


def test_modules_stay_small():
    long = {name: n for name, path in package_modules().items()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"split these modules by job (over {MAX_LINES} lines): {long}"


# ---------------------------------------------------------------- the checks themselves can fail
def _write(root: Path, files: dict) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_the_checks_catch_a_cycle_an_upward_edge_and_a_private_reach(tmp_path):
    root = _write(tmp_path, {
        "zigzag/__init__.py": "from .pipeline import compute\n",
        "zigzag/_validation.py": "def check_barcode():\n    from .barcode import Barcode\n",
        "zigzag/barcode.py": "from ._validation import check_int\n",
        "zigzag/pipeline.py": "def compute():\n    from . import __version__\n",
        "zigzag/io.py": "def load():\n    from .adapters.streaming import load_extraction\n",
        "zigzag/adapters/__init__.py": "from ._capture import Capture\n",
        "zigzag/adapters/_capture.py": "",
        "zigzag/adapters/streaming.py": "",
        "examples/demo.py": "from zigzag._files import save_figure\nfrom zigzag.adapters import _capture\n",
        "tests/test_files.py": "from zigzag._files import atomic_path\n",
        "tests/test_other.py": "from zigzag._files import atomic_path\n",
    })
    graph = import_graph(root)
    assert graph["zigzag._validation"] == {"zigzag.barcode": 2}
    assert graph["zigzag.adapters"] == {"zigzag.adapters._capture": 1}
    cycle = find_cycle(graph)
    assert cycle is not None and cycle[0] == cycle[-1] and len(cycle) == 3
    upward = upward_edges(graph)
    assert any(e.startswith("zigzag.io:2 imports zigzag.adapters.streaming") for e in upward)
    assert any(e.startswith("zigzag._validation:2 imports zigzag.barcode") for e in upward)
    assert any(e.startswith("zigzag.pipeline:2 imports zigzag ") for e in upward)
    files = {"examples.demo": root / "examples" / "demo.py", "tests.test_files": root / "tests" / "test_files.py",
             "tests.test_other": root / "tests" / "test_other.py", **package_modules(root)}
    bad = private_reaches(files, package_modules(root), root)
    # the unit tests of _files (tests/test_files.py) may import it; nothing else outside the package may
    assert sorted(line.split(":")[0] for line in bad) == ["examples/demo.py", "examples/demo.py", "tests/test_other.py"]
    assert private_owner("zigzag.adapters._capture") == "zigzag.adapters"
    assert private_owner("zigzag.__init__") is None


def test_side_effect_finder(tmp_path):
    path = tmp_path / "m.py"
    path.write_text("import matplotlib\nmatplotlib.use('Agg')\ndef f():\n    print('x')\n", encoding="utf-8")
    assert side_effect_calls(path) == ["matplotlib.use at line 2", "print at line 4"]


@pytest.mark.parametrize("module, stage", [("zigzag.descriptors.summary", "zigzag.descriptors"),
                                           ("zigzag.cli.analysis", "zigzag.cli"), ("zigzag", "zigzag")])
def test_stage_lookup(module, stage):
    assert unit_of(module) == stage
