"""Which comments to label next: uncertain ones, spread over the themes and the pool, no near-duplicates.

Each comment of the pool gets, per theme, how close the model's presence score is to that
theme's threshold (1 = on the threshold, 0 = as far from it as it can be): the comments the
model is least sure of teach it most. Half the picks go round the themes, each turn taking the
most uncertain comment for one theme, so a rare theme gets its share instead of the frequent
ones taking every slot (what SetFit users ask for: examples of the classes they lack); the
other half, interleaved, take the comments with the highest uncertainty summed over all
themes, which are unsure on several themes at once and so teach several per label. Until
every cluster of the pool (k-means, one per pick, at most 1,000) has given one pick, a comment
from a cluster already picked from waits, so one batch does not fill up with variations on one
complaint. A comment whose word TF-IDF cosine with an earlier pick reaches ``max_similarity``
is skipped as a near-duplicate, and one without a word is never picked (its uncertainty says
only that it is empty). This mix was chosen among eleven on a slice of train held out of the pool
(``benchmarks/NOTES.md``); on ex-cx-gold dev it beats random picks on average at each of 250 to
2,000 labels (``benchmarks/results/active_learning.md``).

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


WHOLE_SHARE = 0.5  # share of the picks ranked by the whole comment's uncertainty, the rest go round the themes
MAX_CLUSTERS = 1000  # k-means beyond this costs more than the spread is worth


def clusters(texts: Sequence[str], k: int) -> np.ndarray | None:
    """A k-means cluster per text (100-dim LSA of word TF-IDF), or None when too few to cluster:
    one pick per cluster first keeps a batch from piling into one corner of the pool."""
    from sklearn.cluster import MiniBatchKMeans
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    try:
        words = TfidfVectorizer(sublinear_tf=True, min_df=2 if len(texts) >= 20 else 1).fit_transform(texts)
    except ValueError:  # no word shared by two texts
        return None
    dims = min(100, words.shape[1] - 1, words.shape[0] - 1)
    if k < 2 or dims < 2:
        return None
    reduced = normalize(TruncatedSVD(dims, random_state=0).fit_transform(words))
    return MiniBatchKMeans(k, n_init=1, random_state=0, batch_size=2048).fit_predict(reduced)


def _streams(scores: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Candidate orders, most uncertain first: one per theme, then one by the summed uncertainty
    over all themes (a comment unsure on several themes teaches several at once), and each stream's share."""
    n_themes = scores.shape[1]
    orders = [np.argsort(-scores[:, j], kind="stable") for j in range(n_themes)]
    orders.append(np.argsort(-scores.sum(axis=1), kind="stable"))
    shares = np.array([(1 - WHOLE_SHARE) / n_themes] * n_themes + [WHOLE_SHARE])
    return orders, shares


def _pick(
    scores: np.ndarray, vectors, cluster: np.ndarray | None, n: int, max_similarity: float
) -> list[tuple[int, int]]:
    """(pool index, stream) of up to ``n`` picks: the stream furthest below its share picks next,
    skipping near-duplicates of earlier picks and, in the first pass, rows of a cluster already picked from."""
    orders, shares = _streams(scores)
    picked: list[tuple[int, int]] = []
    taken = np.zeros(len(scores), dtype=bool)
    nearest = np.zeros(len(scores))  # each row's highest cosine with a pick so far
    counts = np.zeros(len(orders))
    for spread in (True, False) if cluster is not None else (False,):
        used: set[int] = set()  # clusters picked from in this pass
        pos = [0] * len(orders)
        live = np.ones(len(orders), dtype=bool)
        while len(picked) < n and live.any():
            s = int(np.argmin(np.where(live, (counts + 1) / shares, np.inf)))
            order = orders[s]
            while pos[s] < len(order):
                k = int(order[pos[s]])
                pos[s] += 1
                if taken[k] or (spread and cluster[k] in used):
                    continue
                taken[k] = True
                if nearest[k] >= max_similarity:
                    continue  # a near-duplicate of an earlier pick: never worth a second label
                picked.append((k, s))
                counts[s] += 1
                np.maximum(nearest, (vectors @ vectors[k].T).toarray().ravel(), out=nearest)
                if spread:
                    used.add(int(cluster[k]))
                break
            else:
                live[s] = False
    return picked


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
    try:
        vectors = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit_transform([texts[i] for i in usable])
    except ValueError:  # not one word in the pool: nothing a label would teach
        return pd.DataFrame(columns=SUGGEST_COLUMNS)
    words = np.flatnonzero(vectors.getnnz(axis=1))  # rows without a word are uncertain only for being empty
    usable, vectors = [usable[i] for i in words], vectors[words]
    pool = [texts[i] for i in usable]
    scores = uncertainty(model, pool)
    cluster = clusters(pool, min(n, len(pool), MAX_CLUSTERS))
    picked = _pick(scores, vectors, cluster, n, max_similarity)
    labels = model.predict([pool[k] for k, _ in picked]) if picked else []
    rows = []
    for (k, s), lab in zip(picked, labels):
        j = s if s < scores.shape[1] else int(scores[k].argmax())  # a whole-comment pick: its most uncertain theme
        rows.append(
            {
                "row": usable[k] + 1,
                "text": pool[k],
                "uncertain_theme": model.themes[j],
                "uncertainty": round(float(scores[k, j]), 4),
                "model_labels": "; ".join(lab),
            }
        )
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
