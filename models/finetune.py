"""Fine-tuned transformer encoder with one {absent, polarities...} softmax per theme.

With ``lora_r`` > 0 (the default) only LoRA adapters (via ``peft``) and the head are
trained, so an artifact is a few MB on top of the pip-shipped base; ``lora_r=0`` fine-tunes
every weight and stores the whole encoder. Adapters are merged into the base at load time,
so inference costs the same as the plain encoder. ``theme_pairs=True`` reads each text once
per theme, paired with the theme's name (finetune_network.ThemePairs).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from themesift.models import artifact
from themesift.models.base import ThemeClassifier
from themesift.models.encoder import (DEFAULT_BASE_MODEL, configure_threads, length_sorted_batches,
                                      load_tokenizer_and_encoder)
from themesift.models.finetune_loop import TrainSettings, train_network
from themesift.models.finetune_network import ThemeNetwork, ThemePairs
from themesift.models.heads import softmax_per_theme
from themesift.models.windows import token_counter
from themesift.models.onnx_backend import resolve_backend, runner_for

LORA_TARGETS = r".*encoder\.layer\.\d+\.(attention\.self\.(query|key|value)|attention\.output\.dense|intermediate\.dense|output\.dense)"


class FinetuneClassifier(ThemeClassifier):
    family = "finetune"

    def __init__(self, base_model: str = DEFAULT_BASE_MODEL, lora_r: int = 16, lora_alpha: int = 32,
                 lora_dropout: float = 0.05, epochs: int = 4, lr: float | None = None, head_lr: float = 1e-3,
                 batch_size: int = 32, grad_accum: int = 1, warmup: float = 0.1, weight_decay: float = 0.01,
                 max_length: int = 256, class_weighting: bool = True, patience: int = 1, seed: int = 0,
                 init_seed: int | None = None, pooling: str = "mean", theme_pairs: bool = False, ema: float = 0.0,
                 progress: bool = True, infer_batch_size: int = 64, backend: str | None = None):
        self.base_model = base_model
        self.lora_r = lora_r
        self.lora_alpha = lora_alpha
        self.lora_dropout = lora_dropout
        self.epochs = epochs
        self.lr = lr
        self.head_lr = head_lr
        self.batch_size = batch_size
        self.grad_accum = grad_accum
        self.warmup = warmup
        self.weight_decay = weight_decay
        self.max_length = max_length
        self.class_weighting = class_weighting
        self.patience = patience  # epochs without a dev gain that are tolerated; the next one stops
        self.seed = seed
        self.init_seed = init_seed  # head + adapter initialisation (None: seed); shared by a soup's ingredients
        self.pooling = pooling
        self.theme_pairs = theme_pairs  # encode (theme, text) pairs, BERT-pair style: n_themes × the cost
        self.ema = ema  # decay of an exponential moving average of the weights; 0 = off
        self.progress = progress
        self.infer_batch_size = infer_batch_size
        self.backend = backend  # inference only: "torch" | "onnx" | "onnx-int8"; None = THEMESIFT_BACKEND or default

    # -- building ---------------------------------------------------------------------
    def _lora_config(self):
        from peft import LoraConfig

        return LoraConfig(r=self.lora_r, lora_alpha=self.lora_alpha, lora_dropout=self.lora_dropout,
                          target_modules=LORA_TARGETS)

    def _build(self, with_lora: bool) -> None:
        self.tokenizer_, encoder = load_tokenizer_and_encoder(self.base_model)
        if with_lora:
            from peft import get_peft_model

            encoder = get_peft_model(encoder, self._lora_config())
        pairs = None
        if self.theme_pairs:
            pairs = ThemePairs.for_encoder(self.tokenizer_, encoder.config, self.label_space_.themes, self.max_length)
        self.network_ = ThemeNetwork(encoder, self.label_space_.n_themes, self.label_space_.n_classes,
                                     pooling=self.pooling, pairs=pairs)

    def _fit(self, texts, y, dev) -> None:
        if not 0.0 <= self.ema < 1.0:  # 1 would freeze the average at the starting weights
            raise ValueError(f"ema is a decay in [0, 1), got {self.ema!r}")
        torch.manual_seed(self.seed if self.init_seed is None else self.init_seed)
        self._onnx_ = None  # backend: stale after a refit
        self._build(with_lora=self.lora_r > 0)
        settings = TrainSettings(
            epochs=self.epochs, lr=self.lr or (1e-3 if self.lora_r > 0 else 5e-5), head_lr=self.head_lr,
            batch_size=self.batch_size, grad_accum=self.grad_accum, warmup=self.warmup,
            weight_decay=self.weight_decay, max_length=self.max_length, class_weighting=self.class_weighting,
            patience=self.patience, seed=self.seed, progress=self.progress, ema=self.ema)
        self.history_ = train_network(self.network_, self.tokenizer_, texts, y, self.label_space_.n_classes,
                                      settings, dev=dev, predict_proba=self._torch_proba)
        self.network_.eval()

    # -- inference --------------------------------------------------------------------
    def _token_counter(self):
        return token_counter(self.tokenizer_)  # long texts are read in windows (models.windows)

    def _predict_proba(self, texts):
        # backend: ONNX Runtime when selected (onnx_backend.py); the export merges LoRA in a copy
        backend = resolve_backend(self.backend)
        if backend == "torch":
            return self._torch_proba(texts)
        if getattr(self, "_onnx_", None) is None or self._onnx_[0] != backend:
            self._onnx_ = (backend, runner_for(self.network_, backend))
        logits = self._onnx_[1].run(self.tokenizer_, texts, max_length=self.max_length,
                                    batch_size=self._texts_per_batch())
        return softmax_per_theme(logits, self.label_space_.n_themes, self.label_space_.n_classes).astype(np.float32)

    def _texts_per_batch(self) -> int:
        """With theme pairs a batch of texts is n_themes sequences each: keep the sequence count."""
        if not self.theme_pairs:
            return self.infer_batch_size
        return max(1, self.infer_batch_size // self.label_space_.n_themes)

    @torch.inference_mode()
    def _torch_proba(self, texts):
        configure_threads()
        self.network_.eval()
        n_themes, n_classes = self.label_space_.n_themes, self.label_space_.n_classes
        out = np.zeros((len(texts), n_themes, n_classes), dtype=np.float32)
        for idx in length_sorted_batches([len(t) for t in texts], self._texts_per_batch()):
            enc = self.tokenizer_([texts[i] for i in idx], padding=True, truncation=True,
                                  max_length=self.max_length, return_tensors="pt")
            logits = self.network_(**enc).view(len(idx), n_themes, n_classes)
            out[idx] = torch.softmax(logits.float(), dim=-1).numpy()
        return out

    # -- artifacts --------------------------------------------------------------------
    def _save_weights(self, directory: Path) -> None:
        state = {f"head.{k}": v for k, v in self.network_.head.state_dict().items()}
        encoder = self.network_.encoder
        if self.lora_r > 0:
            if hasattr(encoder, "peft_config"):
                from peft import get_peft_model_state_dict

                state.update({f"lora.{k}": v for k, v in get_peft_model_state_dict(encoder).items()})
            else:  # loaded from disk: adapters were merged, re-save the ones we read
                state.update({f"lora.{k}": v for k, v in self.lora_state_.items()})
        else:
            state.update({f"encoder.{k}": v for k, v in encoder.state_dict().items()})
        save_file({k: v.detach().contiguous() for k, v in state.items()}, str(directory / artifact.WEIGHTS))

    def _load_weights(self, directory: Path) -> None:
        state = load_file(str(directory / artifact.WEIGHTS))
        part = lambda prefix: {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}  # noqa: E731
        self._build(with_lora=False)
        if self.lora_r > 0:
            self.lora_state_ = part("lora.")
            merge_lora(self.network_.encoder, self.lora_state_, scale=self.lora_alpha / self.lora_r)
        else:
            self.network_.encoder.load_state_dict(part("encoder."))
        self.network_.head.load_state_dict(part("head."))
        self.network_.eval()


@torch.no_grad()
def merge_lora(encoder: torch.nn.Module, lora_state: dict[str, torch.Tensor], scale: float) -> None:
    """Fold peft-format LoRA adapters into the base weights: W += scale · B·A.

    Doing this by hand keeps ``peft`` (slow to import) off the inference path, and the
    merged model runs exactly as fast as the plain encoder.
    """
    modules = dict(encoder.named_modules())
    merged = 0
    for key, a in lora_state.items():
        if not key.endswith(".lora_A.weight"):
            continue
        name = key[: -len(".lora_A.weight")].removeprefix("base_model.model.")
        if name not in modules:
            raise ValueError(f"LoRA adapter for {name!r} does not match the base model")
        b = lora_state[key.replace(".lora_A.", ".lora_B.")]
        modules[name].weight += scale * (b.float() @ a.float()).to(modules[name].weight.dtype)
        merged += 1
    if merged == 0:
        raise ValueError("no LoRA adapters found in the weights file")
