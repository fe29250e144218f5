"""Vulnerability audit of uv.lock (exported as requirements by `make audit`): every locked package
is checked with pip-audit against PyPI's advisory data, nothing installed; a finding fails.

Advisories accepted on purpose live in pyproject.toml, `[tool.tickwire.audit.ignore]`, as
`"<advisory id>" = "<why it does not apply>"`. A package the advisory service could not look up is
reported, and fails the audit only with --require-all (PyPI's per-release data may be out of
reach: a mirror or proxy that serves the index but not /pypi/<name>/<version>/json)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def ignored_advisories() -> dict[str, str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    ignored: dict[str, str] = (
        config.get("tool", {}).get("tickwire", {}).get("audit", {}).get("ignore", {})
    )
    unexplained = [advisory for advisory, why in ignored.items() if not str(why).strip()]
    if unexplained:
        sys.exit(f"audit: ignored advisories need a reason in pyproject.toml: {unexplained}")
    return ignored


def audit(requirements: Path, ignored: dict[str, str]) -> dict[str, Any]:
    command = [
        str(Path(sys.executable).with_name("pip-audit")), "-r", str(requirements), "--no-deps",
        "--disable-pip", "-s", "pypi", "-f", "json", "--progress-spinner", "off",
        *(f"--ignore-vuln={advisory}" for advisory in ignored),
    ]  # fmt: skip
    # pip-audit exits 1 when it finds something; its JSON says what, so the code is not read here.
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if not done.stdout.strip():
        sys.exit(f"audit: pip-audit failed: {done.stderr.strip()}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("requirements", type=Path, help="uv.lock exported as requirements")
    parser.add_argument(
        "--require-all", action="store_true", help="fail when a package could not be audited"
    )
    args = parser.parse_args(argv)
    ignored = ignored_advisories()
    result = audit(args.requirements, ignored)
    dependencies = result["dependencies"]
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if "skip_reason" in d]
    audited = len(dependencies) - len(skipped)
    print(
        f"audit: {len(dependencies)} locked packages, {audited} audited against PyPI's advisories"
    )
    for dependency in vulnerable:
        for vuln in dependency["vulns"]:
            fixed = ", ".join(vuln["fix_versions"]) or "none yet"
            aliases = ", ".join(vuln["aliases"])
            print(
                f"  VULNERABLE {dependency['name']} {dependency['version']}: {vuln['id']}"
                f" ({aliases}) fixed in {fixed}"
            )
    for advisory, why in ignored.items():
        print(f"  ignored {advisory}: {why}")
    if skipped:
        print(
            f"  NOT AUDITED: {len(skipped)} packages, e.g. {skipped[0]['skip_reason']}; PyPI's"
            " per-release JSON (/pypi/<name>/<version>/json) is where pip-audit reads advisories"
        )
    if not vulnerable:
        print(f"audit: no known vulnerabilities in the {audited} audited packages")
    return 1 if vulnerable or (skipped and args.require_all) else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
