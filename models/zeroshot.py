"""A model from a taxonomy file alone: no labeled comment is seen.

Each comment is read sentence by sentence (and clause by clause where "but", "and", ";" join two).
A sentence goes to the user's theme it is most similar
to (MiniLM cosine to the theme's name + description, its ``keywords`` and ``examples``), within a
small margin, when that similarity clears a floor and the sentence carries a theme at all. Three
things come from a *reference model* (the shipped default unless told otherwise), which has
learned from labeled EX/CX comments what a taxonomy file cannot say:

* whether a sentence carries any theme ("we went on Tuesday" does not): the reference's largest
  presence score, which gates weak similarities;
* transfer: each reference theme passes its presence to the user themes whose descriptions match
  its own, which adds to their similarity (so "my boss never listens" reaches a user theme
  described as "how my supervisor treats me" through ``manager_support``);
* polarity: the reference's presence-weighted polarity of the sentence that carried the theme.

Measured on three taxonomies and their real labels (benchmarks/zeroshot_dev.py; figures in
benchmarks/results/zeroshot_dev.json): independent per-theme thresholds on comment-level cosine
(the usual zero-shot baseline) lose to the one-theme-per-sentence competition, and transfer adds
most where the user's themes overlap the reference's. Self-training a student on the teacher's
labels was tried and added about 0.01 theme F1 and no polarity: it is not done.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Sequence

import numpy as np

from themesift.models import artifact
from themesift.models.base import ThemeClassifier
from themesift.models.encoder import DEFAULT_BASE_MODEL
from themesift.models.labels import LabelSpace
from themesift.models.taxonomy import Taxonomy

REFERENCE_DEFAULT = "default"  # the packaged default model (themesift/default_model)
TRANSFER_TEMPERATURE = 0.03  # how sharply a reference theme picks the user themes it matches
TRANSFER_FLOOR = 0.2  # description cosine below which a reference theme passes nothing on
TRANSFER_FULL = 0.5  # ... and from which it passes all of its presence


CLAUSE_BREAK = re.compile(r"\s*;\s*|,?\s+(?:but|although|though|however|whereas|while|and|yet)\s+", re.IGNORECASE)
MIN_CLAUSE_WORDS = 2


class ZeroShotError(artifact.ModelFileError):
    """A taxonomy that cannot make a zero-shot model (a theme with nothing to compare to)."""


class ZeroShotClassifier(ThemeClassifier):
    """Parameters: the ``zeroshot`` table in models.params. Built with :func:`build_zeroshot`."""

    family = "zeroshot"

    def __init__(
        self,
        base_model: str = DEFAULT_BASE_MODEL,
        reference_model: str = REFERENCE_DEFAULT,
        similarity_floor: float = 0.25,
        margin: float = 0.03,
        transfer_weight: float = 0.3,
        gate: float = 0.4,
        strong_similarity: float = 0.4,
        max_length: int = 256,
        batch_size: int = 64,
        backend: str | None = None,
    ):
        self.base_model = base_model
        self.reference_model = reference_model
        self.similarity_floor = similarity_floor
        self.margin = margin
        self.transfer_weight = transfer_weight
        self.gate = gate
        self.strong_similarity = strong_similarity
        self.max_length = max_length
        self.batch_size = batch_size
        self.backend = backend

    # -- building ---------------------------------------------------------------------
    def _fit(self, texts, y, dev) -> None:
        raise ZeroShotError("the zeroshot family learns from a taxonomy, not labels: use build_zeroshot(taxonomy)")

    def build(self, taxonomy: Taxonomy) -> ZeroShotClassifier:
        """Prototypes from the taxonomy's text, and the transfer matrix from the reference model."""
        from themesift.models.params import check_params

        check_params(self.family, self.get_params())
        check_taxonomy(taxonomy)
        self.label_space_ = LabelSpace(taxonomy.ids)
        self.thresholds_ = np.full(self.label_space_.n_themes, 0.5)
        texts, owner = [], []
        for j, theme in enumerate(taxonomy.themes):
            for text in theme_texts(theme):
                texts.append(text)
                owner.append(j)
        self.prototypes_ = _unit(self._embed(texts))
        self.prototype_theme_ = np.asarray(owner, dtype=np.int64)
        reference = self._reference()
        reference_texts = _reference_texts(reference, self.reference_dir_)
        described = _unit(self._embed([f"{theme.name}. {theme.description}".strip() for theme in taxonomy.themes]))
        similarity = described @ _unit(self._embed(reference_texts)).T  # (user themes, reference themes)
        self.transfer_ = transfer_matrix(similarity).astype(np.float32)
        return self

    # -- inference --------------------------------------------------------------------
    def _embedder(self):
        if not hasattr(self, "embedder_"):
            from themesift.models.embed import EmbedClassifier

            self.embedder_ = EmbedClassifier(
                base_model=self.base_model, max_length=self.max_length, batch_size=self.batch_size, backend=self.backend
            )
        return self.embedder_

    def _embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        return self._embedder().embed(texts)

    def _reference(self) -> ThemeClassifier:
        if not hasattr(self, "reference_"):
            from themesift.models.registry import load_artifact

            self.reference_dir_ = reference_path(self.reference_model)
            if artifact.read_config(artifact.check_artifact_dir(self.reference_dir_))["family"] == self.family:
                raise artifact.ModelFileError(
                    f"{self.reference_dir_}: a zero-shot model cannot be another's reference (it learned no labels)"
                )
            self.reference_ = load_artifact(self.reference_dir_)
        return self.reference_

    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        from themesift.nlp.sentences import split_sentences_batch

        n_themes, n_classes = self.label_space_.n_themes, self.label_space_.n_classes
        proba = np.zeros((len(texts), n_themes, n_classes))
        proba[:, :, 0] = 1.0
        sentences, owner = [], []
        for i, found in enumerate(split_sentences_batch(texts)):
            for sentence in found:
                for unit in reading_units(sentence.text):
                    sentences.append(unit)
                    owner.append(i)
        if not sentences:
            return proba
        similarity = self._similarity(sentences)
        reference = self._reference()
        ref_proba = reference.predict_proba(sentences, audience=None)
        ref_presence = 1.0 - ref_proba[:, :, 0]
        score = similarity + self.transfer_weight * (ref_presence @ self.transfer_.T)
        carries = (ref_presence.max(axis=1) >= self.gate)[:, None] | (similarity >= self.strong_similarity)
        chosen = (score >= score.max(axis=1, keepdims=True) - self.margin) & (score >= self.similarity_floor) & carries
        polarity = self._polarity(ref_proba, ref_presence, reference.label_space_.polarities)
        best = np.full((len(texts), n_themes), -np.inf)
        for s, i in enumerate(owner):
            # presence: 0.5 at the floor, rising with the score; below it, under 0.5 (not output)
            present = np.where(
                chosen[s],
                0.5 + 0.5 * np.clip((score[s] - self.similarity_floor) / 0.5, 0, 1),
                0.49 * np.clip(score[s] / self.similarity_floor, 0, 1),
            )
            better = present > best[i]
            best[i][better] = present[better]
            proba[i, better, 0] = 1.0 - present[better]
            proba[i, better, 1:] = present[better, None] * polarity[s][None, :]
        return proba

    def _similarity(self, sentences: list[str]) -> np.ndarray:
        """(sentences, themes): each theme's best prototype cosine."""
        cosine = _unit(self._embed(sentences)) @ self.prototypes_.T
        out = np.full((len(sentences), self.label_space_.n_themes), -1.0)
        for j in range(self.label_space_.n_themes):
            mine = self.prototype_theme_ == j
            if mine.any():
                out[:, j] = cosine[:, mine].max(axis=1)
        return out

    def _polarity(self, ref_proba: np.ndarray, ref_presence: np.ndarray, ref_polarities: Sequence[str]) -> np.ndarray:
        """(sentences, our polarities): the reference's polarity mass, weighted by its theme presence."""
        conditional = ref_proba[:, :, 1:] / np.clip(ref_proba[:, :, 1:].sum(axis=2, keepdims=True), 1e-9, None)
        mass = (ref_presence[:, :, None] * conditional).sum(axis=1)
        ours = np.zeros((len(mass), len(self.label_space_.polarities)))
        for k, name in enumerate(self.label_space_.polarities):
            if name in ref_polarities:
                ours[:, k] = mass[:, list(ref_polarities).index(name)]
        total = ours.sum(axis=1, keepdims=True)
        even = np.full_like(ours, 1.0 / ours.shape[1])
        return np.where(total > 0, ours / np.clip(total, 1e-12, None), even)

    # -- artifacts --------------------------------------------------------------------
    def _save_weights(self, directory: Path) -> None:
        from safetensors.numpy import save_file

        save_file(
            {
                "prototypes": self.prototypes_.astype(np.float32),
                "prototype_theme": self.prototype_theme_,
                "transfer": self.transfer_,
            },
            str(directory / artifact.WEIGHTS),
        )

    def _load_weights(self, directory: Path) -> None:
        weights = directory / artifact.WEIGHTS
        tensors = artifact.load_tensors(weights)
        prototypes, theme, transfer = (tensors.get(k) for k in ("prototypes", "prototype_theme", "transfer"))
        n = self.label_space_.n_themes
        if prototypes is None or theme is None or transfer is None:
            raise artifact.ModelFileError(f"{weights}: needs the tensors prototypes, prototype_theme and transfer")
        if prototypes.ndim != 2 or theme.shape != (len(prototypes),) or transfer.ndim != 2 or len(transfer) != n:
            raise artifact.ModelFileError(f"{weights}: tensor shapes do not fit each other and {artifact.LABELS}")
        if theme.dtype.kind not in "iu" or (len(theme) and (theme.min() < 0 or theme.max() >= n)):
            raise artifact.ModelFileError(f"{weights}: prototype_theme must hold theme indices below {n}")
        self.prototypes_, self.prototype_theme_, self.transfer_ = prototypes, theme.astype(np.int64), transfer
        if transfer.shape[1] != self._reference().label_space_.n_themes:
            raise artifact.ModelFileError(
                f"{weights}: 'transfer' has {transfer.shape[1]} columns but the reference model "
                f"{self.reference_model!r} has {self._reference().label_space_.n_themes} themes"
            )


