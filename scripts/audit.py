"""Vulnerability audit of uv.lock (exported as requirements by `make audit`) against PyPI's
advisories, nothing installed: pip-audit first, PyPI's project JSON for what it could not look up.

pip-audit reads /pypi/<name>/<version>/json. Where that answers 404 (a mirror or proxy that serves
only part of PyPI), a package is looked up in /pypi/<name>/json instead. That document lists
`vulnerabilities` for the project's newest release (`info.version`) only; its `releases` map holds
files and nothing about advisories, and an advisory of the newest release says nothing about when
the flaw came in, while one fixed before it is not listed at all. So a locked version that is the
newest release is audited with that list (withdrawn entries dropped, aliases of one flaw merged),
and an older locked version is reported "not audited: locked X, newest Y", never assumed clean.

Each finding fails the audit unless pyproject.toml accepts its id or an alias in
`[tool.tickwire.audit.ignore]` as `"<advisory id>" = "<why it does not apply>"`. A package that
could not be audited is reported, and fails the audit only with --require-all.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tomllib
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parents[1]
PROJECT_JSON = "https://pypi.org/pypi/{name}/json"


@dataclass(frozen=True)
class Advisory:
    id: str
    aliases: tuple[str, ...]
    fixed_in: tuple[str, ...]

    def names(self) -> set[str]:
        return {self.id, *self.aliases}


@dataclass(frozen=True)
class Outcome:
    """What the audit learnt about one locked package: its advisories, or why it was not audited."""

    package: str
    version: str
    advisories: tuple[Advisory, ...] = ()
    not_audited: str | None = None
    source: str = field(default="pip-audit", compare=False)


def ignored_advisories(pyproject: str) -> dict[str, str]:
    config = tomllib.loads(pyproject)
    ignored: dict[str, str] = (
        config.get("tool", {}).get("tickwire", {}).get("audit", {}).get("ignore", {})
    )
    unexplained = [advisory for advisory, why in ignored.items() if not str(why).strip()]
    if unexplained:
        sys.exit(f"audit: ignored advisories need a reason in pyproject.toml: {unexplained}")
    return ignored


def locked_packages(requirements: str) -> dict[str, str]:
    """`name==version` lines of `uv export` (markers after `;`) as canonical name -> version."""
    locked: dict[str, str] = {}
    for line in requirements.splitlines():
        pin = line.split(";")[0].strip()
        if pin and not pin.startswith("#") and "==" in pin:
            name, version = pin.split("==", 1)
            locked[canonicalize_name(name)] = version.strip()
    return locked


def merged(advisories: Iterable[Advisory]) -> tuple[Advisory, ...]:
    # PyPI lists one flaw once per database (PYSEC and GHSA) with each naming the other.
    kept: list[Advisory] = []
    for advisory in advisories:
        if not any(advisory.names() & other.names() for other in kept):
            kept.append(advisory)
    return tuple(kept)


def from_pip_audit(result: dict[str, Any], locked: dict[str, str]) -> list[Outcome]:
    """pip-audit's JSON, minus the packages it skipped (those go to the per-project lookup)."""
    outcomes = []
    for dependency in result["dependencies"]:
        if "skip_reason" in dependency:
            continue
        name = canonicalize_name(dependency["name"])
        vulns = dependency.get("vulns", [])
        advisories = (
            Advisory(v["id"], tuple(v["aliases"]), tuple(v["fix_versions"])) for v in vulns
        )
        outcomes.append(Outcome(name, locked.get(name, dependency["version"]), merged(advisories)))
    return outcomes


def same_version(a: str, b: str) -> bool:
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


def from_project(package: str, version: str, project: dict[str, Any]) -> Outcome:
    """Judge one locked version by PyPI's per-project JSON (see the module docstring for why)."""
    newest = str(project["info"]["version"])
    if not same_version(version, newest):
        return Outcome(package, version, not_audited=f"locked {version}, newest {newest}")
    advisories = (
        Advisory(v["id"], tuple(v.get("aliases") or ()), tuple(v.get("fixed_in") or ()))
        for v in project.get("vulnerabilities") or ()
        if not v.get("withdrawn")
    )
    return Outcome(package, version, merged(advisories), source="PyPI project JSON")


def lookup(package: str, version: str, fetch: Callable[[str], bytes]) -> Outcome:
    try:
        project = json.loads(fetch(PROJECT_JSON.format(name=package)))
    except urllib.error.HTTPError as error:
        return Outcome(package, version, not_audited=f"PyPI answered {error.code}")
    except (urllib.error.URLError, TimeoutError, ValueError) as error:
        return Outcome(package, version, not_audited=f"PyPI lookup failed: {error}")
    return from_project(package, version, project)


def http_get(url: str, timeout: float) -> bytes:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        body: bytes = response.read()
        return body


def pip_audit(requirements: Path) -> dict[str, Any] | None:
    command = [
        str(Path(sys.executable).with_name("pip-audit")), "-r", str(requirements), "--no-deps",
        "--disable-pip", "-s", "pypi", "-f", "json", "--progress-spinner", "off",
    ]  # fmt: skip
    # pip-audit exits 1 when it finds something; its JSON says what, so the code is not read here.
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if not done.stdout.strip():
        print(f"  pip-audit failed, every package goes to PyPI's project JSON: {done.stderr}")
        return None
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def report(outcomes: list[Outcome], ignored: dict[str, str]) -> tuple[list[str], int, int]:
    """The summary line and one line per finding and per package not audited; with the counts
    of findings not accepted and of packages not audited."""
    lines, failing, findings = [], 0, 0
    for outcome in outcomes:
        for advisory in outcome.advisories:
            findings += 1
            accepted = [ignored[n] for n in sorted(advisory.names()) if n in ignored]
            fixed = ", ".join(advisory.fixed_in) or "none yet"
            what = (
                f"{outcome.package} {outcome.version}: {advisory.id}"
                f" ({', '.join(advisory.aliases)}) fixed in {fixed} [{outcome.source}]"
            )
            lines.append(f"  accepted {what}: {accepted[0]}" if accepted else f"  FINDING {what}")
            failing += not accepted
    unaudited = [o for o in outcomes if o.not_audited]
    lines += [f"  not audited: {o.package}: {o.not_audited}" for o in unaudited]
    audited = len(outcomes) - len(unaudited)
    summary = (
        f"audit: {len(outcomes)} locked, {audited} audited, {findings} findings"
        f" ({findings - failing} accepted), {len(unaudited)} not audited"
    )
    return [summary, *lines], failing, len(unaudited)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("requirements", type=Path, help="uv.lock exported as requirements")
    parser.add_argument(
        "--require-all", action="store_true", help="fail when a package could not be audited"
    )
    parser.add_argument("--timeout", type=float, default=15.0, help="seconds per PyPI request")
    args = parser.parse_args(argv)
    ignored = ignored_advisories((ROOT / "pyproject.toml").read_text())
    locked = locked_packages(args.requirements.read_text())
    result = pip_audit(args.requirements)
    outcomes = from_pip_audit(result, locked) if result else []
    # Also the pins pip-audit skips because their markers exclude this platform: the lock has them.
    rest = sorted(set(locked) - {o.package for o in outcomes})
    fetch = partial(http_get, timeout=args.timeout)
    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes += pool.map(lambda name: lookup(name, locked[name], fetch), rest)
    lines, failing, unaudited = report(sorted(outcomes, key=lambda o: o.package), ignored)
    print("\n".join(lines))
    return 1 if failing or (unaudited and args.require_all) else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
