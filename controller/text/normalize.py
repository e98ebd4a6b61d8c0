"""Turn what a commune officer pastes into what the loudspeaker should say.

`normalize` runs small rules in a fixed order; each lives in the module named after its idea:
contacts (e-mail, web, phones), documents (document numbers, Roman numerals), abbreviations,
datetimes (dates, clock times) and quantities (money, units, the remaining numbers). Order
matters: addresses and phone numbers go first because their dots and digits would otherwise
be read as numbers; document numbers go before dates because "05/2024/TT-BTP" starts like a
month and year. Ordinary Vietnamese text and punctuation are left alone; runs of spaces collapse
to one, each line is trimmed and blank lines are dropped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

from controller.text.abbreviations import DEFAULT_ABBREVIATIONS, expand_abbreviations, load_abbreviations
from controller.text.contacts import read_contacts
from controller.text.datetimes import read_dates, read_times
from controller.text.documents import read_document_numbers, read_roman_numerals
from controller.text.quantities import read_fractions, read_quantities

__all__ = ["DEFAULT_ABBREVIATIONS", "load_abbreviations", "normalize"]

_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u3000]+")
# "TP. Huế", "TX. Hương Trà": the dot belongs to the abbreviation, not to a sentence end.
_ABBREVIATION_DOT = re.compile(r"(?<!\w)(TP|Tp|TX)\.\s*(?=\w)")


def _tidy(text: str) -> str:
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def normalize(text: str, *, abbreviations: Mapping[str, str] | None = None) -> str:
    """Return `text` as it should be spoken; `abbreviations` add to or override the defaults."""
    table = {**DEFAULT_ABBREVIATIONS, **(abbreviations or {})}
    text = _tidy(text)
    text = read_contacts(text)
    text = read_document_numbers(text, table)
    text = _ABBREVIATION_DOT.sub(r"\1 ", text)
    text = expand_abbreviations(text, table)
    text = read_roman_numerals(text)
    text = read_fractions(text)
    text = read_dates(text)
    text = read_times(text)
    text = read_quantities(text)
    return _tidy(text)
