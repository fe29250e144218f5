"""scripts/audit.py judges locked versions by PyPI's per-project JSON and pip-audit's output:
findings fail unless accepted, older versions are reported as not audited, never as clean."""

import importlib.util
import sys
import urllib.error
from email.message import Message
from types import ModuleType

import pytest

from tickwire_core.localstack._process import REPO_ROOT


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("audit", REPO_ROOT / "scripts" / "audit.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["audit"] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


audit = _load()

# Trimmed from PyPI's /pypi/<name>/json: the fields the audit reads, as PyPI spells them.
ECDSA = {
    "info": {"name": "ecdsa", "version": "0.19.2"},
    "releases": {"0.19.1": [], "0.19.2": []},
    "vulnerabilities": [
        {
            "aliases": ["CVE-2024-23342", "GHSA-wj6h-64fc-37mp"],
            "fixed_in": [],
            "id": "PYSEC-2026-1325",
            "withdrawn": None,
        },
        {
            "aliases": ["CVE-2024-23342", "PYSEC-2026-1325"],
            "fixed_in": [],
            "id": "GHSA-wj6h-64fc-37mp",
            "withdrawn": None,
        },
        {
            "aliases": ["CVE-2020-0001"],
            "fixed_in": ["0.20.0"],
            "id": "PYSEC-2020-1",
            "withdrawn": "2022-06-28T16:39:06Z",
        },
    ],
}


def test_the_newest_release_is_judged_by_its_advisories_with_aliases_merged() -> None:
    outcome = audit.from_project("ecdsa", "0.19.2", ECDSA)
    assert outcome.not_audited is None
    assert outcome.advisories == (
        audit.Advisory("PYSEC-2026-1325", ("CVE-2024-23342", "GHSA-wj6h-64fc-37mp"), ()),
    )
    lines, failing, unaudited = audit.report([outcome], {})
    assert lines[0] == "audit: 1 locked, 1 audited, 1 findings (0 accepted), 0 not audited"
    assert lines[1].startswith("  FINDING ecdsa 0.19.2: PYSEC-2026-1325 (CVE-2024-23342, GHSA-")
    assert "fixed in none yet" in lines[1]
    assert (failing, unaudited) == (1, 0)


def test_an_equal_version_spelled_differently_is_the_newest_release() -> None:
    project = {"info": {"version": "2.0"}, "vulnerabilities": []}
    assert audit.from_project("click", "2.0.0", project) == audit.Outcome("click", "2.0.0")


def test_an_older_locked_version_is_not_audited_even_when_the_newest_has_no_advisory() -> None:
    project = {"info": {"version": "8.5.1"}, "releases": {"8.3.3": [], "8.5.1": []}}
    project["vulnerabilities"] = []
    outcome = audit.from_project("click", "8.3.3", project)
    assert outcome.not_audited == "locked 8.3.3, newest 8.5.1"
    lines, failing, unaudited = audit.report([outcome], {})
    assert lines == [
        "audit: 1 locked, 0 audited, 0 findings (0 accepted), 1 not audited",
        "  not audited: click: locked 8.3.3, newest 8.5.1",
    ]
    assert (failing, unaudited) == (0, 1)


def test_an_advisory_accepted_by_an_alias_does_not_fail_and_shows_its_reason() -> None:
    outcome = audit.from_project("ecdsa", "0.19.2", ECDSA)
    ignored = audit.ignored_advisories(
        '[tool.tickwire.audit.ignore]\n"CVE-2024-23342" = "no signing with ecdsa here"\n'
    )
    lines, failing, _ = audit.report([outcome], ignored)
    assert lines[0] == "audit: 1 locked, 1 audited, 1 findings (1 accepted), 0 not audited"
    assert lines[1].startswith("  accepted ecdsa 0.19.2: PYSEC-2026-1325")
    assert lines[1].endswith(": no signing with ecdsa here")
    assert failing == 0


def test_an_accepted_advisory_needs_a_reason() -> None:
    with pytest.raises(SystemExit, match="need a reason"):
        audit.ignored_advisories('[tool.tickwire.audit.ignore]\n"PYSEC-2026-1325" = " "\n')


def test_a_package_pypi_does_not_know_is_not_audited() -> None:
    def not_found(url: str) -> bytes:
        raise urllib.error.HTTPError(url, 404, "Not Found", Message(), None)

    outcome = audit.lookup("tickwire-private", "1.0", not_found)
    assert outcome == audit.Outcome("tickwire-private", "1.0", not_audited="PyPI answered 404")


def test_the_lookup_reads_the_project_document_of_the_package() -> None:
    asked = []

    def project_json(url: str) -> bytes:
        asked.append(url)
        return b'{"info": {"version": "0.19.2"}, "vulnerabilities": []}'

    assert audit.lookup("ecdsa", "0.19.2", project_json) == audit.Outcome("ecdsa", "0.19.2")
    assert asked == ["https://pypi.org/pypi/ecdsa/json"]


def test_pip_audit_results_count_and_its_skipped_packages_are_left_to_the_lookup() -> None:
    result = {
        "dependencies": [
            {
                "name": "Jinja2",
                "version": "3.1.4",
                "vulns": [
                    {"id": "GHSA-q2x7-8rv6-6q7h", "fix_versions": ["3.1.5"], "aliases": ["CVE-1"]}
                ],
            },
            {"name": "idna", "version": "3.21", "vulns": []},
            {"name": "aiohttp", "skip_reason": "Dependency not found on PyPI"},
        ]
    }
    locked = audit.locked_packages(
        "# header\njinja2==3.1.4\n    # via x\nidna==3.21\naiohttp==3.14.5 ; os_name == 'nt'\n"
    )
    assert locked == {"jinja2": "3.1.4", "idna": "3.21", "aiohttp": "3.14.5"}
    outcomes = audit.from_pip_audit(result, locked)
    assert outcomes == [
        audit.Outcome(
            "jinja2", "3.1.4", (audit.Advisory("GHSA-q2x7-8rv6-6q7h", ("CVE-1",), ("3.1.5",)),)
        ),
        audit.Outcome("idna", "3.21"),
    ]
    lines, failing, _ = audit.report(outcomes, {})
    assert lines[1] == (
        "  FINDING jinja2 3.1.4: GHSA-q2x7-8rv6-6q7h (CVE-1) fixed in 3.1.5 [pip-audit]"
    )
    assert failing == 1
