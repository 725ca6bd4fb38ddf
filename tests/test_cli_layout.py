"""The command line's modules import each other in one direction, and share public names only."""

import ast
import pathlib
import subprocess
import sys

import ae_reduce._cli

CLI = pathlib.Path(ae_reduce._cli.__file__).parent
MODULES = sorted(path.stem for path in CLI.glob("*.py"))


def _imports(path):
    """(line, module of the package, name) of each relative import in `path`, lazy ones
    included; the module is ``__init__`` for the package itself."""
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.ImportFrom) or node.level != 1:
            continue
        for alias in node.names:
            if node.module is not None:
                yield node.lineno, node.module.split(".")[0], alias.name
            elif alias.name in MODULES:
                yield node.lineno, alias.name, None
            else:
                yield node.lineno, "__init__", alias.name


def test_no_private_name_is_imported_from_another_module():
    private = [
        f"{path.name}:{line}: {module}.{name}"
        for path in sorted(CLI.glob("*.py"))
        for line, module, name in _imports(path)
        if name is not None and name.startswith("_") and not name.startswith("__")
    ]
    assert not private, "\n".join(private)


def test_the_modules_import_each_other_without_a_cycle():
    graph = {path.stem: {module for _, module, _ in _imports(path)} for path in CLI.glob("*.py")}
    # Only the program's entry point imports the package itself.
    assert [name for name, imported in graph.items() if "__init__" in imported] == ["__main__"]
    done, cycles = set(), []

    def visit(name, path):
        for module in sorted(graph.get(name, ())):
            if module in path:
                cycles.append(" -> ".join([*path[path.index(module) :], module]))
            elif module not in done:
                visit(module, [*path, module])
        done.add(name)

    for name in sorted(graph):
        visit(name, [name])
    assert not cycles, "\n".join(cycles)


def test_the_parser_imports_no_heavy_library():
    code = (
        "import sys\n"
        "sys.modules['pandas'] = None\n"
        "from ae_reduce._cli.parser import build_parser\n"
        "build_parser().format_help()\n"
        "heavy = ('tensorflow', 'keras', 'matplotlib', 'openTSNE', 'pyarrow')\n"
        "print(sorted(name for name in heavy if name in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_python_dash_m_runs_the_program():
    result = subprocess.run(
        [sys.executable, "-m", "ae_reduce._cli", "--version"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ae-reduce ")
