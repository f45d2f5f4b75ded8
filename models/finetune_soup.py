"""Average fine-tuned models into one ("model soup", Wortsman et al. 2022).

Runs that start from the same base and the same head/adapter initialisation (``init_seed``)
and differ only in data order and dropout (``seed``) tend to end in one basin, so the mean of
their weights can be a better model than each, at one model's cost (on SemEval-2014 dev it
was). LoRA adapters are merged into the base first: the soup averages the fine-tuned weights
W0 + scale·B·A, not A and B apart.
"""

from __future__ import annotations

import copy
from typing import Sequence

import numpy as np
import torch

from themesift.models.finetune import FinetuneClassifier

# Parameters the ingredients may differ in; everything else must match.
_FREE = {"seed", "progress", "infer_batch_size", "backend"}


def _merged_network(model: FinetuneClassifier) -> torch.nn.Module:
    network = copy.deepcopy(model.network_)
    if hasattr(network.encoder, "peft_config"):
        network.encoder = network.encoder.merge_and_unload()
    return network


def weight_soup(models: Sequence[FinetuneClassifier]) -> FinetuneClassifier:
    """One model whose weights are the mean of ``models``' (thresholds reset: tune them on dev)."""
    if not models or not all(isinstance(m, FinetuneClassifier) and hasattr(m, "network_") for m in models):
        raise ValueError("a soup needs one or more fitted finetune models")
    first = models[0]
    init = lambda m: m.seed if m.init_seed is None else m.init_seed  # noqa: E731
    for m in models[1:]:
        fixed = {k: v for k, v in m.get_params().items() if k not in _FREE}
        if fixed != {k: v for k, v in first.get_params().items() if k not in _FREE} or init(m) != init(first):
            raise ValueError(
                f"soup ingredients must share every setting but seed (and the same init_seed): {first!r} vs {m!r}"
            )
        if m.label_space_ != first.label_space_:
            raise ValueError("soup ingredients must share one label space")
    networks = [_merged_network(m) for m in models]
    states = [n.state_dict() for n in networks]
    mean = {
        k: (sum(s[k].double() for s in states) / len(states)).to(v.dtype) if v.is_floating_point() else v
        for k, v in states[0].items()
    }
    soup = copy.copy(first)
    soup._forget_artifact()  # new weights: neither the first run's bytes nor its ONNX export describe them
    soup.network_ = networks[0]
    soup.network_.load_state_dict(mean)
    soup.network_.eval()
    # the weights are now a whole encoder, saved as one; where they came from goes in the history
    soup.set_params(lora_r=0, init_seed=init(first))
    soup.history_ = [{**row, "ingredient_seed": m.seed} for m in models for row in (getattr(m, "history_", None) or [])]
    soup.thresholds_ = np.full(first.label_space_.n_themes, 0.5)
    soup.audience_ = first.audience_
    soup.__dict__.pop("lora_state_", None)
    return soup