def reading_units(sentence: str) -> list[str]:
    """The sentence, and its clauses when a contrast or list joins two of them ("the food was
    great but the service slow"): one theme per unit would otherwise keep only one of the two."""
    clauses = [c.strip() for c in CLAUSE_BREAK.split(sentence) if c and len(c.split()) >= MIN_CLAUSE_WORDS]
    return [sentence, *clauses] if len(clauses) > 1 else [sentence]


def build_zeroshot(taxonomy: Taxonomy, **params) -> ZeroShotClassifier:
    """A fitted zero-shot model of ``taxonomy`` (params: the ``zeroshot`` table in models.params)."""
    return ZeroShotClassifier(**params).build(taxonomy)


def theme_texts(theme) -> list[str]:
    """What a theme is compared with: name + description, each keyword, each example."""
    head = f"{theme.name}. {theme.description}".strip() if theme.description else theme.name
    return [head, *theme.keywords, *theme.examples]


def check_taxonomy(taxonomy: Taxonomy) -> None:
    """Every theme needs words to compare with beyond its id: a description, keywords or examples."""
    bare = [t.id for t in taxonomy.themes if not (t.description or t.keywords or t.examples)]
    if bare:
        raise ZeroShotError(
            f"taxonomy {taxonomy.version!r}: theme(s) {', '.join(bare[:5])} have no description, keywords or "
            "examples; a zero-shot model compares comments with those words, so give each theme a description"
        )


