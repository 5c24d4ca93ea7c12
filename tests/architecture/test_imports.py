"""Import boundaries that CI enforces: `payments/` never imports `simulator`.

The simulator depends on payments (it implements the provider protocol and calls the webhook
service); the reverse would make a cycle and let test-only code reach production paths. The
provider class and the local JWKS resolver are named by settings instead (`TRUELAYER_PROVIDER`,
`TRUELAYER_LOCAL_JWKS`).

Every import statement counts, wherever it is (module level, inside a function, under
`TYPE_CHECKING`), and so do `importlib.import_module`, `__import__` and `import_string` calls
with a literal name, so a lazy import cannot slip through as it would past a rule that looks
at module-level imports only.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_DYNAMIC_IMPORTERS = {"import_module", "__import__", "import_string"}


def _resolve(module: str | None, level: int, package: str) -> str:
    if not level:
        return module or ""
    base = package.split(".")[: len(package.split(".")) - level + 1]
    return ".".join([*base, module] if module else base)


def imported_modules(source: str, *, package: str) -> list[tuple[int, str]]:
    """(line, module) for every import in `source`, at any depth, including dynamic imports
    of a literal name. `package` is the package the source lives in (for relative imports)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.append((node.lineno, _resolve(node.module, node.level, package)))
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0]
            if (
                name in _DYNAMIC_IMPORTERS
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
            ):
                found.append((node.lineno, first.value))
    return found


def _is_under(module: str, top: str) -> bool:
    return module == top or module.startswith(top + ".")


def forbidden_imports(package_dir: Path, forbidden: str, *, root: Path = ROOT) -> list[str]:
    """`path:line module` for each import of `forbidden` (or a submodule) below `package_dir`,
    a package inside `root`."""
    problems = []
    for path in sorted(package_dir.rglob("*.py")):
        relative = path.relative_to(root)
        parts = relative.with_suffix("").parts
        package = ".".join(parts if path.name == "__init__.py" else parts[:-1])
        package = package.removesuffix(".__init__")
        for line, module in imported_modules(path.read_text(), package=package):
            if _is_under(module, forbidden):
                problems.append(f"{relative}:{line} imports {module}")
    return problems


def test_payments_never_imports_the_simulator() -> None:
    assert forbidden_imports(ROOT / "payments", "simulator") == []


@pytest.mark.parametrize(
    "source",
    [
        "import simulator",
        "import simulator.keys as keys",
        "from simulator.provider import SimulatorProvider",
        "def get():\n    from simulator import keys\n    return keys",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import simulator.models",
        "import importlib\nimportlib.import_module('simulator.keys')",
        "from django.utils.module_loading import import_string\n"
        "import_string('simulator.provider.SimulatorProvider')",
    ],
)
def test_the_check_sees_every_kind_of_import(source: str) -> None:
    modules = [module for _, module in imported_modules(source, package="payments.truelayer")]
    assert any(_is_under(module, "simulator") for module in modules)


def test_relative_imports_resolve_inside_their_package() -> None:
    modules = imported_modules(
        "from .client import X\nfrom .. import domain", package="payments.truelayer"
    )
    assert [module for _, module in modules] == ["payments.truelayer.client", "payments"]
    assert not _is_under("simulator_extra", "simulator")


def test_the_check_finds_a_lazy_import_in_a_file(tmp_path: Path) -> None:
    package = tmp_path / "payments" / "truelayer"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "provider.py").write_text("def get():\n    from simulator import provider\n")

    assert forbidden_imports(tmp_path / "payments", "simulator", root=tmp_path) == [
        "payments/truelayer/provider.py:2 imports simulator"
    ]
