"""Upload and artifact storage: a local directory by default, S3-compatible storage by URL.

    DOCAGENT_STORAGE_URL unset            -> var/storage/
    DOCAGENT_STORAGE_URL=file:///srv/docs -> that directory
    DOCAGENT_STORAGE_URL=s3://bucket/prefix (AWS_ENDPOINT_URL / AWS_* credentials as usual)

Writes are atomic: a reader never sees half an object.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, Protocol
from urllib.parse import urlparse

from docagent.errors import StorageError
from docagent.settings import Settings, get_settings


class Storage(Protocol):
    def put(self, key: str, src: Path) -> int: ...
    def open(self, key: str) -> BinaryIO: ...
    @contextmanager
    def local_path(self, key: str) -> Iterator[Path]: ...
    def delete(self, key: str) -> None: ...
    def exists(self, key: str) -> bool: ...
    def check(self) -> None: ...


def _safe(key: str) -> str:
    parts = [p for p in key.split("/") if p not in ("", ".", "..")]
    if not parts:
        raise StorageError(f"invalid storage key {key!r}")
    return "/".join(parts)


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / _safe(key)

    def put(self, key: str, src: Path) -> int:
        dst = self._path(key)
        dst.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dst.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as out, src.open("rb") as inp:
                shutil.copyfileobj(inp, out, 1 << 20)
            os.replace(tmp, dst)
        except OSError as e:
            Path(tmp).unlink(missing_ok=True)
            raise StorageError(f"could not store {key}: {e.strerror or e}") from None
        return dst.stat().st_size

    def open(self, key: str) -> BinaryIO:
        return self._path(key).open("rb")

    @contextmanager
    def local_path(self, key: str) -> Iterator[Path]:
        yield self._path(key)

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def check(self) -> None:
        probe = self.root / ".ready"
        try:
            probe.write_bytes(b"ok")
            probe.unlink()
        except OSError as e:
            raise StorageError(f"storage directory {self.root} is not writable: {e.strerror}") from None


class S3Storage:
    def __init__(self, bucket: str, prefix: str, client: Any = None) -> None:
        import boto3  # optional dependency: pip install 'docagent[s3]'

        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.s3: Any = client or boto3.client("s3", endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None)

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{_safe(key)}" if self.prefix else _safe(key)

    def put(self, key: str, src: Path) -> int:
        self.s3.upload_file(str(src), self.bucket, self._key(key))
        return src.stat().st_size

    def open(self, key: str) -> BinaryIO:
        obj = self.s3.get_object(Bucket=self.bucket, Key=self._key(key))
        return obj["Body"]

    @contextmanager
    def local_path(self, key: str) -> Iterator[Path]:
        with tempfile.TemporaryDirectory(prefix="docagent-s3-") as d:
            path = Path(d) / Path(_safe(key)).name
            self.s3.download_file(self.bucket, self._key(key), str(path))
            yield path

    def delete(self, key: str) -> None:
        self.s3.delete_object(Bucket=self.bucket, Key=self._key(key))

    def exists(self, key: str) -> bool:
        try:
            self.s3.head_object(Bucket=self.bucket, Key=self._key(key))
            return True
        except Exception:
            return False

    def check(self) -> None:
        try:
            self.s3.head_bucket(Bucket=self.bucket)
        except Exception as e:
            raise StorageError(f"bucket {self.bucket!r} is not reachable: {e}") from None


def get_storage(settings: Settings | None = None) -> Storage:
    s = settings or get_settings()
    url = s.storage_url
    if not url:
        return LocalStorage(Path(s.var_dir) / "storage")
    parsed = urlparse(url)
    if parsed.scheme == "s3":
        return S3Storage(parsed.netloc, parsed.path)
    if parsed.scheme in ("file", ""):
        return LocalStorage(Path(parsed.path if parsed.scheme else url))
    raise StorageError(f"unsupported storage URL {url!r}: use a directory, file://, or s3://bucket/prefix")
