"""Which comments to label next: uncertain ones, spread over the themes, no near-duplicates.

Each comment of the pool gets, per theme, how close the model's presence score is to that
theme's threshold (1 = on the threshold, 0 = as far from it as it can be): the comments the
model is least sure of teach it most. The picks go round the themes, each round taking the
most uncertain comment for every theme in turn, so a rare theme gets its share instead of
the frequent ones taking every slot (what SetFit users ask for: examples of the classes they
lack). A comment whose word TF-IDF cosine with an earlier pick reaches ``max_similarity`` is
skipped as a near-duplicate.

Outputs import as they are: a table (csv, xlsx, ...) with the model's labels as a starting
point, Label Studio tasks (JSON with the model's labels as ``predictions``, and the labeling
config to paste beside it), or an Argilla dataset folder for ``rg.Dataset.from_disk`` (the
model's labels as suggestions; training.argilla). ``themesift train`` reads Label Studio's JSON
export (training.labels_io) and Argilla's exported records back, which closes the loop
suggest → label → train → suggest.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from xml.sax.saxutils import quoteattr

import numpy as np
import pandas as pd

from themesift.models.base import ThemeClassifier, presence_scores
from themesift.models.labels import format_label

SUGGEST_COLUMNS = ["row", "text", "uncertain_theme", "uncertainty", "model_labels"]
CHOICES_NAME = "themes"  # the Label Studio control that holds theme:polarity choices


def uncertainty(model: ThemeClassifier, texts: Sequence[str]) -> np.ndarray:
    """(n, themes): 1 where the presence score sits on the theme's threshold, 0 at 0 or 1."""
    presence = presence_scores(model.predict_proba(list(texts)))
    t = model.thresholds_[None, :]
    room = np.where(presence >= t, 1.0 - t, t)
    return 1.0 - np.abs(presence - t) / np.clip(room, 1e-6, None)


def suggest(
    model: ThemeClassifier, texts: Sequence[str], n: int, *, max_similarity: float = 0.8, exclude: Sequence[str] = ()
) -> pd.DataFrame:
    """The ``n`` comments to label next (see the module docstring), in the order picked."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = list(texts)
    seen = {t.strip().casefold() for t in exclude}
    usable = [i for i, t in enumerate(texts) if isinstance(t, str) and t.strip() and t.strip().casefold() not in seen]
    if not usable or n < 1:
        return pd.DataFrame(columns=SUGGEST_COLUMNS)
    pool = [texts[i] for i in usable]
    scores = uncertainty(model, pool)
    vectors = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit_transform(pool)
    order = {j: list(np.argsort(-scores[:, j], kind="stable")) for j in range(scores.shape[1])}
    picked: list[tuple[int, int]] = []  # (pool index, theme)
    taken: set[int] = set()
    while len(picked) < n and any(order.values()):
        for j in range(scores.shape[1]):
            while order[j]:
                k = int(order[j].pop(0))
                if k in taken:
                    continue
                if picked and (vectors[[p for p, _ in picked]] @ vectors[k].T).max() >= max_similarity:
                    taken.add(k)  # a near-duplicate of an earlier pick: never worth a second label
                    continue
                picked.append((k, j))
                taken.add(k)
                break
            if len(picked) >= n:
                break
    labels = model.predict([pool[k] for k, _ in picked]) if picked else []
    rows = [
        {
            "row": usable[k] + 1,
            "text": pool[k],
            "uncertain_theme": model.themes[j],
            "uncertainty": round(float(scores[k, j]), 4),
            "model_labels": "; ".join(lab),
        }
        for (k, j), lab in zip(picked, labels)
    ]
    return pd.DataFrame(rows, columns=SUGGEST_COLUMNS)


def label_studio_tasks(table: pd.DataFrame, model_version: str = "themesift") -> list[dict]:
    """Label Studio's task import format, the model's labels as an editable prediction."""
    tasks = []
    for r in table.itertuples():
        choices = [lab for lab in r.model_labels.split("; ") if lab]
        result = [{"from_name": CHOICES_NAME, "to_name": "text", "type": "choices", "value": {"choices": choices}}]
        tasks.append(
            {
                "data": {"text": r.text, "row": int(r.row), "uncertain_theme": r.uncertain_theme},
                "predictions": [{"model_version": model_version, "score": float(r.uncertainty), "result": result}],
            }
        )
    return tasks


def label_studio_config(model: ThemeClassifier) -> str:
    """The labeling config for those tasks: one multiple-choice list of every theme:polarity."""
    choices = "".join(
        f"    <Choice value={quoteattr(format_label(t, p))}/>\n"
        for t in model.themes
        for p in model.label_space_.polarities
    )
    return (
        f'<View>\n  <Text name="text" value="$text"/>\n  <Choices name="{CHOICES_NAME}" toName="text" '
        f'choice="multiple" showInLine="false">\n{choices}  </Choices>\n</View>\n'
    )


def label_studio_json(table: pd.DataFrame) -> str:
    return json.dumps(label_studio_tasks(table), ensure_ascii=False, indent=1) + "\n"


FORMATS = ("csv", "label-studio", "argilla")


def output_format(path: str, fmt: str | None = None) -> str:
    """``fmt`` when given, else from the suffix: .json is Label Studio, any other a table."""
    if fmt:
        return fmt
    return "label-studio" if str(path).lower().endswith(".json") else "table"


def write_suggestions(table: pd.DataFrame, model: ThemeClassifier, path: str, fmt: str | None = None) -> str:
    """Write the picks as ``fmt`` (see :data:`FORMATS`; default from the suffix); says what was written."""
    from themesift.nlp.atomic import atomic_write_text

    kind = output_format(path, fmt)
    if kind == "label-studio":
        config = f"{path}.config.xml"
        atomic_write_text(path, label_studio_json(table))
        atomic_write_text(config, label_studio_config(model))
        return f"Label Studio tasks written to {path}, labeling config to {config}"
    if kind == "argilla":
        from themesift.training.argilla import write_argilla_dataset

        write_argilla_dataset(table, model, path)
        return f"Argilla dataset written to {path} (load it with rg.Dataset.from_disk({str(path)!r}))"
    from themesift.nlp.table_writer import write_table

    write_table(table, path, fmt="csv" if kind == "csv" else None)
    return f"suggestions written to {path}"
