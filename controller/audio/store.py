"""Content-addressed media storage: `{root}/{sha256}.mp3`, written atomically, never changed."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from controller.errors import InvalidInput

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class StoredMedia:
    sha256: str
    size_bytes: int
    path: Path


class MediaStore:
    """Files named by their SHA-256. A file is visible whole or not at all."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def path_for(self, sha256: str) -> Path:
        if not _SHA256.fullmatch(sha256):
            raise InvalidInput(f"not a sha256: {sha256!r}", "Mã tệp âm thanh không hợp lệ.")
        return self.root / f"{sha256}.mp3"

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def read(self, sha256: str) -> bytes:
        return self.path_for(sha256).read_bytes()

    def put(self, data: bytes) -> StoredMedia:
        sha = hashlib.sha256(data).hexdigest()
        path = self.path_for(sha)
        if not path.exists():
            fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".incoming-", suffix=".tmp")
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
        return StoredMedia(sha256=sha, size_bytes=len(data), path=path)
