"""A real S3-compatible object store for local runs and tests: SeaweedFS's `weed mini` (master,
volume, filer and S3 gateway in one process), built by scripts/install-seaweedfs.sh; no Docker."""

from __future__ import annotations

import logging
import os
import secrets
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from tickwire_core.errors import StackError
from tickwire_core.localstack import _process

logger = logging.getLogger(__name__)

WHAT = "SeaweedFS S3"
REGION = "us-east-1"
_INSTALL_SCRIPT = _process.REPO_ROOT / "scripts" / "install-seaweedfs.sh"
# A cold build compiles SeaweedFS from source (about 5 minutes on 2 cores); a warm one returns at
# once.
_INSTALL_TIMEOUT = 2400.0
# Every listener `weed mini` opens: each gets a free port, so two runs (or a run beside other
# services) never collide on SeaweedFS's fixed defaults (9333, 8080, 8888, ...).
_PORT_FLAGS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "admin.port",
    "admin.port.grpc",
)


def install() -> Path:
    """The `weed` binary, built first if the cache lacks the pinned version."""
    try:
        result = subprocess.run(
            ["bash", str(_INSTALL_SCRIPT)],
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=_INSTALL_TIMEOUT,
            check=False,
            text=True,
        )
    except subprocess.TimeoutExpired:
        raise StackError(
            f"{WHAT}: scripts/install-seaweedfs.sh did not finish within {_INSTALL_TIMEOUT:.0f}s"
        ) from None
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines or not Path(lines[-1]).is_file():
        tail = "\n".join(result.stderr.strip().splitlines()[-20:])
        raise StackError(
            f"{WHAT}: scripts/install-seaweedfs.sh failed with code {result.returncode}:\n{tail}"
        )
    return Path(lines[-1])


class LocalObjectStore:
    """One `weed mini` in `state_dir` (data/, weed.log, weed.pid), serving S3 on a free port with
    its own keys and one bucket created at start."""

    def __init__(
        self, state_dir: Path, *, bucket: str = "tickwire", s3_port: int | None = None
    ) -> None:
        self.state_dir = Path(state_dir).resolve()
        self.bucket = bucket
        self.s3_port = s3_port if s3_port is not None else _process.free_port()
        self.access_key = "tickwire"
        self.secret_key = secrets.token_hex(16)
        self._data_dir = self.state_dir / "data"
        # The data dir is unique per state_dir, so a recorded pid is only ever this store's.
        self._pid_file = _process.PidFile(
            self.state_dir / "weed.pid", marker=f"-dir={self._data_dir}"
        )
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    @property
    def log_path(self) -> Path:
        return self.state_dir / "weed.log"

    @property
    def running_pid(self) -> int | None:
        return self._pid_file.live_pid()

    def aws_environ(self) -> dict[str, str]:
        """The standard AWS variables that point boto3, pyarrow, DuckDB and the AWS CLI here."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
        }

    def start(self, timeout: float = 90.0) -> None:
        """Build if needed, start `weed mini` and wait until its S3 gateway answers."""
        started = time.monotonic()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.stop()  # a store left running by this object or by a crashed earlier run
        if _process.port_open(self.s3_port):
            raise StackError(f"{WHAT} port {self.s3_port} is already in use by another process")
        weed = install()
        self._data_dir.mkdir(parents=True, exist_ok=True)
        argv = [
            str(weed),
            "mini",
            f"-dir={self._data_dir}",
            "-ip=127.0.0.1",
            f"-s3.port={self.s3_port}",
            f"-bucket={self.bucket}",
            "-admin.ui=false",
            *(f"-{flag}={_process.free_port()}" for flag in _PORT_FLAGS),
        ]
        # weed reads the S3 identity it creates from these variables (its own AWS-style keys).
        env = {
            **os.environ,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
        }
        with open(self.log_path, "ab") as log:
            log.write(f"--- starting {WHAT} on {self.endpoint_url}\n".encode())
        self._process = _process.spawn(argv, self.log_path, env=env, cwd=self.state_dir)
        self._pid_file.write(self._process.pid)
        try:
            _process.wait_until(
                self._answers,
                what=f"{WHAT} on port {self.s3_port}",
                log_path=self.log_path,
                timeout=timeout,
                process=self._process,
            )
        except BaseException:
            self.stop()
            raise
        logger.info(
            "%s ready on %s after %.1fs (log %s)",
            WHAT,
            self.endpoint_url,
            time.monotonic() - started,
            self.log_path,
        )

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM (weed flushes and exits), SIGKILL if it takes longer than `timeout`."""
        if self._pid_file.stop(signal.SIGTERM, timeout=timeout):
            logger.info("stopped %s of %s", WHAT, self.state_dir)
        if self._process is not None:
            if self._process.poll() is None:
                _process.terminate(self._process.pid, "weed", timeout=timeout)
            self._process.wait()
            self._process = None

    def _answers(self) -> bool:
        # An anonymous request gets 403 from a ready gateway; the bucket must exist as well, and
        # `-bucket` creates it only once the filer is up, after the gateway starts listening.
        try:
            urllib.request.urlopen(f"{self.endpoint_url}/{self.bucket}", timeout=2)
        except urllib.error.HTTPError as exc:
            return exc.code == 403
        return True
