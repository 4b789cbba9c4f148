"""Text helpers shared by the writers: one-line text, safe cue text, script rules.

Chinese, Japanese, Thai and a few other scripts are written without spaces between
words; a line may break between any two of their characters, except before closing
punctuation or a combining mark and after opening punctuation. Hangul uses spaces,
so it is handled like Latin text.
"""

from __future__ import annotations

import re
import unicodedata

_UNSPACED_RANGES = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x3000, 0x303F),  # CJK symbols and punctuation
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3100, 0x312F),  # Bopomofo
    (0x31F0, 0x31FF),  # Katakana phonetic extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF00, 0xFFEF),  # halfwidth and fullwidth forms
    (0x20000, 0x3FFFF),  # CJK extensions B and later
)
_UNSPACED = "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in _UNSPACED_RANGES)
# A piece is one character of an unspaced script, or a run of anything else.
_PIECE = re.compile(rf"\s*(?:[{_UNSPACED}]|[^\s{_UNSPACED}]+)")

# Characters that must not start a line (kinsoku shori) or end one.
_NO_LINE_START = set(
    ",.!?;:%)]}…‥、。，．！？；：）」』】〕〉》〙〛｝］’”・ーゝゞヽヾ々"
    "ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶ"
)
_NO_LINE_END = set("([{“‘（「『【〔〈《〘〚｛［") | {chr(c) for c in range(0x0E40, 0x0E45)}
# Punctuation after which a line or cue break reads naturally.
_CLAUSE_END = set(".,!?;:…。，！？；：、،؛؟۔।॥")
_CLOSERS = "\"')]}’”」』）】》"


def one_line(text: str) -> str:
    """Collapse every run of whitespace (tabs, newlines) into one space and strip."""
    return " ".join(text.split())


def file_label(source: str) -> str:
    """An input's name for the start of a txt line or tsv row: its path with tabs, newlines,
    other unprintable characters and undecodable bytes escaped, so it stays one field."""
    text = source.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def no_arrow(text: str) -> str:
    """Replace ``-->`` (the cue timing arrow) with ``->``, repeatedly, as in ``--->``."""
    while "-->" in text:
        text = text.replace("-->", "->")
    return text


def is_unspaced(char: str) -> bool:
    """Whether ``char`` belongs to a script written without spaces between words."""
    code = ord(char)
    return any(lo <= code <= hi for lo, hi in _UNSPACED_RANGES)


def can_break(before: str, after: str) -> bool:
    """Whether a line may break between piece ``before`` and piece ``after``."""
    if not before or not after:
        return True
    if after[0].isspace():
        return True
    last, first = before[-1], after[0]
    if first in _NO_LINE_START or last in _NO_LINE_END:
        return False
    if unicodedata.category(first).startswith("M"):
        return False  # a combining mark (Thai vowels and tones) belongs to its base
    return is_unspaced(last) or is_unspaced(first)


def ends_clause(text: str) -> bool:
    """Whether ``text`` ends with clause punctuation, perhaps before a closing quote."""
    stripped = text.rstrip().rstrip(_CLOSERS)
    return bool(stripped) and stripped[-1] in _CLAUSE_END


def text_pieces(text: str) -> list[str]:
    """Split ``text`` into pieces: spaced words (with a leading space) or characters."""
    return [piece for piece in _PIECE.findall(text) if piece.strip()]
