"""The reading corpus: real administrative sentences with the spoken form the guide prescribes.

The corpus is a tab-separated file (tests/controller/text/corpus/sentences.tsv): source, kinds,
written text, spoken form. In a spoken form `{a|b}` accepts either reading where announcers differ
(`{giờ |}` accepts the words or nothing). Case is not compared, since a voice does not hear it;
spaces are collapsed. The corpus test and `benchmarks/normaliser.py` both read it through here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

_ALTERNATIVES = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True)
class CorpusSentence:
    """One sourced sentence and how it must be read."""

    line: int
    source: str
    kinds: tuple[str, ...]
    text: str
    spoken: str

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        parts: list[str] = []
        last = 0
        for m in _ALTERNATIVES.finditer(self.spoken):
            parts.append(re.escape(self.spoken[last : m.start()]))
            parts.append("(?:" + "|".join(re.escape(a) for a in m.group(1).split("|")) + ")")
            last = m.end()
        parts.append(re.escape(self.spoken[last:]))
        return re.compile(_canonical("".join(parts)), re.IGNORECASE)

    def accepts(self, spoken: str) -> bool:
        """Whether `spoken` is one of the readings the guide allows for this sentence."""
        return self.pattern.fullmatch(_canonical(spoken)) is not None


def _canonical(text: str) -> str:
    return " ".join(text.split())


def load_corpus(path: Path) -> list[CorpusSentence]:
    """Read the corpus file; raise ValueError naming the first malformed line."""
    sentences = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip() or raw.startswith("#") or raw.startswith("source\t"):
            continue
        fields = raw.split("\t")
        if len(fields) != 4 or not all(f.strip() for f in fields):
            raise ValueError(f"{path.name} line {number}: expected 4 non-empty tab-separated fields")
        source, kinds, text, spoken = fields
        sentences.append(CorpusSentence(number, source, tuple(k.strip() for k in kinds.split(",")), text, spoken))
    return sentences
