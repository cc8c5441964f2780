"""Invisible characters: which ones a name may hold, and whether anything in it shows.

A name is printed on invoices, receipts and emails and compared by people. A zero-width
space, a word joiner, a byte order mark or a run of tag characters changes what a name
*is* without changing what it looks like (two "Alice GmbH" that differ), or hides text
in it. Yet three of these characters are needed by real text:

- ZERO WIDTH JOINER (U+200D) glues emoji into one (family, profession, rainbow flag)
  and, after a virama, asks for an Indic script's half form or chillu;
- ZERO WIDTH NON-JOINER (U+200C) is spelling in Persian ("می‌خواهم") and other scripts:
  it keeps two letters of one word from joining;
- tag characters (U+E0020-E007E, ended by CANCEL TAG U+E007F) spell the subdivision
  flags after U+1F3F4 (England, Scotland, Wales).

So each is allowed only where it does that job, and every other format (Cf) character is
refused, bidi controls included (services/validation.py names those itself). The few
format characters that print something (the Arabic, Syriac and Kaithi number signs) pass.
No emoji table ships with Python: `_pictographic` is the Extended_Pictographic blocks,
close enough to say "an emoji is on both sides".
"""

from __future__ import annotations

import unicodedata

ZWNJ = "\u200c"
ZWJ = "\u200d"
VS16 = "\ufe0f"
CANCEL_TAG = "\U000e007f"
_TAGS = range(0xE0000, 0xE0080)
_TAG_SPELLING = range(0xE0020, 0xE007F)
#: Format characters that print a sign: prepended number marks of Arabic, Syriac, Kaithi.
_VISIBLE_FORMAT = frozenset(
    "\u0600\u0601\u0602\u0603\u0604\u0605\u06dd\u070f\u0890\u0891\u08e2\U000110bd\U000110cd"
)
#: Bidi formatting characters: refused by services/validation.py with their own message.
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_PICTOGRAPHIC = (
    (0x00A9, 0x00A9),
    (0x00AE, 0x00AE),
    (0x203C, 0x203C),
    (0x2049, 0x2049),
    (0x2122, 0x2122),
    (0x2139, 0x2139),
    (0x2194, 0x21AA),
    (0x231A, 0x23FF),
    (0x24C2, 0x24C2),
    (0x25AA, 0x25FE),
    (0x2600, 0x27BF),
    (0x2934, 0x2935),
    (0x2B05, 0x2B55),
    (0x3030, 0x3030),
    (0x303D, 0x303D),
    (0x3297, 0x3299),
    (0x1F000, 0x1FAFF),
    (0x1FC00, 0x1FFFD),
)
#: Default_Ignorable_Code_Point (Unicode), plus the blanks that are letters or symbols
#: (Hangul fillers, the braille blank): what a value of only these prints as nothing.
_BLANK = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x2800, 0x2800),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)


def _within(char: str, ranges: tuple[tuple[int, int], ...]) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in ranges)


def _pictographic(char: str) -> bool:
    return bool(char) and _within(char, _PICTOGRAPHIC)


def _letter_or_mark(char: str) -> bool:
    return bool(char) and unicodedata.category(char)[0] in "LM"


def _emoji_before(value: str, i: int) -> bool:
    """An emoji ends right before position i (its VS16 presentation selector skipped)."""
    j = i - 1
    if j >= 0 and value[j] == VS16:
        j -= 1
    return j >= 0 and _pictographic(value[j])


def _tag_sequence_end(value: str, i: int) -> int | None:
    """Where the emoji tag sequence whose tags start at i ends (past its CANCEL TAG), or
    None when the tags at i are not one: an emoji, tag letters, then CANCEL TAG."""
    j = i
    while j < len(value) and ord(value[j]) in _TAG_SPELLING:
        j += 1
    if j == i or j >= len(value) or value[j] != CANCEL_TAG or not _emoji_before(value, i):
        return None
    return j + 1


def refused_invisible(value: str) -> str | None:
    """What is wrong with the first invisible character out of place, else None."""
    i = 0
    while i < len(value):
        char = value[i]
        before = value[i - 1] if i else ""
        after = value[i + 1] if i + 1 < len(value) else ""
        if ord(char) in _TAGS:
            end = _tag_sequence_end(value, i)
            if end is None:
                return "a tag character outside an emoji flag sequence"
            i = end
            continue
        if char == ZWJ:
            emoji = _emoji_before(value, i) and _pictographic(after)
            conjunct = bool(before) and unicodedata.combining(before) == 9  # after a virama
            if not (emoji or conjunct):
                return "a zero-width joiner outside an emoji sequence or a conjunct"
        elif char == ZWNJ:
            if not (_letter_or_mark(before) and _letter_or_mark(after)):
                return "a zero-width non-joiner outside a word"
        elif (
            unicodedata.category(char) == "Cf" and char not in _BIDI and char not in _VISIBLE_FORMAT
        ):
            return "an invisible formatting character (such as a zero-width space)"
        i += 1
    return None


def has_visible(value: str) -> bool:
    """True when something in `value` prints: not only spaces and ignorable characters."""
    return any(not char.isspace() and not _within(char, _BLANK) for char in value)
