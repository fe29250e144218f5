"""Test support (tickwire_testing) stays out of what runs: no runtime package imports it, and no
service's locked dependencies (what `uv sync --no-dev --package tickwire-<service>` installs in
its image) reach it or pytest."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tickwire_core.localstack._process import REPO_ROOT

TEST_SUPPORT = "tickwire_testing"
TEST_SUPPORT_PACKAGE = "tickwire-testing"
WORKSPACE = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
LOCK = tomllib.loads((REPO_ROOT / "uv.lock").read_text())


def members() -> list[Path]:
    """Every workspace member's folder, the globs of the root pyproject expanded."""
    found = [
        path
        for pattern in WORKSPACE["tool"]["uv"]["workspace"]["members"]
        for path in sorted(REPO_ROOT.glob(pattern))
        if (path / "pyproject.toml").is_file()
    ]
    return found


def package_name(member: Path) -> str:
    name: str = tomllib.loads((member / "pyproject.toml").read_text())["project"]["name"]
    return name


RUNTIME = [m for m in members() if package_name(m) != TEST_SUPPORT_PACKAGE]
SERVICES = [package_name(m) for m in RUNTIME if m.parent.name == "services"]


def imports_of_test_support(source: str) -> list[str]:
    """The modules named `tickwire_testing...` that a source imports, by statement or by name
    (importlib.import_module, a pytest `-p` option)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append(node.module)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append(node.value)
    return [name for name in found if name.split(".")[0] == TEST_SUPPORT]


def reachable(roots: list[str], groups: tuple[str, ...] = ()) -> set[str]:
    """The locked packages that installing `roots` pulls in: their dependencies and the extras
    asked for, transitively; a package's dependency groups only where named in `groups`."""
    by_name: dict[str, dict[str, Any]] = {p["name"]: p for p in LOCK["package"]}
    seen: set[str] = set()
    todo: list[tuple[str, tuple[str, ...]]] = [(root, ()) for root in roots]
    while todo:
        name, extras = todo.pop()
        package = by_name[name]
        fresh = name not in seen
        seen.add(name)
        edges = list(package.get("dependencies", [])) if fresh else []
        for extra in extras:
            edges += package.get("optional-dependencies", {}).get(extra, [])
        if fresh and name in roots:
            for group in groups:
                edges += package.get("dev-dependencies", {}).get(group, [])
        todo += [(edge["name"], tuple(edge.get("extra", ()))) for edge in edges]
    return seen


def test_the_workspace_has_runtime_packages_and_services_to_check() -> None:
    # The five services and the batch jobs (services/jobs).
    assert len(RUNTIME) >= 8 and len(SERVICES) == 6, (RUNTIME, SERVICES)


@pytest.mark.parametrize("member", RUNTIME, ids=lambda m: m.relative_to(REPO_ROOT).as_posix())
def test_no_runtime_package_imports_the_test_support(member: Path) -> None:
    sources = sorted((member / "src").rglob("*.py"))
    assert sources, f"{member}: no sources found"
    offending = {
        source.relative_to(REPO_ROOT).as_posix(): names
        for source in sources
        if (names := imports_of_test_support(source.read_text()))
    }
    assert offending == {}


def test_the_import_scan_finds_every_way_of_importing_the_test_support() -> None:
    source = (
        "import tickwire_testing\n"
        "from tickwire_testing.ingest import loopback\n"
        "import importlib\n"
        "importlib.import_module('tickwire_testing.fakes')\n"
        "from tickwire_core import serde\n"
        "name = 'tickwire_testing_like_but_not'\n"
    )
    assert imports_of_test_support(source) == [
        "tickwire_testing",
        "tickwire_testing.ingest",
        "tickwire_testing.fakes",
    ]


@pytest.mark.parametrize("service", SERVICES)
def test_no_image_installs_the_test_support_or_pytest(service: str) -> None:
    installed = reachable([service])
    assert service in installed and "tickwire-core" in installed
    assert TEST_SUPPORT_PACKAGE not in installed
    assert "pytest" not in installed


def test_the_workspace_itself_gets_the_test_support_as_a_dev_dependency() -> None:
    # The same walk does find it where it belongs, so the checks above can fail.
    assert TEST_SUPPORT_PACKAGE not in reachable(["tickwire"])
    assert {TEST_SUPPORT_PACKAGE, "pytest"} <= reachable(["tickwire"], groups=("dev",))
