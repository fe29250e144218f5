import copy
import json
import subprocess

import pytest

from tickwire_core.schema_compat import check, check_against_git
from tickwire_core.serde import default_schema_dir

BASE = {
    "type": "record",
    "name": "T",
    "fields": [
        {"name": "id", "type": "string"},
        {"name": "n", "type": "int"},
        {"name": "price", "type": ["null", "double"], "default": None},
    ],
}


def changed(mutate) -> dict:
    new = copy.deepcopy(BASE)
    mutate(new)
    return new


def test_unchanged_is_compatible() -> None:
    assert check(BASE, BASE) == []


def test_new_field_with_default_is_compatible() -> None:
    new = changed(lambda s: s["fields"].append({"name": "x", "type": "long", "default": 0}))
    assert check(BASE, new) == []


def test_new_field_without_default_is_not() -> None:
    new = changed(lambda s: s["fields"].append({"name": "x", "type": "long"}))
    assert check(BASE, new) == ["field x added without a default"]


def test_removing_a_field_with_a_default_is_compatible_without_is_not() -> None:
    assert check(BASE, changed(lambda s: s["fields"].pop(2))) == []
    assert check(BASE, changed(lambda s: s["fields"].pop(1))) == [
        "field n removed, and it had no default"
    ]


def test_type_changes() -> None:
    def to(t):
        return changed(lambda s: s["fields"][1].__setitem__("type", t))

    assert any("old readers" in p for p in check(BASE, to("long")))  # widening breaks old readers
    assert any("old data" in p for p in check(BASE, to("string")))
    assert check(BASE, to("int")) == []


def test_rename_of_the_record_is_reported() -> None:
    assert check(BASE, changed(lambda s: s.__setitem__("name", "U"))) == ["record renamed T -> U"]


def test_schemas_are_compatible_with_the_previous_commit() -> None:
    """The CI gate: every schema in the tree reads the previous commit's data and vice versa."""
    head = subprocess.run(
        ["git", "rev-parse", "--verify", "-q", "HEAD~1"],
        cwd=default_schema_dir(),
        capture_output=True,
        text=True,
    )
    revision = "HEAD~1" if head.returncode == 0 else "HEAD"
    assert check_against_git(default_schema_dir(), revision) == []


def test_the_git_check_finds_a_breaking_edit(tmp_path) -> None:
    """The gate can fail: a copy of schemas/ in a scratch repo, committed, then broken."""
    repo = tmp_path / "repo"
    schemas = repo / "schemas"
    schemas.mkdir(parents=True)
    tick = json.loads((default_schema_dir() / "tick.avsc").read_text())
    (schemas / "tick.avsc").write_text(json.dumps(tick))
    git = ["git", "-c", "user.email=t@t", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "add", "."], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "base"], cwd=repo, check=True)
    tick["fields"].append({"name": "required_new", "type": "string"})
    (schemas / "tick.avsc").write_text(json.dumps(tick))
    assert check_against_git(schemas, "HEAD") == [
        "tick.avsc: field required_new added without a default"
    ]


@pytest.mark.parametrize("name", ["tick", "raw_tick", "dead_letter", "anomaly", "signal", "bar"])
def test_each_schema_is_compatible_with_itself(name: str) -> None:
    schema = json.loads((default_schema_dir() / f"{name}.avsc").read_text())
    assert check(schema, schema) == []
