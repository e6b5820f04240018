"""Type-check (mypy) and check the import contracts (import-linter) of the package as it installs.

python scripts/check.py types      # mypy over every module of docagent
python scripts/check.py imports    # the contracts in pyproject.toml

api/, cli/, pipeline/, renderers/, templates/ and workers/ install as docagent.api, docagent.cli, ...
through setuptools' package-dir mapping (pyproject.toml, [tool.setuptools]). Both tools find a
package's modules by walking its folder, and neither reads that mapping (nor the import hook that an
editable install uses), so plain `mypy` or `lint-imports` would see a docagent without those
subpackages. This script gives each tool the modules named as they install, from the same table
setuptools builds the wheel from; diagnostics name the files where they are in the repository.
"""

from __future__ import annotations

import os
import sys
import tomllib
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@cache
def _setuptools() -> dict[str, object]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        config: dict[str, object] = tomllib.load(f)["tool"]["setuptools"]
    return config


def folder(package: str) -> Path:
    """Where a package's files are, by setuptools' rule: the longest mapped name that it starts with."""
    mapped: dict[str, str] = _setuptools()["package-dir"]  # type: ignore[assignment]
    for name in sorted(mapped, key=len, reverse=True):
        if package == name or package.startswith(name + "."):
            return ROOT / mapped[name] / Path(*package[len(name) :].split(".")[1:])
    return ROOT / Path(*package.split("."))


def packages() -> list[str]:
    """The packages the wheel holds; an unlisted folder with an __init__.py below one of them is an error."""
    listed: list[str] = _setuptools()["packages"]  # type: ignore[assignment]
    folders = {folder(p).resolve() for p in listed}
    missed = sorted(
        str(init.parent.relative_to(ROOT))
        for p in listed
        for init in folder(p).glob("*/__init__.py")
        if init.parent.resolve() not in folders
    )
    if missed:
        sys.exit(f"package folders not in pyproject.toml [tool.setuptools] packages: {', '.join(missed)}")
    return listed


def modules() -> dict[str, Path]:
    """Every module of the installed docagent, by its import name."""
    out = {}
    for package in packages():
        for path in sorted(folder(package).glob("*.py")):
            out[package if path.stem == "__init__" else f"{package}.{path.stem}"] = path
    return out


def types() -> int:
    from mypy import build
    from mypy.errors import CompileError
    from mypy.main import process_options
    from mypy.modulefinder import BuildSource

    _, options = process_options(["--config-file", str(ROOT / "pyproject.toml")], require_targets=False)
    sources = [BuildSource(str(path.relative_to(ROOT)), name) for name, path in modules().items()]
    try:
        result = build.build(sources, options)
    except CompileError as e:
        messages = e.messages
    else:
        messages = result.errors
    if messages:
        print("\n".join(messages))
    errors = sum(": error:" in m for m in messages)
    if errors:
        print(f"Found {errors} error{'s' * (errors != 1)} in {len(sources)} source files")
        return 1
    print(f"Success: no issues found in {len(sources)} source files")
    return 0


def imports() -> int:
    from grimp.adaptors.packagefinder import ImportLibPackageFinder
    from grimp.application.config import settings
    from importlinter.cli import lint_imports_command

    class Mapped(ImportLibPackageFinder):
        """A root package's folder from the mapping (grimp asks importlib, and takes only top-level names)."""

        def determine_package_directories(self, package_name: str, file_system: object) -> set[str]:
            return {str(folder(package_name))}

    settings.configure(PACKAGE_FINDER=Mapped())
    lint_imports_command.main(args=sys.argv[2:], prog_name="lint-imports")  # exits with its status
    return 1


if __name__ == "__main__":
    commands = {"types": types, "imports": imports}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    os.chdir(ROOT)  # both tools read their settings from pyproject.toml here
    sys.exit(commands[sys.argv[1]]())
