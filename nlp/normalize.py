"""Text clean-up shared by every stage that looks at comment text.

Comments arrive from spreadsheets, survey exports and web forms, so they carry HTML entities
(``&amp;``, ``&#39;``), Excel's escaped characters (``_x000D_``: openpyxl leaves the OOXML escape
of a carriage return in the cell), non-breaking spaces, stray control characters and ragged
whitespace. Only what the model reads is cleaned: input columns are written back as they came.
Normalising once, the same way everywhere, keeps model inputs, deduplication keys and displayed evidence consistent.

Offsets: :func:`normalize_text` changes lengths, so code that reports character offsets must
compute them on the original text (see :mod:`themesift.nlp.sentences`).
"""

from __future__ import annotations

import html
import re
import unicodedata

from themesift.nlp.cells import is_missing

_WS_CONTROL = re.compile(r"[\n\t\r\v\f\x85\u2028\u2029]")
_OOXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")  # one pass: "_x005F_x000D_" stays a literal "_x000D_"
_SPACES = re.compile(r"\s+")


def _drop_control(text: str) -> str:
    # Unicode categories Cc (control) and Cf (format: zero-width space, BOM, bidi marks) carry no
    # meaning for theme detection but break tokenisation and equality checks. ZWJ (U+200D) is
    # kept because it glues multi-codepoint emoji together. Most comments hold no such character:
    # isprintable() checks that in C, and the per-character loop runs only when it fails.
    if text.isprintable():
        return text
    return "".join(ch for ch in text if ch == "\u200d" or unicodedata.category(ch) not in ("Cc", "Cf"))


def normalize_text(text: str) -> str:
    """Return ``text`` with Excel escapes decoded, NFC-normalised, HTML-unescaped, control-free and
    whitespace-collapsed (non-breaking spaces included)."""
    if not isinstance(text, str):
        raise TypeError(f"normalize_text expects str, got {type(text).__name__}")
    out = _OOXML_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text
    for _ in range(3):  # exports are sometimes escaped twice ("&amp;amp;"); stop when stable
        unescaped = html.unescape(out)
        if unescaped == out:
            break
        out = unescaped
    out = unicodedata.normalize("NFC", out)
    out = _WS_CONTROL.sub(" ", out)
    out = _drop_control(out)
    out = _SPACES.sub(" ", out)
    return out.strip()


def is_blank(value: object) -> bool:
    """True for values that cannot hold a comment: None, NaN, non-strings, whitespace-only str."""
    # Judged after normalisation so that "&nbsp;" or a lone zero-width space counts as blank.
    return not isinstance(value, str) or not normalize_text(value)


def text_problem(value: object) -> str | None:
    """Short flag explaining why ``value`` is not a usable comment, or None when it is.

    ``"empty"`` for None/NaN/blank text, ``"not text: <type>"`` for numbers, lists, dicts...
    """
    if isinstance(value, str):
        return None if normalize_text(value) else "empty"
    if is_missing(value):
        return "empty"
    return f"not text: {type(value).__name__}"
