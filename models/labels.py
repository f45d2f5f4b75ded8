"""Label syntax and the theme × polarity label space shared by every model family.

A theme is either absent or present with exactly one polarity, so a label set is encoded
as one integer per theme: 0 = absent, 1..P = the polarity's index + 1. A bare ``theme``
label (no polarity given) is encoded as ``UNKNOWN_POLARITY`` so that training can use it
for theme detection while ignoring it for polarity.

This module is also the one parser of label text for the whole project: training data,
``evaluate``'s gold labels and the report's ``themes`` column all go through
:func:`parse_labels`, so a label one stage writes is a label every other stage reads.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np

POLARITIES: tuple[str, ...] = ("positive", "negative", "neutral")
UNKNOWN_POLARITY = -1


class LabelError(ValueError):
    """A label string that does not follow ``theme`` or ``theme:polarity``."""


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _is_number(text: str) -> bool:
    """A code such as ``3`` or ``12.5``, not a theme name (``5g`` or ``nan`` still are names)."""
    return _NUMBER.fullmatch(text) is not None


def parse_label(label: str, polarities: Sequence[str] | None = POLARITIES) -> tuple[str, str | None]:
    """Split ``theme:polarity`` (or a bare ``theme``) into its parts, validating both.

    ``polarities=None`` accepts any polarity word (the report, which has no model to ask).
    A theme that is a number is refused: a labels column of codes (``0``…``59``) would
    otherwise become one theme per code without a word.
    """
    if not isinstance(label, str):
        raise LabelError(f"label {label!r} is not a string")
    raw = label.strip()
    if not raw:
        raise LabelError("empty label")
    if raw.count(":") > 1:
        raise LabelError(f"label {label!r} has more than one ':'")
    theme, _, polarity = raw.partition(":")
    theme, polarity = theme.strip(), polarity.strip().lower()
    if not theme:
        raise LabelError(f"label {label!r} has no theme")
    if "," in theme:
        raise LabelError(f"label {label!r} has a ',' in its theme (separate labels with ';')")
    if _is_number(theme):
        raise LabelError(f"label {label!r} is a number, not a theme name (labels are 'theme' or 'theme:polarity')")
    if ":" in raw and not polarity:
        raise LabelError(f"label {label!r} has an empty polarity")
    if polarity and polarities is not None and polarity not in polarities:
        raise LabelError(f"label {label!r} has unknown polarity {polarity!r} (expected one of {', '.join(polarities)})")
    if polarity and any(c.isspace() for c in polarity):
        raise LabelError(f"label {label!r} has a polarity with spaces")
    return theme, polarity or None


def parse_labels(value: Any, polarities: Sequence[str] | None = POLARITIES) -> list[str]:
    """One cell of labels (a list/array, a JSON array string, a ``;``-separated string, or
    empty) → canonical ``theme:polarity`` labels, each theme at most once."""
    from themesift.nlp.cells import is_empty_cell

    if not isinstance(value, (list, tuple, str)) and hasattr(value, "tolist"):
        value = value.tolist()  # numpy arrays from Parquet list columns
    if not isinstance(value, (list, tuple)) and is_empty_cell(value):
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise LabelError(f"invalid JSON list {text!r}: {exc.msg}") from None
        else:
            value = [part for part in text.split(";") if part.strip()]
    if not isinstance(value, (list, tuple)):
        raise LabelError(f"expected a list of labels or a ';'-separated string, got {type(value).__name__}")
    labels, seen = [], set()
    for item in value:
        theme, polarity = parse_label(item, polarities)
        if theme in seen:
            raise LabelError(f"theme {theme!r} appears twice")
        seen.add(theme)
        labels.append(format_label(theme, polarity))
    return labels


def case_clash(themes: Iterable[str], known: dict[str, str] | None = None) -> tuple[str, str] | None:
    """The first two theme names that differ only in case (``MANAGER_SUPPORT`` and
    ``manager_support``), or None. The one rule: such names are refused, never merged, since
    either spelling could be the one the user means. ``known`` (casefold → spelling) carries
    the names seen so far across calls and is updated."""
    known = {} if known is None else known
    for theme in themes:
        first = known.setdefault(theme.casefold(), theme)
        if first != theme:
            return first, theme
    return None


def format_label(theme: str, polarity: str | None) -> str:
    return f"{theme}:{polarity}" if polarity else theme


@dataclass(frozen=True)
class LabelSpace:
    """Ordered themes and polarities; the one place that maps label sets to arrays."""

    themes: tuple[str, ...]
    polarities: tuple[str, ...] = POLARITIES
    _index: dict = field(default=None, compare=False, repr=False)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if len(set(self.themes)) != len(self.themes):
            raise ValueError("duplicate themes in label space")
        clash = case_clash(self.themes)
        if clash:
            raise LabelError(f"themes {clash[0]!r} and {clash[1]!r} differ only in case: spell each theme one way")
        object.__setattr__(self, "themes", tuple(self.themes))
        object.__setattr__(self, "polarities", tuple(self.polarities))
        object.__setattr__(self, "_index", {t: i for i, t in enumerate(self.themes)})

    @classmethod
    def from_label_sets(cls, label_sets: Iterable[Iterable[str]], polarities: Sequence[str] = POLARITIES) -> LabelSpace:
        themes = sorted({parse_label(lab, polarities)[0] for labels in label_sets for lab in labels})
        return cls(tuple(themes), tuple(polarities))

    @property
    def n_themes(self) -> int:
        return len(self.themes)

    @property
    def n_classes(self) -> int:
        """Classes per theme: absent plus one per polarity."""
        return 1 + len(self.polarities)

    def theme_index(self, theme: str) -> int:
        try:
            return self._index[theme]
        except KeyError:
            raise LabelError(f"unknown theme {theme!r} (known: {', '.join(self.themes)})") from None

    def encode(self, label_sets: Sequence[Iterable[str]]) -> np.ndarray:
        """Label sets → int array (n, n_themes): 0 absent, k+1 polarity k, -1 polarity unknown."""
        y = np.zeros((len(label_sets), self.n_themes), dtype=np.int64)
        for row, labels in enumerate(label_sets):
            for lab in labels:
                theme, polarity = parse_label(lab, self.polarities)
                col = self.theme_index(theme)
                y[row, col] = UNKNOWN_POLARITY if polarity is None else self.polarities.index(polarity) + 1
        return y

    def decode(self, y: np.ndarray) -> list[list[str]]:
        out = []
        for row in np.asarray(y):
            labels = []
            for col, value in enumerate(row):
                if value == UNKNOWN_POLARITY:
                    labels.append(self.themes[col])
                elif value > 0:
                    labels.append(format_label(self.themes[col], self.polarities[value - 1]))
            out.append(labels)
        return out

    def to_json(self) -> dict:
        return {"themes": list(self.themes), "polarities": list(self.polarities)}

    @classmethod
    def from_json(cls, data: dict) -> LabelSpace:
        return cls(tuple(data["themes"]), tuple(data.get("polarities", POLARITIES)))
