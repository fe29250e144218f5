"""Where the lake is written: a local folder or an S3 bucket and prefix, through pyarrow's file
systems; S3 credentials, region and endpoint come from the standard AWS variables and profiles."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from pyarrow import fs  # type: ignore[import-untyped]

from tickwire_jobs.domain.lake_manifest import Manifest


class LakeStore:
    """A lake root: every path below is relative to it, with `/` separators."""

    def __init__(self, filesystem: fs.FileSystem, root: str, *, local: bool) -> None:
        self.filesystem = filesystem
        self.root = root.rstrip("/")
        self.local = local

    @classmethod
    def from_url(cls, url: str) -> LakeStore:
        """`s3://bucket/prefix` or a local path (`file://` or plain)."""
        if url.startswith("s3://"):
            return cls(_s3(), url.removeprefix("s3://"), local=False)
        path = Path(url.removeprefix("file://")).expanduser().resolve()
        path.mkdir(parents=True, exist_ok=True)
        return cls(fs.LocalFileSystem(), str(path), local=True)

    def _full(self, relative: str) -> str:
        return f"{self.root}/{relative}"

    def read_text(self, relative: str) -> str | None:
        try:
            with self.filesystem.open_input_stream(self._full(relative)) as stream:
                return bytes(stream.read()).decode()
        except FileNotFoundError:
            return None

    def write_text(self, relative: str, text: str) -> None:
        """Replace one object whole: written under a temporary name, then moved over the old one
        (a rename locally; a server-side copy on S3, where readers see the old or the new)."""
        temporary = f"{relative}.tmp"
        with self.filesystem.open_output_stream(self._full(temporary)) as stream:
            stream.write(text.encode())
        self.filesystem.move(self._full(temporary), self._full(relative))

    def read_manifest(self, relative: str) -> Manifest | None:
        text = self.read_text(relative)
        return None if text is None else Manifest.from_json(text)

    def write_manifest(self, relative: str, manifest: Manifest) -> None:
        self.write_text(relative, manifest.to_json())

    def put(self, local: Path, relative: str) -> None:
        """Move a finished local spool file into the lake under `relative`."""
        if self.local:
            target = Path(self._full(relative))
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(local, target)
            return
        with (
            open(local, "rb") as source,
            self.filesystem.open_output_stream(self._full(relative)) as stream,
        ):
            shutil.copyfileobj(source, stream, 8 << 20)
        local.unlink()

    def move(self, source: str, target: str) -> None:
        if self.local:
            Path(self._full(target)).parent.mkdir(parents=True, exist_ok=True)
        self.filesystem.move(self._full(source), self._full(target))

    def exists(self, relative: str) -> bool:
        info = self.filesystem.get_file_info(self._full(relative))
        return bool(info.type != fs.FileType.NotFound)

    def delete(self, relative: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.filesystem.delete_file(self._full(relative))
        if self.local:
            # An emptied partition folder would still show up in listings: prune empty parents.
            parent = Path(self._full(relative)).parent
            with contextlib.suppress(OSError):
                while parent != Path(self.root):
                    parent.rmdir()
                    parent = parent.parent

    def delete_dir(self, relative: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.filesystem.delete_dir(self._full(relative))

    def list_dirs(self, relative: str) -> list[str]:
        """Names of the folders directly under `relative` (none when it does not exist)."""
        selector = fs.FileSelector(self._full(relative), allow_not_found=True)
        return [
            info.base_name
            for info in self.filesystem.get_file_info(selector)
            if info.type == fs.FileType.Directory
        ]

    @contextlib.contextmanager
    def spool(self, relative: str) -> Iterator[Path]:
        """A local folder for files being written: inside the lake when it is local (so `put` is
        a rename on the same file system), else in the system's temporary folder."""
        if self.local:
            Path(self._full(relative)).mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=self._full(relative), prefix=".spool-") as path:
                yield Path(path)
        else:
            with tempfile.TemporaryDirectory(prefix="tickwire-lake-") as path:
                yield Path(path)


def _s3() -> fs.S3FileSystem:
    # The AWS SDK reads the keys, session token and profile itself (AWS_ACCESS_KEY_ID,
    # AWS_PROFILE, ~/.aws); the endpoint of an S3-compatible store and the region are passed on
    # explicitly, since not every SDK version honours AWS_ENDPOINT_URL.
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    options: dict[str, object] = {}
    if endpoint:
        scheme, _, rest = endpoint.partition("://")
        options["endpoint_override"] = rest if rest else endpoint
        options["scheme"] = scheme if rest else "https"
        # Path-style addressing: most S3-compatible stores have no per-bucket host names.
        options["force_virtual_addressing"] = False
    if region:
        options["region"] = region
    return fs.S3FileSystem(**options)
