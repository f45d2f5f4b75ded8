"""Who wrote a comment — an employee or a customer — and which themes each may carry.

A taxonomy may give each theme an audience (ex-cx-1: 14 employee themes, 4 customer themes).
Once a comment's audience is known, themes of the other audience are never output, so customer
text cannot fall into employee themes (fewer than 1 % of the gold labels cross that line).
``auto`` decides per comment with a small logistic regression over word and character TF-IDF
features, trained on the same data as the model (characters catch misspellings and @handles
that words miss: dev accuracy 0.937 → 0.951 on ex-cx-gold + cx-gold dev); it lives in the artifact's
``audience/`` folder as JSON + safetensors (no pickle).
Customer comments come from any industry, employee comments from one domain (the workplace), so
text from an industry the detector never saw reads as employee more often than the reverse: with
cx-gold's industries left out one at a time, 84 % of the left-out industry's dev comments were
called customer. The recipe therefore regularises more (C 2, not 8) and adds a customer prior of
0.62 to the balanced classes (+0.49 logit): left-out industries 0.842 → 0.894, cx-gold dev
0.933 → 0.956, both dev sets 0.943 → 0.944, but employee dev comments 0.963 → 0.936: a trade,
not a better ranking (benchmarks/audience_detector.py, benchmarks/NOTES.md).
Themes without an audience are shared: they are output for both.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from themesift.models import artifact

AUDIENCES = ("employee", "customer")
AUTO = "auto"
AUDIENCE_DIR = "audience"
VOCAB = "vocabulary.json"
MIN_ROWS = 5  # per audience, to train a detector at all
ANALYZERS = ("word", "char_wb")
DEFAULT_C = 2.0  # inverse L2 strength: 8 fitted the training industries more and unseen ones less
CUSTOMER_PRIOR = 0.62  # P(customer) before the text is read, on top of balanced classes


class AudienceError(ValueError):
    """An audience value that is not employee, customer or auto."""


def check_audience(value: object, where: str = "") -> str | None:
    """``employee`` / ``customer`` (any case), or None for auto (None, blank, NaN, ``auto``)."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = str(value).strip().lower()
    if text in ("", AUTO):
        return None
    if text not in AUDIENCES:
        raise AudienceError(f"{where}audience {value!r} is not one of employee, customer, auto")
    return text


def per_text_audiences(audience: str | Sequence[str | None] | None, n: int) -> list[str | None]:
    """One checked audience per text (None: auto) from a single value for all or a per-text list."""
    if audience is None or isinstance(audience, str):
        return [check_audience(audience)] * n
    rows = [check_audience(a, f"row {i + 1}: ") for i, a in enumerate(audience)]
    if len(rows) != n:
        raise AudienceError(f"{len(rows)} audiences for {n} texts")
    return rows


