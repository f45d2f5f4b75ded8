"""Taxonomies as data: a YAML file of themes (id, name, description) plus a version."""
from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

DEFAULT_TAXONOMY = "ex-cx-1"


@dataclass(frozen=True)
class Theme:
    id: str
    name: str
    description: str = ""


@dataclass(frozen=True)
class Taxonomy:
    version: str
    themes: tuple[Theme, ...]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(t.id for t in self.themes)

    def names(self) -> dict[str, str]:
        return {t.id: t.name for t in self.themes}

    def to_json(self) -> dict:
        return {"version": self.version, "themes": [t.__dict__ for t in self.themes]}

    @classmethod
    def from_json(cls, data: dict) -> "Taxonomy":
        return cls(data["version"], tuple(Theme(**t) for t in data["themes"]))


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Read a taxonomy YAML; with no path, the packaged default (ex-cx-1)."""
    if path is None:
        text = (resources.files("themesift") / "taxonomy" / f"{DEFAULT_TAXONOMY}.yaml").read_text("utf-8")
        source = DEFAULT_TAXONOMY
    else:
        text = Path(path).read_text("utf-8")
        source = str(path)
    data = yaml.safe_load(text) or {}
    if not isinstance(data.get("themes"), list) or not data["themes"]:
        raise ValueError(f"{source}: a taxonomy needs a non-empty 'themes' list")
    themes = []
    for i, entry in enumerate(data["themes"]):
        if not isinstance(entry, dict) or "id" not in entry:
            raise ValueError(f"{source}: theme #{i + 1} has no 'id'")
        themes.append(Theme(str(entry["id"]), str(entry.get("name", entry["id"])), str(entry.get("description", "")).strip()))
    return Taxonomy(str(data.get("version", Path(source).stem)), tuple(themes))
