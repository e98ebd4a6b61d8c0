"""Readings the officer pins for one bulletin, and the spans the normaliser rewrote.

A pinned reading says "read `written` as `spoken`" ("QL1A" → "quốc lộ một A"). `normalize_pinned`
hides each pinned span behind a private-use character before the rules run, so no rule touches it,
and puts the officer's words in its place afterwards: every engine then gets the same text.
Longer spans are pinned first, and a span matches only as whole words: "UBND" is not pinned inside
"54/KH-UBND", where it is part of a document number.

`rewrites` lines a source up with its spoken text word by word and returns the spans that changed,
so the editor can show each rewritten span beside its source.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence

from controller.text.normalize import normalize

_MARKERS = 0xF0000  # Supplementary Private Use Area-A: never typed, never \w, never a digit
_EDGE_PUNCTUATION = ".,;:!?()«»\"'"


def span_pattern(written: str) -> re.Pattern[str]:
    """Where `written` stands as whole words, not inside a code like "54/KH-UBND"."""
    return re.compile(rf"(?<![\w/&.-]){re.escape(written)}(?![\w/&-]|\.\w)")


def normalize_pinned(
    text: str, pins: Sequence[tuple[str, str]], *, abbreviations: Mapping[str, str] | None = None
) -> str:
    """`normalize(text)` with each pinned span read as the officer wrote it."""
    spoken_for: dict[str, str] = {}
    for i, (written, spoken) in enumerate(sorted(pins, key=lambda pin: -len(pin[0]))):
        marker = chr(_MARKERS + i)
        text, count = span_pattern(written).subn(marker, text)
        if count:
            spoken_for[marker] = spoken
    text = normalize(text, abbreviations=abbreviations)
    for marker, spoken in spoken_for.items():
        text = text.replace(marker, spoken)
    return text


def _key(word: str) -> str:
    return word.strip(_EDGE_PUNCTUATION).lower()


def _clauses(words: list[str]) -> list[list[str]]:
    """Split at words that end a clause ("14h.", "27.9,"), keeping the punctuation with its word."""
    groups: list[list[str]] = [[]]
    for word in words:
        groups[-1].append(word)
        if word[-1] in ".,;:!?" and not word.endswith("..."):
            groups.append([])
    return [g for g in groups if g]


def rewrites(source: str, spoken: str) -> list[tuple[str, str]]:
    """The spans of `source` the spoken text says differently, each once, in order of appearance."""
    written_words, spoken_words = source.split(), spoken.split()
    matcher = difflib.SequenceMatcher(
        a=[_key(w) for w in written_words], b=[_key(w) for w in spoken_words], autojunk=False
    )
    pairs: list[tuple[str, str]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag not in ("replace", "delete"):
            continue
        written_groups, said_groups = _clauses(written_words[i1:i2]), _clauses(spoken_words[j1:j2])
        if len(written_groups) != len(said_groups):  # two neighbouring spans changed across a clause end
            written_groups, said_groups = [written_words[i1:i2]], [spoken_words[j1:j2]]
        for written_group, said_group in zip(written_groups, said_groups, strict=True):
            written = " ".join(written_group).strip(_EDGE_PUNCTUATION)
            said = " ".join(said_group).strip(_EDGE_PUNCTUATION)
            if written and (written, said) not in pairs:
                pairs.append((written, said))
    return pairs
