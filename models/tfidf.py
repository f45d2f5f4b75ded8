"""TF-IDF + one multinomial logistic regression per theme: the fast, transparent baseline.

Each theme's regression has 1 + P classes (absent, each polarity), so its softmax is the
theme's row of ``predict_proba``. All heads are stacked into one sparse-times-dense
product at inference, which is what makes this family fast.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from safetensors.numpy import save_file
from sklearn.feature_extraction.text import TfidfVectorizer

from themesift.models import artifact
from themesift.models.base import ThemeClassifier
from themesift.models.heads import fit_linear_heads, softmax_per_theme

VOCAB = "vocabulary.json"


class TfidfClassifier(ThemeClassifier):
    """Parameters: the ``tfidf`` table in models.params (type, range, default and doc of each)."""

    family = "tfidf"

    def __init__(
        self,
        ngram_max: int = 2,
        min_df: int = 2,
        max_features: int | None = 50000,
        C: float = 8.0,
        max_iter: int = 2000,
        class_weight: str | None = None,
        seed: int = 0,
    ):
        self.ngram_max = ngram_max
        self.min_df = min_df
        self.max_features = max_features
        self.C = C
        self.max_iter = max_iter
        self.class_weight = class_weight
        self.seed = seed

    def _vectorizer(self, vocabulary: dict[str, int] | None = None, min_df: int = 1) -> TfidfVectorizer:
        return TfidfVectorizer(
            ngram_range=(1, self.ngram_max),
            min_df=min_df,
            max_features=self.max_features,
            sublinear_tf=True,
            strip_accents="unicode",
            vocabulary=vocabulary,
            dtype=np.float32,
        )

    def _fit(self, texts, y, dev) -> None:
        # a tiny training set would lose most of its words to min_df
        self.vectorizer_ = self._vectorizer(min_df=self.min_df if len(texts) >= 10 * self.min_df else 1)
        X = self.vectorizer_.fit_transform(texts)
        self.coef_, self.bias_ = fit_linear_heads(
            X,
            y,
            self.label_space_.n_classes,
            C=self.C,
            max_iter=self.max_iter,
            class_weight=self.class_weight,
            seed=self.seed,
        )

    def _predict_proba(self, texts):
        X = self.vectorizer_.transform(texts)
        logits = np.asarray(X @ self.coef_) + self.bias_
        return softmax_per_theme(logits, self.label_space_.n_themes, self.label_space_.n_classes)

    def _save_weights(self, directory: Path) -> None:
        vocab = sorted(self.vectorizer_.vocabulary_, key=self.vectorizer_.vocabulary_.get)
        artifact.write_json(directory / VOCAB, vocab)
        save_file(
            {"idf": self.vectorizer_.idf_.astype(np.float32), "coef": self.coef_, "bias": self.bias_},
            str(directory / artifact.WEIGHTS),
        )

    def _load_weights(self, directory: Path) -> None:
        vocab = artifact.read_json(directory / VOCAB)
        if not isinstance(vocab, list) or not all(isinstance(t, str) for t in vocab) or len(set(vocab)) != len(vocab):
            raise artifact.ModelFileError(f"{directory / VOCAB}: must be a list of distinct terms")
        weights = directory / artifact.WEIGHTS
        tensors = artifact.load_tensors(weights)
        if "coef" not in tensors and {"coef_int8", "coef_scale"} <= set(tensors):
            # int8 per output column (benchmarks/quantize_tfidf.py: the shipped member, 4x smaller)
            quantized, scale = tensors.pop("coef_int8"), tensors.pop("coef_scale")
            if scale.shape != (quantized.shape[-1],):
                raise artifact.ModelFileError(f"{weights}: coef_scale must have one value per column of coef_int8")
            tensors["coef"] = quantized.astype(np.float32) * scale[None, :]
        n_out = self.label_space_.n_themes * self.label_space_.n_classes
        expected = {"idf": (len(vocab),), "coef": (len(vocab), n_out), "bias": (n_out,)}
        for name, shape in expected.items():
            if name not in tensors or tensors[name].shape != shape:
                got = tensors[name].shape if name in tensors else "missing"
                raise artifact.ModelFileError(
                    f"{weights}: tensor {name!r} should have shape {shape} for "
                    f"{len(vocab)} terms and the themes of {artifact.LABELS}, got {got}"
                )
        self.vectorizer_ = self._vectorizer({term: i for i, term in enumerate(vocab)})
        self.vectorizer_.idf_ = tensors["idf"]
        self.coef_, self.bias_ = tensors["coef"], tensors["bias"]
