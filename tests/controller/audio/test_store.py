"""The content-addressed media store: named by hash, written atomically, safe against path traversal."""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from pathlib import Path

import pytest

from controller.audio import MediaStore
from controller.errors import InvalidInput


def names(store: MediaStore) -> list[str]:
    return sorted(p.name for p in store.root.iterdir())


def test_put_names_the_file_by_the_sha256_of_its_bytes(store: MediaStore) -> None:
    stored = store.put(b"ID3 some mp3 bytes")
    sha = hashlib.sha256(b"ID3 some mp3 bytes").hexdigest()
    assert (stored.sha256, stored.size_bytes) == (sha, 18)
    assert stored.path == store.root / f"{sha}.mp3" == store.path_for(sha)
    assert names(store) == [f"{sha}.mp3"]  # flat, and no temporary file left behind
    assert store.exists(sha)
    assert store.read(sha) == b"ID3 some mp3 bytes"
    with store.open(sha) as fh:
        assert fh.read() == b"ID3 some mp3 bytes"


def test_putting_the_same_bytes_again_writes_nothing(store: MediaStore) -> None:
    first = store.put(b"same bytes")
    before = first.path.stat()
    second = store.put(b"same bytes")
    assert second == first
    after = first.path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert names(store) == [first.path.name]


def test_different_bytes_are_different_files(store: MediaStore) -> None:
    a, b = store.put(b"a"), store.put(b"b")
    assert a.sha256 != b.sha256
    assert names(store) == sorted([a.path.name, b.path.name])


def test_a_file_damaged_outside_the_store_is_rewritten_whole(store: MediaStore) -> None:
    stored = store.put(b"0123456789")
    stored.path.write_bytes(b"01234")  # e.g. truncated by a full disk, or by a hand copy
    assert store.put(b"0123456789") == stored
    assert store.read(stored.sha256) == b"0123456789"


def test_a_failed_write_leaves_neither_the_file_nor_a_temporary(
    store: MediaStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_gone(src: object, dst: object) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "replace", disk_gone)
    with pytest.raises(OSError, match="Input/output error"):
        store.put(b"never visible")
    monkeypatch.undo()
    assert names(store) == []
    assert not store.exists(hashlib.sha256(b"never visible").hexdigest())


def test_a_reader_never_sees_a_partial_file(store: MediaStore) -> None:
    data = os.urandom(8 * 1024 * 1024)
    path = store.path_for(hashlib.sha256(data).hexdigest())
    seen_sizes: set[int] = set()
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            with contextlib.suppress(FileNotFoundError):
                seen_sizes.add(path.stat().st_size)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        store.put(data)
    finally:
        done.set()
        watcher.join()
    assert seen_sizes <= {len(data)}
    assert path.stat().st_size == len(data)


def test_concurrent_puts_of_the_same_bytes_agree(store: MediaStore) -> None:
    data = os.urandom(256 * 1024)
    results = []
    threads = [threading.Thread(target=lambda: results.append(store.put(data))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 1
    assert names(store) == [results[0].path.name]
    assert store.read(results[0].sha256) == data


@pytest.mark.parametrize(
    "bad",
    [
        "../../etc/passwd",
        "../" + "0" * 61,
        "0" * 63 + "/",
        "0" * 64 + "\n",
        "A" * 64,  # upper case: a second name for the same file
        "0" * 65,
        "abc",
        "",
    ],
)
def test_anything_but_64_lowercase_hex_is_refused(store: MediaStore, bad: str) -> None:
    with pytest.raises(InvalidInput) as info:
        store.path_for(bad)
    assert info.value.message_vi == "Mã tệp âm thanh không hợp lệ."
    with pytest.raises(InvalidInput):
        store.exists(bad)
    with pytest.raises(InvalidInput):
        store.read(bad)


@pytest.mark.parametrize("bad", ["mp3", "/../x.mp3", ".mp3/..", "", ".MP3"])
def test_odd_suffixes_are_refused(store: MediaStore, bad: str) -> None:
    with pytest.raises(InvalidInput):
        store.path_for("0" * 64, bad)


def test_other_suffixes_are_stored_side_by_side(store: MediaStore) -> None:
    wav = store.put(b"RIFF", suffix=".wav")
    assert wav.path.name == f"{wav.sha256}.wav"
    assert store.exists(wav.sha256, ".wav") and not store.exists(wav.sha256)


def test_missing_media_is_reported_as_missing(store: MediaStore) -> None:
    sha = "0" * 64
    assert not store.exists(sha)
    with pytest.raises(FileNotFoundError):
        store.read(sha)


def test_the_root_is_created(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "a" / "b")
    assert store.root.is_dir()
