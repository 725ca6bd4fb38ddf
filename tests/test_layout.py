"""The package's layout keeps its one rule of imports (see the developer's page)."""

import ast
import pathlib

import ae_reduce

PACKAGE = pathlib.Path(ae_reduce.__file__).parent


def _imports(path):
    """(line, imported module, name) of each ``from ... import name`` into ae_reduce."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    package = parts[:-1]
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            base = package[: len(package) - node.level + 1]
            module = ".".join(base + ((node.module,) if node.module else ()))
        elif (node.module or "").split(".")[0] == "ae_reduce":
            module = node.module
        else:
            continue
        for alias in node.names:
            yield node.lineno, module, alias.name


def test_no_private_name_is_imported_from_another_module():
    # A name another module needs is public where it is defined; private modules (a
    # subpackage's "_checks" or "_html") are imported only from their own package.
    crossings = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        here = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        for line, module, name in _imports(path):
            if not name.startswith("_") or name.startswith("__"):
                continue
            # A private module imported by name from its own package is allowed.
            if (module == ".".join(parts[:-1]) and (path.parent / name).exists()) or (
                path.parent / f"{name}.py"
            ).exists():
                continue
            if module != here:
                crossings.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {module}.{name}")
    assert not crossings, "\n".join(crossings)


def test_no_module_imports_the_package_root():
    # The root only gathers the public names; a module importing it would be a cycle.
    upward = [
        f"{path.relative_to(PACKAGE.parent)}:{line}: {name}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "__init__.py" or path.parent != PACKAGE
        for line, module, name in _imports(path)
        if module == "ae_reduce" and not name.startswith("_")
    ]
    assert not upward, "\n".join(upward)
