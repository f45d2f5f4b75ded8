"""Topics the taxonomy may not name: comments grouped by meaning, with key phrases and examples.

Comments are embedded with the shipped encoder (MiniLM mean pooling, the ONNX path when it is
cached), L2-normalised, and clustered with k-means (scikit-learn): a fixed seed and a fixed
number of restarts make the same input give the same topics, run after run (BERTopic's UMAP +
HDBSCAN pipeline is not reproducible by default, its most reported complaint; it would also add
umap-learn and hdbscan to the install, and whether it runs offline on our encoder was not tried).
With ``n_topics="auto"`` k is the best silhouette (cosine, on a seeded sample) among a few
candidates.

Each topic gets class-based TF-IDF key phrases (the c-TF-IDF of BERTopic: term frequency in the
topic's concatenated comments times log(1 + average words per topic / the term's frequency over
all topics)), the three comments nearest its centre, and the share of its comments that carry
each existing theme, so a topic that no theme covers stands out. ``uncovered_only`` keeps only
comments with no theme: the "emerging themes" of employee-survey tools.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from themesift.analysis.drivers import AnalysisError

TOPIC_COLUMNS = ["topic", "size", "share", "keywords", "examples", "themes", "uncovered_share"]


def embed_texts(texts: Sequence[str], base_model: str | None = None) -> np.ndarray:
    """Unit-length sentence embeddings from the shipped encoder (or ``base_model``)."""
    from themesift.models.embed import EmbedClassifier

    encoder = EmbedClassifier() if base_model is None else EmbedClassifier(base_model=base_model)
    vectors = np.asarray(encoder.embed(list(texts)), dtype=np.float32)
    return vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)


def cluster(vectors: np.ndarray, n_topics: int | str = "auto", seed: int = 0) -> np.ndarray:
    """k-means labels (0..k-1), numbered by topic size (0 = largest), reproducible for a seed."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    n = len(vectors)
    if n_topics == "auto":
        candidates = [k for k in (5, 8, 12, 16, 20, 25) if k < n]
        if not candidates:
            raise AnalysisError(f"only {n} comments: too few to find topics")
        best, best_score = None, -np.inf
        for k in candidates:
            labels = KMeans(k, n_init=4, random_state=seed).fit_predict(vectors)
            score = silhouette_score(vectors, labels, metric="cosine", sample_size=min(n, 2000), random_state=seed)
            if score > best_score:
                best, best_score = labels, score
        labels = best
    else:
        if not 2 <= int(n_topics) < n:
            raise AnalysisError(f"--topics must be between 2 and {n - 1} for {n} comments, got {n_topics}")
        labels = KMeans(int(n_topics), n_init=4, random_state=seed).fit_predict(vectors)
    order = {
        old: new
        for new, (old, _) in enumerate(
            sorted(((c, int((labels == c).sum())) for c in np.unique(labels)), key=lambda item: (-item[1], item[0]))
        )
    }
    return np.array([order[c] for c in labels])


def ctfidf_keywords(texts: Sequence[str], topics: np.ndarray, top: int = 8) -> dict[int, list[str]]:
    """Class-based TF-IDF: the words and two-word phrases that set each topic apart."""
    from sklearn.feature_extraction.text import CountVectorizer

    ids = sorted(set(topics.tolist()))
    documents = [" ".join(t for t, k in zip(texts, topics) if k == i) for i in ids]
    vectorizer = CountVectorizer(ngram_range=(1, 2), stop_words="english", min_df=1, max_features=50000)
    counts = vectorizer.fit_transform(documents).toarray().astype(float)
    tf = counts / np.clip(counts.sum(axis=1, keepdims=True), 1, None)
    idf = np.log(1 + counts.sum(axis=1).mean() / np.clip(counts.sum(axis=0), 1, None))
    scores = tf * idf
    vocab = vectorizer.get_feature_names_out()
    return {i: [vocab[j] for j in np.argsort(-scores[row])[:top] if scores[row, j] > 0] for row, i in enumerate(ids)}


def discover(
    texts: Sequence[str],
    label_sets: Sequence[Sequence[str] | None] | None = None,
    *,
    n_topics: int | str = "auto",
    uncovered_only: bool = False,
    seed: int = 0,
    examples: int = 3,
    vectors: np.ndarray | None = None,
) -> pd.DataFrame:
    """One row per topic: size, share, key phrases, example comments, overlapping themes.

    ``label_sets``: each comment's labels (None for a comment that was not classified, left out);
    without them nothing is said about themes and ``uncovered_only`` is refused."""
    texts = list(texts)
    if label_sets is not None and len(label_sets) != len(texts):
        raise AnalysisError(f"{len(texts)} texts but {len(label_sets)} label sets")
    if uncovered_only and label_sets is None:
        raise AnalysisError("--uncovered-only needs each comment's themes (a classify output, or --model)")
    keep = [
        i
        for i, t in enumerate(texts)
        if isinstance(t, str)
        and t.strip()
        and (label_sets is None or label_sets[i] is not None)
        and not (uncovered_only and label_sets[i])
    ]
    if len(keep) < 3:
        raise AnalysisError(f"only {len(keep)} comments to group: too few to find topics")
    kept_texts = [texts[i] for i in keep]
    vectors = embed_texts(kept_texts) if vectors is None else np.asarray(vectors)[keep]
    topics = cluster(vectors, n_topics, seed)
    keywords = ctfidf_keywords(kept_texts, topics)
    rows = []
    for topic in sorted(set(topics.tolist())):
        members = np.flatnonzero(topics == topic)
        centre = vectors[members].mean(axis=0)
        nearest = members[np.argsort(-(vectors[members] @ centre))[:examples]]
        row = {
            "topic": topic,
            "size": len(members),
            "share": len(members) / len(keep),
            "keywords": ", ".join(keywords[topic]),
            "examples": " | ".join(kept_texts[i] for i in nearest),
        }
        if label_sets is not None:
            sets = [label_sets[keep[i]] for i in members]
            themes = pd.Series([lab.split(":")[0] for labels in sets for lab in labels]).value_counts()
            row["themes"] = "; ".join(f"{theme} {count / len(members):.0%}" for theme, count in themes.head(3).items())
            row["uncovered_share"] = sum(not labels for labels in sets) / len(members)
        rows.append(row)
    out = pd.DataFrame(
        rows, columns=[c for c in TOPIC_COLUMNS if label_sets is not None or c not in ("themes", "uncovered_share")]
    )
    out.attrs.update(comments=len(keep), n_topics=int(topics.max()) + 1, topics=topics.tolist(), rows=keep)
    return out
