"""Vietnamese text normalisation for TTS: dates, numbers, documents, abbreviations, phones, addresses."""

from controller.text.normalize import DEFAULT_ABBREVIATIONS, load_abbreviations, normalize
from controller.text.numbers import read_digits, read_number

__all__ = ["DEFAULT_ABBREVIATIONS", "load_abbreviations", "normalize", "read_digits", "read_number"]
