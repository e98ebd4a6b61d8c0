"""Content-addressed media storage: `{root}/{sha256}.mp3`, flat, written atomically, never changed."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from controller.errors import InvalidInput

_SHA256 = re.compile(r"[0-9a-f]{64}")
_SUFFIX = re.compile(r"\.[a-z0-9]{1,8}")
TEMP_PREFIX = ".incoming-"  # hidden, and never a valid `{sha256}{suffix}` name


@dataclass(frozen=True)
class StoredMedia:
    """A file in the store: its content hash, size and where it lives."""

    sha256: str
    size_bytes: int
    path: Path


class MediaStore:
    """Files named by the SHA-256 of their bytes. A file is visible whole or not at all.

    Names are validated before they touch the file system, so a request path like `/media/{sha256}.mp3`
    can be passed straight in without risk of traversal.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def path_for(self, sha256: str, suffix: str = ".mp3") -> Path:
        """Where the file with this hash lives. Raises `InvalidInput` unless `sha256` is 64 lowercase hex."""
        if not _SHA256.fullmatch(sha256):
            raise InvalidInput(f"not a sha256: {sha256!r}", "Mã tệp âm thanh không hợp lệ.")
        if not _SUFFIX.fullmatch(suffix):
            raise InvalidInput(f"not a media suffix: {suffix!r}", "Đuôi tệp âm thanh không hợp lệ.")
        return self.root / f"{sha256}{suffix}"

    def exists(self, sha256: str, suffix: str = ".mp3") -> bool:
        return self.path_for(sha256, suffix).is_file()

    def open(self, sha256: str, suffix: str = ".mp3") -> BinaryIO:
        """Open the file for reading. Raises `FileNotFoundError` if it is not stored."""
        return self.path_for(sha256, suffix).open("rb")

    def read(self, sha256: str, suffix: str = ".mp3") -> bytes:
        return self.path_for(sha256, suffix).read_bytes()

    def put(self, data: bytes, suffix: str = ".mp3") -> StoredMedia:
        """Store `data` under its hash. Storing the same bytes again writes nothing."""
        sha256 = hashlib.sha256(data).hexdigest()
        path = self.path_for(sha256, suffix)
        try:
            complete = path.stat().st_size == len(data)
        except FileNotFoundError:
            complete = False
        if not complete:  # absent, or damaged outside the store: (re)write whole
            self._write_atomically(path, data)
        return StoredMedia(sha256=sha256, size_bytes=len(data), path=path)

    def _write_atomically(self, path: Path, data: bytes) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=TEMP_PREFIX, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(self.root)


def _fsync_dir(directory: Path) -> None:
    """Make a rename durable across power loss (commune offices lose power)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
