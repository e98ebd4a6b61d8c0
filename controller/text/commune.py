"""The commune's own abbreviations, read from the `*.txt` files of `LOA_ABBREVIATIONS_DIR`.

Each file holds `KEY = expansion` lines (see `load_abbreviations`); files are read in name order
and a later file overrides an earlier one, so a commune can keep, say, `xa.txt` and `thon.txt`.
The controller loads the directory when it starts (a bad line stops the start with the file and
line named) and `normalize` uses the table for every bulletin, every engine and the CLI check.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import MappingProxyType

from controller.errors import InvalidInput
from controller.text.abbreviations import load_abbreviations

_EMPTY: Mapping[str, str] = MappingProxyType({})
_current: list[Mapping[str, str]] = [_EMPTY]


def load_abbreviations_dir(directory: Path) -> dict[str, str]:
    """Merge the `*.txt` abbreviation files of `directory` in name order."""
    if not directory.is_dir():
        raise InvalidInput(
            f"abbreviation directory {directory} does not exist",
            f"Không tìm thấy thư mục chữ viết tắt {directory}.",
        )
    table: dict[str, str] = {}
    for path in sorted(directory.glob("*.txt")):
        table.update(load_abbreviations(path))
    return table


def commune_abbreviations() -> Mapping[str, str]:
    """The table the running controller loaded, empty when it has none."""
    return _current[-1]


@contextmanager
def using_commune_abbreviations(table: Mapping[str, str]) -> Iterator[None]:
    """Use `table` as the commune's abbreviations until the block ends (the controller's lifetime)."""
    _current.append(MappingProxyType(dict(table)))
    try:
        yield
    finally:
        _current.pop()
