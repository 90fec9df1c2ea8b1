"""The floors of the house (STYLE.md "Layers", issue #10), read from the source with ``ast``.

Every module of the project (``audit``, ``checks``, ``reports``, ``fixtures``) is parsed, and every
import of a project module recorded — imports inside functions included, since Python runs them
as surely as the others, only later. Then:

- the modules import one another without a cycle;
- the foundation (``audit/`` top level, everything in ``audit`` but ``audit.app``) imports nothing
  above it: not ``checks``, ``reports``, ``fixtures`` or ``audit.app``;
- ``reports`` read a run directory, never the rule registry or the application: no ``checks``,
  no ``audit.app``;
- a rule module of ``checks`` (a name without a leading underscore) imports no other rule
  module: shared domain logic lives in the private helper modules (``checks/_*.py``);
- an import of a project module inside a function carries a comment on its line, or on the line
  above, saying why it is there and not at the top.

Imports under ``if TYPE_CHECKING:`` run only for the type checker: they count for the floors
but cannot close a cycle.
"""

from __future__ import annotations

import ast
import graphlib
import io
import tokenize
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("audit", "checks", "reports", "fixtures")


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the project module imported
    line: int
    in_function: bool
    type_checking: bool
    commented: bool  # a comment on the import's line or the line above


def project_modules(root: Path = ROOT) -> dict[str, Path]:
    """Dotted module name → file, for every module of the project's packages."""
    out: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


