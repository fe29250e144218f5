"""The README's dependency table names exactly the direct dependencies of the workspace's
pyproject.toml files (the root's dev group included), so every package has a stated reason."""

import re
import tomllib
from pathlib import Path

from tickwire_core.localstack._process import REPO_ROOT

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _canonical(requirement: str) -> str:
    match = _NAME.match(requirement.strip())
    assert match, requirement
    return re.sub(r"[-_.]+", "-", match.group()).lower()


def _pyprojects() -> list[Path]:
    root = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    members = root["tool"]["uv"]["workspace"]["members"]
    found = sorted(
        path / "pyproject.toml"
        for pattern in members
        for path in REPO_ROOT.glob(pattern)
        if (path / "pyproject.toml").exists()
    )
    return [REPO_ROOT / "pyproject.toml", *found]


def declared_dependencies() -> dict[str, set[str]]:
    """Package -> the pyproject files (relative) that declare it, workspace packages left out."""
    projects = {p: tomllib.loads(p.read_text()) for p in _pyprojects()}
    own = {_canonical(data["project"]["name"]) for data in projects.values()}
    declared: dict[str, set[str]] = {}
    for path, data in projects.items():
        requirements = list(data["project"].get("dependencies", []))
        for group in data.get("dependency-groups", {}).values():
            requirements += [r for r in group if isinstance(r, str)]
        for extra in data["project"].get("optional-dependencies", {}).values():
            requirements += extra
        for requirement in requirements:
            name = _canonical(requirement)
            if name not in own:
                declared.setdefault(name, set()).add(str(path.relative_to(REPO_ROOT)))
    return declared


def table_packages() -> list[str]:
    """The packages the README's dependency table names, one per comma-separated entry."""
    text = (REPO_ROOT / "README.md").read_text()
    section = text.split("## Dependencies, and why each", 1)[1].split("\n## ", 1)[0]
    names = []
    for line in section.splitlines():
        if not line.startswith("| ") or line.startswith(("| package ", "|---")):
            continue
        cell = line.split("|")[1].replace("(dev)", "")
        names += [_canonical(entry) for entry in cell.split(",") if entry.strip()]
    return names


def test_every_direct_dependency_has_a_row_and_every_row_a_dependency() -> None:
    declared = declared_dependencies()
    named = table_packages()
    missing = {name: sorted(where) for name, where in declared.items() if name not in named}
    assert not missing, f"direct dependencies without a reason in the README's table: {missing}"
    undeclared = sorted(set(named) - set(declared))
    assert not undeclared, f"the README's table names packages no pyproject declares: {undeclared}"
    assert len(named) == len(set(named)), "a package is named twice in the table"


def test_the_table_reads_what_the_pyprojects_declare() -> None:
    # The parser itself: a known direct dependency of each kind is found on both sides.
    declared = declared_dependencies()
    assert declared["psycopg"] >= {"libs/core/pyproject.toml", "services/sink/pyproject.toml"}
    assert declared["pytest"] == {"pyproject.toml", "libs/testing/pyproject.toml"}  # dev only
    assert {"psycopg", "aiokafka", "typer", "pytest"} <= set(table_packages())
