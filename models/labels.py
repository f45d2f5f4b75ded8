"""Label syntax and the theme × polarity label space shared by every model family.

A theme is either absent or present with exactly one polarity, so a label set is encoded
as one integer per theme: 0 = absent, 1..P = the polarity's index + 1. A bare ``theme``
label (no polarity given) is encoded as ``UNKNOWN_POLARITY`` so that training can use it
for theme detection while ignoring it for polarity.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

POLARITIES: tuple[str, ...] = ("positive", "negative", "neutral")
UNKNOWN_POLARITY = -1


class LabelError(ValueError):
    """A label string that does not follow ``theme`` or ``theme:polarity``."""


def parse_label(label: str, polarities: Sequence[str] = POLARITIES) -> tuple[str, str | None]:
    """Split ``theme:polarity`` (or a bare ``theme``) into its parts, validating both."""
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
    if ":" in raw and not polarity:
        raise LabelError(f"label {label!r} has an empty polarity")
    if polarity and polarity not in polarities:
        raise LabelError(
            f"label {label!r} has unknown polarity {polarity!r} (expected one of {', '.join(polarities)})"
        )
    return theme, polarity or None


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
        object.__setattr__(self, "themes", tuple(self.themes))
        object.__setattr__(self, "polarities", tuple(self.polarities))
        object.__setattr__(self, "_index", {t: i for i, t in enumerate(self.themes)})

    @classmethod
    def from_label_sets(cls, label_sets: Iterable[Iterable[str]], polarities: Sequence[str] = POLARITIES) -> "LabelSpace":
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
    def from_json(cls, data: dict) -> "LabelSpace":
        return cls(tuple(data["themes"]), tuple(data.get("polarities", POLARITIES)))
