"""Every `tickwire` command the README and the docs show exists, with the options they give it, so
a task answered there cannot drift from the command a person types."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer

from tickwire_cli.app import app
from tickwire_core.localstack._process import REPO_ROOT

BLOCK = re.compile(r"```sh\n(.*?)```", re.S)
PAGES = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").rglob("*.md"))]


def shown_commands(page: Path) -> list[list[str]]:
    """The words after `tickwire` of every command line in the page's shell blocks."""
    commands = []
    for block in BLOCK.findall(page.read_text()):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split("  #")[0].strip()
            if "tickwire" not in line.split():
                continue
            words = shlex.split(line, comments=True)
            if "|" in words:
                words = words[: words.index("|")]
            # `tickwire ...` or `... uv run tickwire ...`; not a word such as a Helm release name
            if "tickwire" in words and words.index("tickwire") in (0, _after_run(words)):
                commands.append(words[words.index("tickwire") + 1 :])
    return commands


def _after_run(words: list[str]) -> int:
    return words.index("run") + 1 if "run" in words else -1


def resolve(words: list[str]) -> tuple[Any, list[str]]:
    """The command the words name (typer's own click objects: groups have `commands`), and the
    words left for it."""
    command: Any = typer.main.get_command(app)
    rest = list(words)
    while hasattr(command, "commands") and rest and not rest[0].startswith("-"):
        sub = command.commands.get(rest[0])
        assert sub is not None, f"no command `{rest[0]}` in `tickwire {' '.join(words)}`"
        command, rest = sub, rest[1:]
    return command, rest


CASES = [(page, words) for page in PAGES for words in shown_commands(page)]


def test_the_readme_shows_the_commands() -> None:
    shown = {" ".join(w[:1]) for w in shown_commands(REPO_ROOT / "README.md")}
    assert {"run", "status", "tail", "record", "replay", "deadletters"} <= shown


@pytest.mark.parametrize(
    ("page", "words"), CASES, ids=[f"{p.name}:{' '.join(w)}" for p, w in CASES]
)
def test_each_shown_command_exists_with_its_options(page: Path, words: list[str]) -> None:
    command, rest = resolve(words)
    known = {opt for param in command.params for opt in param.opts + param.secondary_opts}
    root = typer.main.get_command(app)
    known |= {opt for param in root.params for opt in param.opts}
    for word in rest:
        if word.startswith("--"):
            assert word.split("=")[0] in known, f"{page.name}: `{word}` is no option of {words}"
