"""Taxonomies as data: a YAML file of themes (id, name, description, optional audience, keywords and
examples) plus a version."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

from themesift.models.artifact import MAX_JSON_BYTES, ModelFileError, read_bytes
from themesift.models.audience import AUDIENCES

DEFAULT_TAXONOMY = "ex-cx-1"


@dataclass(frozen=True)
class Theme:
    id: str
    name: str
    description: str = ""
    audience: str | None = None  # "employee" | "customer"; None: a theme both audiences may carry
    keywords: tuple[str, ...] = ()  # optional words and phrases that name the theme (zero-shot models)
    examples: tuple[str, ...] = ()  # optional example comments (zero-shot models)


@dataclass(frozen=True)
class Taxonomy:
    version: str
    themes: tuple[Theme, ...]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(t.id for t in self.themes)

    def names(self) -> dict[str, str]:
        return {t.id: t.name for t in self.themes}

    def audiences(self) -> dict[str, str]:
        """Theme id → audience, for the themes that declare one (empty: the taxonomy has none)."""
        return {t.id: t.audience for t in self.themes if t.audience}

    def to_json(self) -> dict:
        return {
            "version": self.version,
            "themes": [
                {k: list(v) if isinstance(v, tuple) else v for k, v in t.__dict__.items() if v not in (None, ())}
                for t in self.themes
            ],
        }

    @classmethod
    def from_json(cls, data: dict, source: str = "taxonomy.json") -> Taxonomy:
        """A model folder's taxonomy.json, checked like a YAML taxonomy."""
        if not isinstance(data, dict) or "version" not in data:
            raise ModelFileError(f"{source}: a taxonomy needs a 'version' and a 'themes' list")
        return _parse(data, source)


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Read a taxonomy YAML; with no path, the packaged default (ex-cx-1)."""
    if path is None:
        text = (resources.files("themesift") / "taxonomy" / f"{DEFAULT_TAXONOMY}.yaml").read_text("utf-8")
        source = DEFAULT_TAXONOMY
    else:
        # bounded, and a regular file: a taxonomy linked to /dev/zero is refused, not read forever
        raw = read_bytes(path, MAX_JSON_BYTES, root=Path(path).resolve().parent)
        source = str(path)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ModelFileError(f"{source}: not UTF-8 text (byte {exc.start})") from None
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ModelFileError(f"{source}: not valid YAML ({' '.join(str(exc).split())})") from None
    return _parse(data, source)


def _parse(data: object, source: str) -> Taxonomy:
    if not isinstance(data, dict) or not isinstance(data.get("themes"), list) or not data["themes"]:
        raise ModelFileError(f"{source}: a taxonomy needs a non-empty 'themes' list")
    themes, seen = [], set()
    for i, entry in enumerate(data["themes"]):
        if not isinstance(entry, dict) or "id" not in entry:
            raise ModelFileError(f"{source}: theme #{i + 1} has no 'id'")
        theme_id = str(entry["id"] if entry["id"] is not None else "").strip()
        if not theme_id:
            raise ModelFileError(f"{source}: theme #{i + 1} has an empty 'id'")
        if theme_id in seen:
            raise ModelFileError(f"{source}: theme #{i + 1}: id {theme_id!r} is used twice")
        seen.add(theme_id)
        audience = entry.get("audience")
        if audience is not None and audience not in AUDIENCES:
            raise ModelFileError(
                f"{source}: theme {theme_id!r}: audience {audience!r} is not one of "
                f"{', '.join(AUDIENCES)} (leave it out for a theme both may carry)"
            )
        themes.append(
            Theme(
                theme_id,
                str(entry.get("name", theme_id)),
                str(entry.get("description", "") or "").strip(),
                audience,
                _phrases(entry, "keywords", source, theme_id),
                _phrases(entry, "examples", source, theme_id),
            )
        )
    return Taxonomy(str(data.get("version", Path(source).stem)), tuple(themes))


def _phrases(entry: dict, key: str, source: str, theme_id: str) -> tuple[str, ...]:
    """An optional list of non-empty strings (a theme's ``keywords`` or ``examples``)."""
    value = entry.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) for v in value):
        raise ModelFileError(f"{source}: theme {theme_id!r}: {key!r} must be a list of phrases")
    return tuple(str(v).strip() for v in value if str(v).strip())
