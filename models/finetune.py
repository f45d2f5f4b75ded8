"""Fine-tuned transformer encoder with one {absent, polarities...} softmax per theme.

With ``lora_r`` > 0 (the default) only LoRA adapters (via ``peft``) and the head are
trained, so an artifact is a few MB on top of the pip-shipped base; ``lora_r=0`` fine-tunes
every weight and stores the whole encoder. Adapters are merged into the base at load time,
so inference costs the same as the plain encoder.

A loaded model whose ONNX export is already cached (models.onnx_backend, found by a key made
from the artifact's files) builds no torch network at all: it runs the verified export with the
base model's ``tokenizer.json`` (encoder.TextTokenizer), so a cold start imports neither torch,
transformers nor peft. The network is built from the weights read at load time when something
needs it (the torch backend, an export, a soup, training).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from themesift.models import artifact
from themesift.models.base import ThemeClassifier
from themesift.models.encoder import (
    DEFAULT_BASE_MODEL,
    BaseModelNotFound,
    TextTokenizer,
    configure_threads,
    length_sorted_batches,
    load_tokenizer_and_encoder,
    resolve_base_model,
)
from themesift.models.heads import softmax_per_theme
from themesift.models.onnx_backend import (
    cached_runner,
    folder_fingerprint,
    pad_batch,
    resolve_backend,
    runner_for,
    source_key,
)
from themesift.models.windows import token_counter

LORA_TARGETS = (
    r".*encoder\.layer\.\d+\.(attention\.self\.(query|key|value)|attention\.output\.dense"
    r"|intermediate\.dense|output\.dense)"
)
_LAZY = ("network_", "tokenizer_", "lora_state_")  # built on first use from a loaded artifact (see __getattr__)


class FinetuneClassifier(ThemeClassifier):
    """Parameters: the ``finetune`` table in models.params (``python -m themesift.models.params finetune``)."""

    family = "finetune"

    def __init__(
        self,
        base_model: str = DEFAULT_BASE_MODEL,
        lora_r: int = 16,
        lora_alpha: int = 32,
        lora_dropout: float = 0.05,
        epochs: int = 4,
        lr: float | None = None,
        head_lr: float = 1e-3,
        batch_size: int = 32,
        grad_accum: int = 1,
        warmup: float = 0.1,
        weight_decay: float = 0.01,
        max_length: int = 256,
        class_weighting: bool = True,
        patience: int = 1,
        seed: int = 0,
        init_seed: int | None = None,
        pooling: str = "mean",
        progress: bool = True,
        infer_batch_size: int = 64,
        backend: str | None = None,
    ):
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
        self.progress = progress
        self.infer_batch_size = infer_batch_size
        self.backend = backend  # inference only: "torch" | "onnx" | "onnx-int8"; None = THEMESIFT_BACKEND or default

    def __getattr__(self, name: str) -> Any:
        """``network_``, ``lora_state_`` and ``tokenizer_`` of a loaded model that has not built its
        network (its ONNX export was cached): built now from the weights read at load time."""
        state = self.__dict__
        if name not in _LAZY or "weights_bytes_" not in state:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        if name == "tokenizer_":
            tokenizer = TextTokenizer.for_base_model(self.base_model)  # no transformers: enough to count and run
            if tokenizer is not None:
                state["tokenizer_"] = tokenizer
                return tokenizer
        self._build_loaded()
        if name not in state:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return state[name]

    # -- building ---------------------------------------------------------------------
    def _lora_config(self):
        from peft import LoraConfig

        return LoraConfig(
            r=self.lora_r, lora_alpha=self.lora_alpha, lora_dropout=self.lora_dropout, target_modules=LORA_TARGETS
        )

    def _build(self, with_lora: bool) -> None:
        from themesift.models.finetune_network import ThemeNetwork

        self.tokenizer_, encoder = load_tokenizer_and_encoder(self.base_model)
        if with_lora:
            from peft import get_peft_model

            encoder = get_peft_model(encoder, self._lora_config())
        self.network_ = ThemeNetwork(
            encoder, self.label_space_.n_themes, self.label_space_.n_classes, pooling=self.pooling
        )

    def _forget_artifact(self) -> None:
        """The network is about to change: the artifact's bytes and cache key no longer describe it."""
        self.__dict__.pop("weights_bytes_", None)
        self.source_key_ = None
        self._onnx_ = None

    def _fit(self, texts, y, dev) -> None:
        import torch

        from themesift.models.finetune_loop import TrainSettings, train_network

        torch.manual_seed(self.seed if self.init_seed is None else self.init_seed)
        self._forget_artifact()  # backend: stale after a refit
        self._build(with_lora=self.lora_r > 0)
        settings = TrainSettings(
            epochs=self.epochs,
            lr=self.lr or (1e-3 if self.lora_r > 0 else 5e-5),
            head_lr=self.head_lr,
            batch_size=self.batch_size,
            grad_accum=self.grad_accum,
            warmup=self.warmup,
            weight_decay=self.weight_decay,
            max_length=self.max_length,
            class_weighting=self.class_weighting,
            patience=self.patience,
            seed=self.seed,
            progress=self.progress,
        )
        self.history_ = train_network(
            self.network_,
            self.tokenizer_,
            texts,
            y,
            self.label_space_.n_classes,
            settings,
            dev=dev,
            predict_proba=self._torch_proba,
        )
        self.network_.eval()

    # -- inference --------------------------------------------------------------------
    def _window_limit(self):
        return token_counter(self.tokenizer_), self.max_length  # long texts are read in windows (models.windows)

    def _predict_proba(self, texts):
        # backend: ONNX Runtime when selected (onnx_backend.py); the export merges LoRA in a copy
        backend = resolve_backend(self.backend)
        if backend == "torch":
            return self._torch_proba(texts)
        if getattr(self, "_onnx_", None) is None or self._onnx_[0] != backend:
            key = getattr(self, "source_key_", None)
            runner = cached_runner(key, backend) if key else None
            self._onnx_ = (backend, runner or runner_for(self.network_, backend, key=key))
        logits = self._onnx_[1].run(
            self.tokenizer_, texts, max_length=self.max_length, batch_size=self.infer_batch_size
        )
        space = self.label_space_
        if len(texts) and logits.shape[1] != space.n_themes * space.n_classes:
            raise ValueError(
                f"the ONNX export {self._onnx_[1].path} gives {logits.shape[1]} outputs, not "
                f"{space.n_themes} themes × {space.n_classes} classes"
            )
        return softmax_per_theme(logits, space.n_themes, space.n_classes).astype(np.float32)

    def _torch_proba(self, texts):
        import torch

        configure_threads()
        network = self.network_  # first: building it also sets the tokenizer that goes with it
        network.eval()
        n_themes, n_classes = self.label_space_.n_themes, self.label_space_.n_classes
        ids = self.tokenizer_(list(texts), truncation=True, max_length=self.max_length)["input_ids"]
        pad_id = self.tokenizer_.pad_token_id or 0
        out = np.zeros((len(texts), n_themes, n_classes), dtype=np.float32)
        with torch.inference_mode():
            for idx in length_sorted_batches([len(t) for t in texts], self.infer_batch_size):
                input_ids, mask = pad_batch([ids[i] for i in idx], pad_id)
                logits = network(input_ids=torch.from_numpy(input_ids), attention_mask=torch.from_numpy(mask))
                out[idx] = torch.softmax(logits.view(len(idx), n_themes, n_classes).float(), dim=-1).numpy()
        return out

    # -- artifacts --------------------------------------------------------------------
    def _save_weights(self, directory: Path) -> None:
        if "weights_bytes_" in self.__dict__:  # loaded and unchanged: the same bytes, no torch needed
            (directory / artifact.WEIGHTS).write_bytes(self.weights_bytes_)
            return
        from safetensors.torch import save_file

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
        """Read the weights; build the network only when no verified ONNX export of them is cached."""
        self.__dict__.pop("network_", None)
        self.__dict__.pop("tokenizer_", None)
        self.__dict__.pop("lora_state_", None)
        self.weights_bytes_ = (directory / artifact.WEIGHTS).read_bytes()
        try:
            self.source_key_ = self._source_key()
        except BaseModelNotFound as exc:  # a hub id not downloaded: one line naming the file, and the switch
            raise artifact.ModelFileError(f"{directory / artifact.CONFIG}: {exc}") from None
        self._onnx_ = None
        backend = resolve_backend(self.backend)
        if backend != "torch":
            runner = cached_runner(self.source_key_, backend)
            if runner is not None:
                self._onnx_ = (backend, runner)
                return
        self._build_loaded()  # now, so a weights file that does not fit fails at load, as it always did

    def _source_key(self) -> str:
        """What the exported graph is made of: the weights' bytes, the base model, the shape-giving params."""
        space = self.label_space_
        return source_key(
            self.family,
            f"pooling={self.pooling}|lora_r={self.lora_r}|lora_alpha={self.lora_alpha}",
            f"themes={space.n_themes}|classes={space.n_classes}",
            folder_fingerprint(resolve_base_model(self.base_model)),
            self.weights_bytes_,
        )

    def _build_loaded(self) -> None:
        """The torch network from the weights read at load time (LoRA merged into the base)."""
        from safetensors.torch import load as load_tensors

        state = load_tensors(self.weights_bytes_)
        part = lambda prefix: {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}  # noqa: E731
        self._build(with_lora=False)
        if self.lora_r > 0:
            self.lora_state_ = part("lora.")
            merge_lora(self.network_.encoder, self.lora_state_, scale=self.lora_alpha / self.lora_r)
        else:
            self.network_.encoder.load_state_dict(part("encoder."))
        self.network_.head.load_state_dict(part("head."))
        self.network_.eval()
        del self.weights_bytes_  # the network holds them now (and save() reads them from it)


def merge_lora(encoder, lora_state: dict, scale: float) -> None:
    """Fold peft-format LoRA adapters into the base weights: W += scale · B·A.

    Doing this by hand keeps ``peft`` (slow to import) off the inference path, and the
    merged model runs exactly as fast as the plain encoder.
    """
    import torch

    modules = dict(encoder.named_modules())
    merged = 0
    with torch.no_grad():
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
