"""The service images, the jobs image and the test runner as built: a fixed non-root user, a
read-only root filesystem the service (or `tickwire`) starts on, and no CA, proxy setting or build
secret in any layer."""

from __future__ import annotations

import json
import re
import subprocess
import tarfile
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.images.containers import JOBS, SERVICES, Images, wait_for
from tickwire_core.localstack._process import free_port
from tickwire_testing.plugin import Stack, new_database, new_topics

pytestmark = [pytest.mark.images, pytest.mark.timeout(3600)]

HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")


@pytest.mark.parametrize("service", [*SERVICES, JOBS])
def test_runs_as_its_fixed_non_root_user(images: Images, service: str) -> None:
    tag = images.tags[service]
    user = images.run("image", "inspect", "--format", "{{.Config.User}}", tag).stdout.strip()
    assert user == "10001:10001"
    ids = images.run(
        "run", "--rm", "--no-healthcheck", "--read-only", tag, "sh", "-c", "id -u; id -g"
    )
    assert ids.stdout.split() == ["10001", "10001"]


def test_the_jobs_image_runs_tickwire_with_the_batch_jobs_and_the_schedules_day(
    images: Images,
) -> None:
    """What the nightly CronJobs run there: `tickwire` by default, tickwire_jobs importable, and
    the shell's `date -u -d yesterday +%F` (the day they pass) on a read-only root."""
    tag = images.tags[JOBS]
    script = (
        "tickwire --version; python -c 'import tickwire_jobs, pyarrow'; date -u -d yesterday +%F"
    )
    done = images.run("run", "--rm", "--no-healthcheck", "--read-only", tag, "sh", "-c", script)
    version, day = done.stdout.split("\n")[:2]
    assert version.startswith("tickwire ")
    assert day in {
        (datetime.now(UTC) - timedelta(days=n)).date().isoformat() for n in (0, 1, 2)
    }  # the container's clock, the test's, and midnight in between
    default = images.run("image", "inspect", "--format", "{{json .Config.Env}}", tag)
    assert "SERVICE_MODULE=tickwire_cli" in default.stdout


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@pytest.mark.parametrize("service", SERVICES)
def test_starts_on_a_read_only_root_and_reports_live(
    images: Images, stack: Stack, service: str
) -> None:
    port = free_port()
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": stack.kafka_bootstrap_servers,
        "TICKWIRE_TOPIC_PREFIX": new_topics(stack),
        "TICKWIRE_HEALTH_PORT": str(port),
        "TICKWIRE_API_PORT": str(port),
        "TICKWIRE_INSTANCE_ID": f"image-{service}",
        "TICKWIRE_CONNECTOR": "simulator",
        "TICKWIRE_ALLOW_ANONYMOUS": "true",
        # faust's working directory: the compose file mounts a volume here.
        "TICKWIRE_DATA_DIR": "/tmp/signals",
    }
    with new_database(stack) as database_url:
        env["DATABASE_URL"] = database_url
        options = ["--read-only", "--network=host", "--cap-drop=ALL"]
        options += ["--security-opt=no-new-privileges"]
        options += [f"--env={name}={value}" for name, value in env.items()]
        with images.container(images.tags[service], *options):
            took = wait_for(
                lambda: healthy(f"http://127.0.0.1:{port}/livez"), f"{service}'s /livez", 120
            )
            print(f"{service}: /livez answered after {took:.1f} s")


PEM = re.compile(r"-----BEGIN CERTIFICATE-----\s*(.*?)\s*-----END CERTIFICATE-----", re.DOTALL)


def proxy_certificates(images: Images) -> list[bytes]:
    """The PEM body of each certificate the host trusts beyond the public ones (Debian's
    ca-certificates, in the image and on the host): the TLS-intercepting proxy's CA."""
    public = images.run(
        "run",
        "--rm",
        "--no-healthcheck",
        images.tags["sink"],
        "cat",
        "/etc/ssl/certs/ca-certificates.crt",
    ).stdout
    known = set(PEM.findall(public))
    for bundled in Path("/usr/share/ca-certificates").rglob("*.crt"):
        known.update(PEM.findall(bundled.read_text()))
    # Whole bodies: a renewed CA keeps its subject, so the first lines are not unique.
    return [body.encode() for body in PEM.findall(HOST_CA.read_text()) if body not in known]


def layer_files(images: Images, tag: str) -> list[tuple[str, bytes]]:
    """(path, content) of everything but directories in every layer of `tag`, as `save` writes
    them (links and devices with empty content)."""
    files = []
    with subprocess.Popen(
        [images.runtime, "save", tag], stdout=subprocess.PIPE, env=images.env
    ) as save:
        assert save.stdout is not None
        with tarfile.open(fileobj=save.stdout, mode="r|") as archive:
            for member in archive:
                if not member.name.endswith(".tar") or not member.isfile():
                    continue
                layer = archive.extractfile(member)
                assert layer is not None
                with tarfile.open(fileobj=layer, mode="r|") as entries:
                    for entry in entries:
                        # Directories are left out: a RUN with a secret mount leaves its empty
                        # mount point, run/secrets/, in the layer (and nothing in it).
                        if not entry.isdir():
                            content = entries.extractfile(entry) if entry.isfile() else None
                            files.append((entry.name, content.read() if content else b""))
    assert save.returncode == 0
    return files


@pytest.mark.parametrize("name", [*SERVICES, JOBS, "tests"])
def test_no_ca_proxy_or_build_secret_in_any_layer(images: Images, name: str) -> None:
    tag = images.tags[name]
    config = json.loads(images.run("image", "inspect", tag).stdout)[0]["Config"]
    for variable in config.get("Env") or []:
        key, _, value = variable.partition("=")
        assert not {"PROXY", "CERT", "CA_BUNDLE"} & set(key.upper().split("_")), variable
        assert "/run/secrets" not in value, variable
    history = images.run("image", "history", "--no-trunc", "--format", "{{.CreatedBy}}", tag)
    assert str(HOST_CA) not in history.stdout
    assert "proxy=" not in history.stdout.lower()

    marks = proxy_certificates(images)
    host_bundle = HOST_CA.read_bytes()
    files = layer_files(images, tag)
    assert len(files) > 1000  # the layers were read, not an empty archive
    for path, content in files:
        assert not path.lstrip("./").startswith("run/secrets/"), path
        assert "build-ca" not in path, path
        assert content != host_bundle, path
        found = [mark for mark in marks if mark in content]
        assert not found, f"{path} holds the host's own CA"


@pytest.mark.parametrize("name", [*SERVICES, JOBS, "tests", "kafka", "timescaledb"])
def test_no_downloaded_package_is_left_in_the_image(images: Images, name: str) -> None:
    # apt keeps every .deb it installed unless told otherwise (the public Debian images are set
    # up to drop them; a base made from the archive is not): 127 to 283 MB per image here.
    found = images.run(
        "run", "--rm", "--no-healthcheck", "--user", "0", "--entrypoint", "find",
        images.tags[name], "/var/cache/apt/archives", "-name", "*.deb",
    )  # fmt: skip
    assert found.stdout.split() == []
