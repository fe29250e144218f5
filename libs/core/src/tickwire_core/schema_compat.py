"""Backward-compatibility check of Avro schemas against an earlier version (by default the one on
the previous commit): readers with the new schema must read old data, and old readers new data.

Rules: a new field needs a default; a removed field must have had one; a field's type may only
stay or widen the Avro way (int -> long -> float -> double, string <-> bytes, null -> union)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

_PROMOTIONS = {
    "int": {"long", "float", "double"},
    "long": {"float", "double"},
    "float": {"double"},
    "string": {"bytes"},
    "bytes": {"string"},
}


def _branches(avro_type: Any) -> list[Any]:
    return avro_type if isinstance(avro_type, list) else [avro_type]


def _name(avro_type: Any) -> str:
    if isinstance(avro_type, dict):
        return str(avro_type.get("name") or avro_type["type"])
    return str(avro_type)


def _readable(writer: Any, reader: Any) -> bool:
    """Can data of `writer` type be read as `reader` type (Avro schema resolution, simplified to
    the shapes tickwire uses)?"""
    readers = [_name(r) for r in _branches(reader)]
    for branch in _branches(writer):
        name = _name(branch)
        if name not in readers and not (_PROMOTIONS.get(name, set()) & set(readers)):
            return False
        if isinstance(branch, dict) and branch.get("type") == "map":
            target = next(r for r in _branches(reader) if _name(r) == "map")
            if not _readable(branch["values"], target["values"]):
                return False
    return True


def check(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Problems that make `new` incompatible with `old` (empty when compatible)."""
    problems = []
    old_fields = {f["name"]: f for f in old.get("fields", [])}
    new_fields = {f["name"]: f for f in new.get("fields", [])}
    if old.get("name") != new.get("name"):
        problems.append(f"record renamed {old.get('name')} -> {new.get('name')}")
    for name, field in new_fields.items():
        before = old_fields.get(name)
        if before is None:
            if "default" not in field:
                problems.append(f"field {name} added without a default")
            continue
        if not _readable(before["type"], field["type"]):
            problems.append(
                f"field {name} changed type {before['type']} -> {field['type']} "
                "(old data cannot be read)"
            )
        if not _readable(field["type"], before["type"]):
            problems.append(
                f"field {name} changed type {before['type']} -> {field['type']} "
                "(old readers cannot read new data)"
            )
    for name, field in old_fields.items():
        if name not in new_fields and "default" not in field:
            problems.append(f"field {name} removed, and it had no default")
    return problems


def check_against_git(schema_dir: Path, revision: str) -> list[str]:
    """Compare every schemas/*.avsc with its version at `revision`; a new file is fine."""
    problems = []
    repo = subprocess.run(
        ["git", "rev-parse", "--show-toplevel"],
        cwd=schema_dir,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    for path in sorted(schema_dir.glob("*.avsc")):
        relative = path.resolve().relative_to(repo)
        shown = subprocess.run(
            ["git", "show", f"{revision}:{relative}"], cwd=repo, capture_output=True, text=True
        )
        if shown.returncode != 0:
            continue  # not in that revision: a new schema
        problems += [
            f"{path.name}: {p}"
            for p in check(json.loads(shown.stdout), json.loads(path.read_text()))
        ]
    return problems


def main(argv: list[str]) -> int:
    from tickwire_core.serde import default_schema_dir

    revision = argv[0] if argv else "HEAD~1"
    problems = check_against_git(default_schema_dir(), revision)
    for problem in problems:
        print(problem)
    print(
        f"schemas compatible with {revision}"
        if not problems
        else f"{len(problems)} incompatible change(s) against {revision}"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