def transfer_matrix(similarity: np.ndarray) -> np.ndarray:
    """(user themes, reference themes): each reference theme's share for each user theme.

    A reference theme splits its presence over the user themes described most like it (a sharp
    softmax), scaled down to nothing as its best description cosine falls to ``TRANSFER_FLOOR``."""
    if similarity.size == 0:
        return similarity
    best = similarity.max(axis=0, keepdims=True)
    share = np.exp((similarity - best) / TRANSFER_TEMPERATURE)
    share /= share.sum(axis=0, keepdims=True)
    return share * np.clip((best - TRANSFER_FLOOR) / (TRANSFER_FULL - TRANSFER_FLOOR), 0, 1)


def reference_path(name: str) -> Path:
    if name == REFERENCE_DEFAULT:
        return Path(str(resources.files("themesift") / "default_model"))
    return Path(name).expanduser()


def _reference_texts(reference: ThemeClassifier, path: Path) -> list[str]:
    """The reference's theme descriptions, from its taxonomy.json when it has one, else its theme ids."""
    described: dict[str, str] = {}
    if (path / artifact.TAXONOMY).is_file():
        taxonomy = Taxonomy.from_json(artifact.read_json(path / artifact.TAXONOMY), str(path / artifact.TAXONOMY))
        described = {t.id: f"{t.name}. {t.description}".strip() for t in taxonomy.themes}
    return [described.get(t, t.replace("_", " ")) for t in reference.label_space_.themes]


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.clip(np.linalg.norm(x, axis=-1, keepdims=True), 1e-9, None)
