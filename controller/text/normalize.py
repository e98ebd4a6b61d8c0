"""Turn what a commune officer pastes into what the loudspeaker should say.

`normalize` runs small rules in a fixed order; each lives in the module named after its idea:
references (numbers written twice, letters of legal points), contacts (e-mail, web, phones,
hotlines), documents (document numbers, Roman numerals), roads (QL1A, Km 5+200), ambiguous and
abbreviations, datetimes (dates, clock times) and quantities (money, units, the remaining
numbers). Order matters: addresses and phone numbers go first because their dots and digits
would otherwise be read as numbers; document numbers go before dates because "05/2024/TT-BTP"
starts like a month and year; ambiguous abbreviations are resolved while the words around them
are still as written. Ordinary Vietnamese text and punctuation are left alone; runs of spaces
collapse to one, each line is trimmed and blank lines are dropped. `controller/text/READING.md`
says how each form is read and why.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

from controller.text.abbreviations import DEFAULT_ABBREVIATIONS, expand_abbreviations, load_abbreviations
from controller.text.ambiguous import read_ambiguous, unresolved_abbreviations
from controller.text.commune import commune_abbreviations
from controller.text.contacts import read_contacts
from controller.text.datetimes import read_dates, read_times
from controller.text.documents import read_document_numbers, read_roman_numerals
from controller.text.quantities import read_fractions, read_quantities
from controller.text.references import read_references
from controller.text.roads import read_roads

__all__ = ["DEFAULT_ABBREVIATIONS", "ambiguities", "load_abbreviations", "normalize"]

_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u3000]+")
# "TP. Huế", "TX. Hương Trà": the dot belongs to the abbreviation, not to a sentence end.
_ABBREVIATION_DOT = re.compile(r"(?<!\w)(TP|Tp|TX)\.\s*(?=\w)")
_AMPERSAND = re.compile(r"\s*&\s*(?=\s|[^\W\d_])")
_COMPOUND = re.compile(r"(?<![\w&/])[A-ZĐ][\wĐđ]*(?:&[A-ZĐ][\wĐđ]*)+(?![\w&/])")
_BRACKETED_ABBREVIATION = re.compile(r"\s*\((?P<key>[A-ZĐ][\wĐđ&-]*)\)")
_NUMBERED_NAME = re.compile(r"(?<!\w)(?P<name>(?i:đề án))\s+(?P<number>0\d)(?!\w)")


def _tidy(text: str) -> str:
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def _compounds(text: str, table: Mapping[str, str]) -> str:
    """Read "HĐND&UBND" as "Hội đồng nhân dân và Ủy ban nhân dân" when every part is known."""

    def compound(m: re.Match[str]) -> str:
        parts = m.group(0).split("&")
        if m.group(0) in table or not all(p in table for p in parts):
            return m.group(0)
        return " và ".join(table[p] for p in parts)

    return _COMPOUND.sub(compound, text)


def _drop_repeated(text: str, table: Mapping[str, str]) -> str:
    """Drop "(TCMR)" after "tiêm chủng mở rộng": the announcer does not say the words twice."""

    def repeated(m: re.Match[str]) -> str:
        words = table.get(m.group("key"))
        before = m.string[: m.start()].rstrip().lower()
        return "" if words and before.endswith(words.lower()) else m.group(0)

    return _BRACKETED_ABBREVIATION.sub(repeated, text)


def normalize(text: str, *, abbreviations: Mapping[str, str] | None = None) -> str:
    """Return `text` as it should be spoken; `abbreviations` add to or override the defaults.

    Without `abbreviations`, the commune's own table (`LOA_ABBREVIATIONS_DIR`) is used.
    """
    if abbreviations is None:
        abbreviations = commune_abbreviations()
    table = {**DEFAULT_ABBREVIATIONS, **abbreviations}
    text = _tidy(text)
    text = read_references(text)
    text = read_contacts(text)
    text = read_document_numbers(text, table)
    text = _NUMBERED_NAME.sub(lambda m: f"{m.group('name')} không {m.group('number')[1]}", text)
    text = read_roads(text)
    text = _ABBREVIATION_DOT.sub(r"\1 ", text)
    text = read_ambiguous(text, known=abbreviations)
    text = _compounds(text, table)
    text = _drop_repeated(text, table)
    text = expand_abbreviations(text, table)
    text = _AMPERSAND.sub(" và ", text)
    text = read_roman_numerals(text)
    text = read_fractions(text)
    text = read_dates(text)
    text = read_times(text)
    text = read_quantities(text)
    return _tidy(text)


def ambiguities(text: str, *, abbreviations: Mapping[str, str] | None = None) -> list[str]:
    """Abbreviations in `text` whose reading the context does not settle, for the officer to check."""
    if abbreviations is None:
        abbreviations = commune_abbreviations()
    return unresolved_abbreviations(_tidy(text), known=abbreviations)