def _commented_lines(source: str) -> set[int]:
    return {tok.start[0] for tok in tokenize.generate_tokens(io.StringIO(source).readline)
            if tok.type == tokenize.COMMENT}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports_of(name: str, source: str, known: set[str], is_package: bool = False) -> list[Import]:
    """The imports of project modules (``known``) in one module's source."""
    tree = ast.parse(source)
    comments = _commented_lines(source)
    package = name if is_package else name.rpartition(".")[0]
    found: list[Import] = []

    def target_of(module: str) -> str | None:
        while module:  # `import a.b.c` names a.b.c, or the deepest of its parents that is a module
            if module in known:
                return module
            module = module.rpartition(".")[0]
        return None

    def record(node: ast.Import | ast.ImportFrom, in_function: bool, type_checking: bool) -> None:
        targets: list[str | None] = []
        if isinstance(node, ast.Import):
            targets = [target_of(alias.name) for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:  # `from pkg import sub` imports the module pkg.sub when there is one
                sub = f"{base}.{alias.name}"
                targets.append(sub if sub in known else target_of(base))
        commented = node.lineno in comments or node.lineno - 1 in comments
        for target in dict.fromkeys(t for t in targets if t is not None and t != name):
            found.append(Import(name, target, node.lineno, in_function, type_checking, commented))

    def visit(node: ast.AST, in_function: bool, type_checking: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                record(child, in_function, type_checking)
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                visit(child, True, type_checking)
            elif isinstance(child, ast.If) and _is_type_checking(child.test):
                for stmt in child.body:
                    visit(ast.Module(body=[stmt], type_ignores=[]), in_function, True)
                for stmt in child.orelse:
                    visit(ast.Module(body=[stmt], type_ignores=[]), in_function, type_checking)
            else:
                visit(child, in_function, type_checking)

    visit(tree, False, False)
    return found


def all_imports(root: Path = ROOT) -> list[Import]:
    modules = project_modules(root)
    known = set(modules)
    return [imp for name, path in modules.items()
            for imp in imports_of(name, path.read_text(encoding="utf-8"), known, path.name == "__init__.py")]


def find_cycle(imports: list[Import]) -> list[str] | None:
    """One cycle among the runtime imports (a list of modules, first = last), or None."""
    graph: dict[str, set[str]] = {}
    for imp in imports:
        if not imp.type_checking:
            graph.setdefault(imp.source, set()).add(imp.target)
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as exc:
        return list(reversed(exc.args[1]))
    return None


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def is_foundation(module: str) -> bool:
    return _within(module, "audit") and not _within(module, "audit.app") and module != "audit.__main__"


def is_rule_module(module: str) -> bool:
    """A module of checks/ that defines rules: checks.<name> without a leading underscore."""
    parts = module.split(".")
    return len(parts) == 2 and parts[0] == "checks" and not parts[1].startswith("_")


def floor_violations(imports: list[Import]) -> list[str]:
    bad = []
    for imp in imports:
        above = None
        if is_foundation(imp.source):
            above = next((p for p in ("checks", "reports", "fixtures", "audit.app") if _within(imp.target, p)), None)
        elif _within(imp.source, "reports"):
            above = next((p for p in ("checks", "audit.app") if _within(imp.target, p)), None)
        if above:
            bad.append(f"{imp.source}:{imp.line} imports {imp.target} ({above} is above it)")
    return bad


def rule_module_violations(imports: list[Import]) -> list[str]:
    return [f"{imp.source}:{imp.line} imports the rule module {imp.target}; move what it shares to a checks/_*.py"
            for imp in imports if is_rule_module(imp.source) and is_rule_module(imp.target)]


def unexplained_function_imports(imports: list[Import]) -> list[str]:
    return [f"{imp.source}:{imp.line} imports {imp.target} inside a function without a comment saying why"
            for imp in imports if imp.in_function and not imp.commented]


# ---------------------------------------------------------------- the project -----------------

IMPORTS = all_imports()


def test_every_package_is_read() -> None:
    modules = project_modules()
    for package in PACKAGES:
        assert package in modules, package
    assert "audit.app.pipeline" in modules and "audit.rundir" in modules
    assert len(IMPORTS) > 100  # the project's modules import each other; an empty list reads nothing


def test_no_import_cycle() -> None:
    assert find_cycle(IMPORTS) is None, " → ".join(find_cycle(IMPORTS) or [])


def test_the_foundation_and_reports_import_nothing_above_them() -> None:
    assert floor_violations(IMPORTS) == []


def test_no_rule_module_imports_another() -> None:
    assert rule_module_violations(IMPORTS) == []


def test_imports_inside_functions_say_why() -> None:
    assert unexplained_function_imports(IMPORTS) == []


# ---------------------------------------------------------------- the reader itself ------------

KNOWN = {"audit", "audit.tables", "audit.app", "audit.app.cli", "checks", "checks.ghost_trainee",
         "checks._runs", "checks.dormant_unit", "reports", "reports.data"}

READER_CASES = [
    # description, module, source, expected (target, in_function, type_checking, commented)
    ("top-level import", "audit.rules", "from audit.tables import Tables\n",
     [("audit.tables", False, False, False)]),
    ("a submodule named in from-import", "checks.dormant_unit", "from checks import _runs, ghost_trainee\n",
     [("checks._runs", False, False, False), ("checks.ghost_trainee", False, False, False)]),
    ("a name from a package's __init__", "reports.data", "from checks import CHECKS\n",
     [("checks", False, False, False)]),
    ("dotted import", "audit.rules", "import audit.app.cli as cli\n", [("audit.app.cli", False, False, False)]),
    ("inside a function, unexplained", "audit.tables", "def f():\n    from checks import CHECKS\n",
     [("checks", True, False, False)]),
    ("inside a function, explained above", "audit.tables",
     "def f():\n    # lazily: the registry is heavy\n    from checks import CHECKS\n", [("checks", True, False, True)]),
    ("under TYPE_CHECKING", "audit.tables", "if TYPE_CHECKING:\n    from audit.app import cli\n",
     [("audit.app.cli", False, True, False)]),
    ("relative import", "checks.dormant_unit", "from ._runs import new_run\n", [("checks._runs", False, False, False)]),
    ("a library is not the project", "audit.tables", "import polars as pl\nfrom pathlib import Path\n", []),
]


@pytest.mark.parametrize("description, module, source, expected", READER_CASES, ids=[c[0] for c in READER_CASES])
def test_reader(description: str, module: str, source: str, expected: list[tuple]) -> None:
    got = [(i.target, i.in_function, i.type_checking, i.commented) for i in imports_of(module, source, KNOWN)]
    assert got == expected, description


def _imp(source: str, target: str, **kw: bool) -> Import:
    return Import(source, target, 1, kw.get("in_function", False), kw.get("type_checking", False),
                  kw.get("commented", False))


def test_a_cycle_is_found_even_through_a_function() -> None:
    imports = [_imp("audit.graph", "audit.cases"), _imp("audit.cases", "checks"),
               _imp("checks", "checks.graph_rules"), _imp("checks.graph_rules", "audit.graph", in_function=True)]
    cycle = find_cycle(imports)
    assert cycle is not None and cycle[0] == cycle[-1] and set(cycle) == {
        "audit.graph", "audit.cases", "checks", "checks.graph_rules"}
    assert find_cycle(imports[:-1]) is None
    assert find_cycle([*imports[:-1], _imp("checks.graph_rules", "audit.graph", type_checking=True)]) is None


FLOOR_CASES = [
    ("the foundation reaching the registry", _imp("audit.graph", "checks"), True),
    ("the foundation reaching the app", _imp("audit.rundir", "audit.app.cases"), True),
    ("the foundation reaching reports, typing only", _imp("audit.rules", "reports.data", type_checking=True), True),
    ("reports reaching the registry", _imp("reports.data", "checks"), True),
    ("reports reaching the app", _imp("reports.exit_list", "audit.app.pipeline"), True),
    ("reports reading the foundation", _imp("reports.data", "audit.rundir"), False),
    ("the app running the rules", _imp("audit.app.pipeline", "checks"), False),
    ("python -m audit starting the app", _imp("audit.__main__", "audit.app.cli"), False),
    ("a rule reading the foundation", _imp("checks.dormant_unit", "audit.graph"), False),
]


@pytest.mark.parametrize("description, imp, bad", FLOOR_CASES, ids=[c[0] for c in FLOOR_CASES])
def test_floors(description: str, imp: Import, bad: bool) -> None:
    assert bool(floor_violations([imp])) is bad, description


def test_rule_modules_and_their_helpers() -> None:
    assert rule_module_violations([_imp("checks.unit_ineligible", "checks.ghost_trainee")])
    assert not rule_module_violations([_imp("checks.unit_ineligible", "checks._identity")])
    assert not rule_module_violations([_imp("checks._retention", "checks._expected")])
    assert not rule_module_violations([_imp("checks", "checks.ghost_trainee")])  # the registry
