"""Frozen encoder embeddings + one multinomial logistic head per theme.

Cheap to train (one encoding pass), and the base model stays the pip-shipped one, so the
artifact is only the heads. ``contrastive_steps`` > 0 adds a SetFit-style step first: the
encoder is tuned so that texts sharing a label sit closer together, which is what makes a
few examples per theme usable.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file

from themesift.models import artifact
from themesift.models.base import ThemeClassifier
from themesift.models.encoder import DEFAULT_BASE_MODEL, encode, load_tokenizer_and_encoder
from themesift.models.heads import fit_linear_heads, softmax_per_theme
from themesift.models.onnx_backend import resolve_backend, runner_for
from themesift.models.windows import token_counter

ENCODER_WEIGHTS = "encoder.safetensors"


class EmbedClassifier(ThemeClassifier):
    """Parameters: the ``embed`` table in models.params (``python -m themesift.models.params embed``)."""

    family = "embed"

    def __init__(
        self,
        base_model: str = DEFAULT_BASE_MODEL,
        C: float = 4.0,
        max_length: int = 256,
        batch_size: int = 64,
        contrastive_steps: int = 0,
        contrastive_lr: float = 2e-5,
        seed: int = 0,
        backend: str | None = None,
    ):
        self.base_model = base_model
        self.C = C
        self.max_length = max_length
        self.batch_size = batch_size
        self.contrastive_steps = contrastive_steps
        self.contrastive_lr = contrastive_lr
        self.seed = seed
        self.backend = backend  # inference only: "torch" | "onnx" | "onnx-int8"; None = THEMESIFT_BACKEND or default

    def _encoder(self):
        if not hasattr(self, "encoder_"):
            self.tokenizer_, self.encoder_ = load_tokenizer_and_encoder(self.base_model)
        return self.tokenizer_, self.encoder_

    def embed(self, texts: list[str], progress: bool = False, *, backend: str | None = None) -> np.ndarray:
        tokenizer, encoder = self._encoder()
        backend = resolve_backend(backend or self.backend)  # backend: ONNX Runtime when selected
        if backend != "torch":
            if getattr(self, "_onnx_", None) is None or self._onnx_[0] != backend:
                from themesift.models.finetune_network import PooledEncoder

                self._onnx_ = (backend, runner_for(PooledEncoder(encoder), backend))
            return self._onnx_[1].run(tokenizer, texts, max_length=self.max_length, batch_size=self.batch_size)
        return encode(
            tokenizer, encoder, texts, batch_size=self.batch_size, max_length=self.max_length, progress=progress
        )

    def _fit(self, texts, y, dev) -> None:
        tokenizer, encoder = self._encoder()
        if self.contrastive_steps > 0:
            from themesift.models.contrastive import contrastive_tune

            contrastive_tune(
                tokenizer,
                encoder,
                texts,
                y,
                steps=self.contrastive_steps,
                lr=self.contrastive_lr,
                max_length=self.max_length,
                seed=self.seed,
            )
            self.encoder_tuned_ = True
        self._onnx_ = None  # backend: the encoder may have changed; training embeds with torch
        X = self.embed(texts, progress=len(texts) > 500, backend="torch")
        self.coef_, self.bias_ = fit_linear_heads(X, y, self.label_space_.n_classes, C=self.C, seed=self.seed)

    def _window_limit(self):
        return token_counter(self._encoder()[0]), self.max_length  # long texts are read in windows (models.windows)

    def _predict_proba(self, texts):
        logits = self.embed(texts) @ self.coef_ + self.bias_
        return softmax_per_theme(logits, self.label_space_.n_themes, self.label_space_.n_classes)

    def _save_weights(self, directory: Path) -> None:
        save_file({"coef": self.coef_, "bias": self.bias_}, str(directory / artifact.WEIGHTS))
        if getattr(self, "encoder_tuned_", False):
            from safetensors.torch import save_file as save_torch

            state = {k: v.contiguous() for k, v in self.encoder_.state_dict().items()}
            save_torch(state, str(directory / ENCODER_WEIGHTS))

    def _load_weights(self, directory: Path) -> None:
        tensors = load_file(str(directory / artifact.WEIGHTS))
        self.coef_, self.bias_ = tensors["coef"], tensors["bias"]
        if (directory / ENCODER_WEIGHTS).is_file():
            from safetensors.torch import load_file as load_torch

            _, encoder = self._encoder()
            encoder.load_state_dict(load_torch(str(directory / ENCODER_WEIGHTS)))
            self.encoder_tuned_ = True
        self._onnx_ = None  # backend: built on first predict
