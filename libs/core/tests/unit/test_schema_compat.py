import copy
import json
import subprocess

import pytest

from tickwire_core.schema_compat import check, check_against_git
from tickwire_core.serde import AvroSerde, default_schema_dir, fingerprint

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


def test_every_schema_version_ever_committed_is_still_readable() -> None:
    """A schema change must keep the old version in schemas/history/<name>/, or records still on
    a topic from before the change would be dead-lettered as undecodable after an upgrade."""
    schema_dir = default_schema_dir()
    serde = AvroSerde()
    log = subprocess.run(
        ["git", "log", "--format=%H", "--", "."],
        cwd=schema_dir,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    lost = []
    for commit in log:
        listing = subprocess.run(
            ["git", "ls-tree", "--name-only", f"{commit}:schemas"],
            cwd=schema_dir,
            capture_output=True,
            text=True,
            check=True,
        )
        for name in listing.stdout.split():
            if not name.endswith(".avsc"):
                continue
            text = subprocess.run(
                ["git", "show", f"{commit}:schemas/{name}"],
                cwd=schema_dir,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            if not serde.can_read(fingerprint(json.loads(text))):
                lost.append(f"{name} of {commit[:10]}")
    assert lost == []


def test_a_version_kept_in_history_decodes_into_the_current_schema(tmp_path) -> None:
    """The mechanism itself: a record written with an older version reads into the new one."""
    old = {
        "type": "record",
        "name": "T",
        "namespace": "x",
        "fields": [{"name": "a", "type": "long"}],
    }
    new = {**old, "fields": [*old["fields"], {"name": "b", "type": "string", "default": "-"}]}
    (tmp_path / "t.avsc").write_text(json.dumps(new))
    writer_dir = tmp_path / "writer"
    writer_dir.mkdir()
    (writer_dir / "t.avsc").write_text(json.dumps(old))
    data = AvroSerde(writer_dir).encode("t", {"a": 7})
    assert not AvroSerde(tmp_path).can_read(data[2:10])
    (tmp_path / "history" / "t").mkdir(parents=True)
    (tmp_path / "history" / "t" / "1.avsc").write_text(json.dumps(old))
    assert AvroSerde(tmp_path).decode("t", data) == {"a": 7, "b": "-"}
