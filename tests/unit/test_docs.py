"""The docs hold together: every page is in the index, and every relative link leads somewhere."""

from __future__ import annotations

import re
from pathlib import Path

from tickwire_core.localstack._process import REPO_ROOT

DOCS = REPO_ROOT / "docs"
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def pages() -> list[Path]:
    return sorted(p for p in DOCS.rglob("*.md") if p != DOCS / "README.md")


def test_every_page_is_in_the_index() -> None:
    index = (DOCS / "README.md").read_text()
    linked = {(DOCS / target).resolve() for target in LINK.findall(index)}
    missing = [str(p.relative_to(DOCS)) for p in pages() if p.resolve() not in linked]
    assert missing == []


def test_every_relative_link_resolves() -> None:
    broken = []
    for page in [REPO_ROOT / "README.md", DOCS / "README.md", *pages()]:
        for target in LINK.findall(page.read_text()):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (page.parent / target).exists():
                broken.append(f"{page.relative_to(REPO_ROOT)} -> {target}")
    assert broken == []
