"""The controller's files are private: the data directory 0700; the database, keys and secrets 0600.

The controller makes them so when it creates them, and refuses to start when an existing one is open to
other local users (the SQLite database holds the password hashes; the secrets sign cookies and commands).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sqlalchemy.engine import make_url

from controller.config import Settings
from controller.errors import ControllerError

PRIVATE_FILES = ("session_secret", "mqtt_secret", "enroll_used_nonces")


class FilesTooOpen(ControllerError, PermissionError):
    """A data file or directory is readable by other users: the controller will not start."""

    status_code = 500


def sqlite_path(database_url: str) -> Path | None:
    """The file of a SQLite URL (None for another database or an in-memory one)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def private_paths(settings: Settings) -> list[Path]:
    """The files that must be 0600, whether or not they exist yet."""
    paths = [settings.data_dir / name for name in PRIVATE_FILES]
    paths.append(settings.resolved_signing_key_path)
    db = sqlite_path(settings.resolved_database_url)
    if db is not None:
        paths.append(db)
    return paths


def _refuse(path: Path, mode: int, wanted: str) -> FilesTooOpen:
    return FilesTooOpen(
        f"{path} is open to other users (mode {stat.S_IMODE(mode):04o}); run: chmod {wanted} {path}",
        f"Tệp hoặc thư mục dữ liệu {path} đang để người dùng khác đọc được. "
        f"Hãy chạy lệnh: chmod {wanted} {path} rồi khởi động lại.",
    )


def secure_data_dir(settings: Settings) -> None:
    """Create the data directory (0700) and an empty SQLite file (0600) if missing; refuse open modes."""
    data_dir = settings.data_dir
    if not data_dir.exists():
        data_dir.mkdir(parents=True, mode=0o700)
        data_dir.chmod(0o700)  # mkdir's mode is filtered by the umask
    mode = data_dir.stat().st_mode
    if mode & 0o077:
        raise _refuse(data_dir, mode, "700")
    db = sqlite_path(settings.resolved_database_url)
    if db is not None and not db.exists():
        db.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(db, os.O_WRONLY | os.O_CREAT, 0o600))
    check_private_files(settings)


def check_private_files(settings: Settings) -> None:
    """Refuse to go on if any existing private file is readable or writable by group or others."""
    for path in private_paths(settings):
        if path.exists():
            mode = path.stat().st_mode
            if mode & 0o077:
                raise _refuse(path, mode, "600")