@dataclass
class AudienceModel:
    """Theme → audience map plus, when trained, a detector that tells the audience from text."""

    theme_audiences: dict[str, str]
    vocabulary: dict[str, list[str]] | None = None  # per analyzer ("word", "char_wb")
    idf: dict[str, np.ndarray] | None = None
    coef: np.ndarray | None = None  # P(customer) = sigmoid([tfidf_word, tfidf_char] · coef + bias)
    bias: float = 0.0

    @property
    def can_detect(self) -> bool:
        return self.coef is not None

    @classmethod
    def fit(
        cls,
        theme_audiences: dict[str, str],
        texts: Sequence[str],
        audiences: Sequence[str | None],
        seed: int = 0,
        customer_prior: float = CUSTOMER_PRIOR,
        C: float = DEFAULT_C,
    ) -> AudienceModel:
        """Train the detector on the rows whose audience is known; without enough of both, none.

        The classes are weighted equally, then ``customer_prior`` (0.5: none) moves the bias, so the
        share of each audience in the training file does not decide the unclear comments."""
        if not 0 < customer_prior < 1:
            raise ValueError(f"customer_prior must be between 0 and 1, got {customer_prior!r}")
        model = cls(dict(theme_audiences))
        rows = [(t, a) for t, a in zip(texts, audiences) if a in AUDIENCES]
        counts = {a: sum(1 for _, b in rows if b == a) for a in AUDIENCES}
        if min(counts.values()) < MIN_ROWS:
            return model
        from scipy.sparse import hstack
        from sklearn.linear_model import LogisticRegression

        vectorizers = {a: _vectorizer(a, min_df=2 if len(rows) >= 200 else 1) for a in ANALYZERS}
        X = hstack([v.fit_transform([t for t, _ in rows]) for v in vectorizers.values()]).tocsr()
        y = np.array([a == "customer" for _, a in rows], dtype=int)
        clf = LogisticRegression(C=C, max_iter=3000, class_weight="balanced", random_state=seed).fit(X, y)
        model.vocabulary = {a: sorted(v.vocabulary_, key=v.vocabulary_.get) for a, v in vectorizers.items()}
        model.idf = {a: v.idf_.astype(np.float32) for a, v in vectorizers.items()}
        model.coef = clf.coef_[0].astype(np.float32)
        model.bias = float(clf.intercept_[0] + np.log(customer_prior / (1 - customer_prior)))
        return model

    def customer_probability(self, texts: Sequence[str]) -> np.ndarray:
        if not self.can_detect:
            raise ValueError("this model has no audience detector: give the audience explicitly")
        from scipy.sparse import hstack

        if not hasattr(self, "_vectorizers"):
            self._vectorizers = []
            for a in ANALYZERS:
                v = _vectorizer(a, vocabulary={t: i for i, t in enumerate(self.vocabulary[a])})
                v.idf_ = self.idf[a]
                self._vectorizers.append(v)
        X = hstack([v.transform(list(texts)) for v in self._vectorizers]).tocsr()
        logits = np.asarray(X @ self.coef).ravel() + self.bias
        return 1.0 / (1.0 + np.exp(-logits))

    def resolve(self, texts: Sequence[str], audience: str | Sequence[str | None] | None) -> list[str | None]:
        """One audience per text: a single value for all, a per-text list (blank = auto), or auto.

        Auto rows get the detector's decision; with no detector they stay None (nothing masked)."""
        rows = per_text_audiences(audience, len(texts))
        auto = [i for i, a in enumerate(rows) if a is None]
        if auto and self.can_detect:
            p = self.customer_probability([texts[i] for i in auto])
            for i, pi in zip(auto, p):
                rows[i] = "customer" if pi >= 0.5 else "employee"
        return rows

    def mask(self, proba: np.ndarray, themes: Sequence[str], rows: Sequence[str | None]) -> np.ndarray:
        """``proba`` with every theme of the other audience set to certainly absent."""
        out = None
        for audience in AUDIENCES:
            other = [j for j, t in enumerate(themes) if self.theme_audiences.get(t) not in (None, audience)]
            hit = [i for i, a in enumerate(rows) if a == audience]
            if not other or not hit:
                continue
            if out is None:
                out = proba.copy()
            block = out[np.ix_(hit, other)]
            block[...] = 0.0
            block[..., 0] = 1.0
            out[np.ix_(hit, other)] = block
        return proba if out is None else out

    # -- artifact -------------------------------------------------------------------------
    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        artifact.write_json(
            directory / artifact.CONFIG,
            {"theme_audiences": self.theme_audiences, "detector": self.can_detect, "bias": self.bias},
        )
        if self.can_detect:
            from safetensors.numpy import save_file

            artifact.write_json(directory / VOCAB, self.vocabulary)
            save_file(
                {"coef": self.coef, **{f"idf_{a}": idf for a, idf in self.idf.items()}},
                str(directory / artifact.WEIGHTS),
            )

    @classmethod
    def load(cls, directory: Path) -> AudienceModel:
        where = directory / artifact.CONFIG
        config = artifact.read_json(where)
        theme_audiences = config.get("theme_audiences") if isinstance(config, dict) else None
        if not isinstance(theme_audiences, dict):
            raise artifact.ModelFileError(f"{where}: 'theme_audiences' must map theme ids to audiences")
        for theme, audience in theme_audiences.items():
            if audience not in AUDIENCES:
                raise artifact.ModelFileError(
                    f"{where}: theme {theme!r} has audience {audience!r}, not one of {', '.join(AUDIENCES)}"
                )
        bias = config.get("bias", 0.0)
        if not isinstance(bias, (int, float)) or isinstance(bias, bool) or not np.isfinite(bias):
            raise artifact.ModelFileError(f"{where}: 'bias' must be a finite number, got {bias!r}")
        model = cls(dict(theme_audiences), bias=float(bias))
        if config.get("detector"):
            vocabulary = artifact.read_json(directory / VOCAB)
            tensors = artifact.load_tensors(directory / artifact.WEIGHTS)
            if not isinstance(vocabulary, dict) or sorted(vocabulary) != sorted(ANALYZERS):
                raise artifact.ModelFileError(f"{directory / VOCAB}: must hold one term list per analyzer {ANALYZERS}")
            missing = sorted({"coef", *(f"idf_{a}" for a in ANALYZERS)} - set(tensors))
            if missing:
                raise artifact.ModelFileError(f"{directory / artifact.WEIGHTS}: tensors {missing} missing")
            model.vocabulary = {a: vocabulary[a] for a in ANALYZERS}
            model.idf = {a: tensors[f"idf_{a}"] for a in ANALYZERS}
            model.coef = tensors["coef"]
            sizes = [len(model.vocabulary[a]) for a in ANALYZERS]
            if sizes != [len(model.idf[a]) for a in ANALYZERS] or sum(sizes) != len(model.coef):
                raise artifact.ModelFileError(f"{directory}: audience vocabulary and weights differ in length")
        return model


def infer_audiences(label_sets: Sequence[Sequence[str]], theme_audiences: dict[str, str]) -> list[str | None]:
    """A row's audience from its labels when they all belong to one audience, else None."""
    out = []
    for labels in label_sets:
        found = {theme_audiences.get(label.split(":")[0]) for label in labels} - {None}
        out.append(found.pop() if len(found) == 1 else None)
    return out


def _vectorizer(analyzer: str, vocabulary: dict[str, int] | None = None, min_df: int = 1):
    from sklearn.feature_extraction.text import TfidfVectorizer

    ngrams = (1, 2) if analyzer == "word" else (2, 5)
    return TfidfVectorizer(
        analyzer=analyzer,
        ngram_range=ngrams,
        min_df=min_df,
        max_features=50000,
        sublinear_tf=True,
        strip_accents="unicode",
        vocabulary=vocabulary,
        dtype=np.float32,
    )
