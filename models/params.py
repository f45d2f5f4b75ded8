"""Every family's parameters in one table each (type, range, default, one-line doc), checked here.

Like SetFit's ``TrainingArguments``, the table is the reference for what a family accepts: the
constructors only store values, and ``check_params`` is the one place that refuses a wrong type,
an out-of-range number or an unknown key. It runs in ``make_model`` (so ``themesift train --param``),
``set_params``, ``fit`` and when a model folder is loaded, since a ``config.json`` is untrusted
input: ``ngram_max: 1e9`` or ``lora_alpha: 1e308`` would otherwise exhaust memory or turn the
weights into NaN without a word. Ranges are generous bounds against such values, not advice.

A *retired* parameter (an experiment that lost on dev) is still read from old model folders,
but only at its neutral value, and is never passed on.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any, Mapping

from themesift.models.audience import AUDIENCES

# None (the default) + models.onnx_backend.BACKENDS, and finetune_network.POOLINGS: not imported, as
# both modules pull in the runtimes; tests/test_model_files.py checks that the copies agree
BACKENDS = (None, "torch", "onnx", "onnx-int8")
POOLINGS = ("mean", "theme_attention")
MAX_MEMBERS = 32
MAX_WEIGHT = 1e6
MAX_TEXT = 4096


class ParamError(ValueError):
    """A parameter of the wrong type, out of its range, or unknown to the family: one line."""


@dataclass(frozen=True)
class Param:
    """One row of a family's table. ``kind``: int, float, bool, str, choice, weights, routes, members.

    ``low``/``high`` bound numbers (inclusive; ``open_low`` makes ``low`` exclusive), ``choices``
    lists a choice's values, ``optional`` allows None, ``retired`` accepts only ``default``."""

    kind: str
    default: Any
    doc: str
    low: float | None = None
    high: float | None = None
    open_low: bool = False
    choices: tuple = ()
    optional: bool = False
    retired: bool = False


SEED = Param("int", 0, "random seed: the same data and seed give the same model", 0, 2**32 - 1)
BASE_MODEL = Param("str", "all-MiniLM-L6-v2", "the encoder: the packaged MiniLM's name or a local folder")
BACKEND = Param("choice", None, "inference runtime; None: THEMESIFT_BACKEND, else onnx-int8", choices=BACKENDS)

PARAMS: dict[str, dict[str, Param]] = {
    "tfidf": {
        "ngram_max": Param("int", 2, "longest word n-gram used as a feature", 1, 6),
        "min_df": Param("int", 2, "a term must occur in this many training texts", 1, 10**6),
        "max_features": Param("int", 50000, "vocabulary size cap (most frequent terms)", 1, 10**7, optional=True),
        "C": Param("float", 8.0, "inverse L2 strength of each theme's logistic regression", 0, 1e6, open_low=True),
        "max_iter": Param("int", 2000, "solver iterations per theme", 1, 10**6),
        "class_weight": Param("choice", None, "'balanced' reweights rare classes", choices=(None, "balanced")),
        "seed": SEED,
    },
    "embed": {
        "base_model": BASE_MODEL,
        "C": Param("float", 4.0, "inverse L2 strength of the heads on frozen embeddings", 0, 1e6, open_low=True),
        "max_length": Param("int", 256, "tokens read per text", 8, 8192),
        "batch_size": Param("int", 64, "texts encoded per batch", 1, 4096),
        "contrastive_steps": Param("int", 0, "SetFit-style contrastive steps before the heads; 0 = off", 0, 10**6),
        "contrastive_lr": Param("float", 2e-5, "learning rate of the contrastive steps", 0, 1, open_low=True),
        "seed": SEED,
        "backend": BACKEND,
    },
    "finetune": {
        "base_model": BASE_MODEL,
        "lora_r": Param("int", 16, "LoRA rank; 0 fine-tunes (and stores) every encoder weight", 0, 1024),
        "lora_alpha": Param("float", 32, "LoRA scale numerator (scale = lora_alpha / lora_r)", 0, 4096, open_low=True),
        "lora_dropout": Param("float", 0.05, "dropout on the LoRA inputs", 0, 0.9),
        "epochs": Param("int", 4, "passes over the training data (fewer with early stopping)", 1, 1000),
        "lr": Param(
            "float",
            None,
            "encoder learning rate; None: 1e-3 with LoRA, 5e-5 without",
            0,
            1,
            open_low=True,
            optional=True,
        ),
        "head_lr": Param("float", 1e-3, "learning rate of the theme heads", 0, 1, open_low=True),
        "batch_size": Param("int", 32, "texts per optimiser step (before grad_accum)", 1, 4096),
        "grad_accum": Param("int", 1, "batches accumulated per optimiser step", 1, 1024),
        "warmup": Param("float", 0.1, "fraction of the steps with a rising learning rate", 0, 1),
        "weight_decay": Param("float", 0.01, "AdamW weight decay", 0, 1),
        "max_length": Param("int", 256, "tokens read per text", 8, 8192),
        "class_weighting": Param("bool", True, "weight each theme's classes by inverse frequency"),
        "patience": Param("int", 1, "epochs without a dev gain tolerated before stopping", 0, 1000),
        "seed": SEED,
        "init_seed": Param(
            "int", None, "seed of the head and adapter initialisation; None: seed", 0, 2**32 - 1, optional=True
        ),
        "pooling": Param("choice", "mean", "how token vectors become the heads' input", choices=POOLINGS),
        "theme_pairs": Param("bool", False, "retired: lost on dev", retired=True),
        "ema": Param("float", 0.0, "retired: lost on dev", retired=True),
        "progress": Param("bool", True, "show a progress bar while training"),
        "infer_batch_size": Param("int", 64, "texts per inference batch", 1, 4096),
        "backend": BACKEND,
    },
    "zeroshot": {
        "base_model": BASE_MODEL,
        "reference_model": Param(
            "str", "default", "model whose themes transfer and whose polarity is used: 'default' or a local folder"
        ),
        "similarity_floor": Param("float", 0.25, "lowest sentence score that can carry a theme", -1, 2),
        "margin": Param("float", 0.03, "a sentence also gets themes this close to its best one", 0, 2),
        "transfer_weight": Param("float", 0.3, "weight of the reference model's matching themes in a score", 0, 10),
        "gate": Param("float", 0.4, "reference presence from which a sentence counts as carrying a theme", 0, 1),
        "strong_similarity": Param("float", 0.4, "similarity that carries a theme without the gate", -1, 2),
        "max_length": Param("int", 256, "tokens read per sentence", 8, 8192),
        "batch_size": Param("int", 64, "sentences encoded per batch", 1, 4096),
        "backend": BACKEND,
    },
    "ensemble": {
        "members": Param(
            "members",
            ({"family": "finetune"}, {"family": "tfidf"}),
            f"member specs, each {{'family': ..., params...}}; at most {MAX_MEMBERS}",
        ),
        "weights": Param("weights", None, "one weight per member for the average; None: equal", optional=True),
        "seed": SEED,
        "routes": Param("routes", None, "per audience (employee, customer), its own member weights", optional=True),
    },
}


def table(family: str) -> dict[str, Param]:
    """The family's parameter table (see PARAMS)."""
    try:
        return PARAMS[family]
    except KeyError:
        raise ParamError(f"unknown model family {family!r}; choose one of {', '.join(PARAMS)}") from None


def public_params(family: str) -> dict[str, Param]:
    """The parameters a user may set (retired ones left out)."""
    return {k: p for k, p in table(family).items() if not p.retired}


def check_params(family: str, params: Mapping[str, Any], where: str = "") -> dict[str, Any]:
    """``params`` checked against the family's table; returns them without retired keys.

    ``where`` prefixes every message (a file name, ``members[1]: ``). Raises ParamError naming
    the key and what it accepts."""
    if not isinstance(params, Mapping):
        raise ParamError(f"{where}{family} parameters must be an object of name: value, got {_show(params)}")
    rows = table(family)
    out = {}
    for key, value in params.items():
        row = rows.get(key)
        if row is None:
            raise ParamError(
                f"{where}{family} has no parameter {key!r} (its parameters: {', '.join(public_params(family))})"
            )
        if row.retired:
            if value != row.default or _is_bool(value) != _is_bool(row.default):
                raise ParamError(
                    f"{where}{family} parameter {key!r} was removed from themesift (only "
                    f"{_show(row.default)} is read), got {_show(value)}"
                )
            continue
        _check_value(family, key, row, value, params, where)
        out[key] = value
    return out


def _check_value(family: str, key: str, row: Param, value: Any, params: Mapping[str, Any], where: str) -> None:
    if value is None and (row.optional or (row.kind == "choice" and None in row.choices)):
        return
    ok = {"int": _is_int, "float": _is_real, "bool": _is_bool, "str": _is_text}.get(row.kind)
    if ok is not None:
        good = ok(value) and (row.kind not in ("int", "float") or _in_range(row, value))
    elif row.kind == "choice":
        good = isinstance(value, str) and value in row.choices
    elif row.kind == "weights":
        good = _is_weights(value, params)
    elif row.kind == "routes":
        good = isinstance(value, Mapping) and all(a in AUDIENCES and _is_weights(w, params) for a, w in value.items())
    elif row.kind == "members":
        _check_members(value, where)
        return
    else:  # pragma: no cover - a typo in the table itself
        raise AssertionError(f"unknown parameter kind {row.kind!r}")
    if not good:
        raise ParamError(f"{where}{family} parameter {key!r} must be {describe(row)}, got {_show(value)}")


def _check_members(value: Any, where: str) -> None:
    if isinstance(value, (str, bytes, Mapping)) or not hasattr(value, "__len__") or not 1 <= len(value) <= MAX_MEMBERS:
        raise ParamError(
            f"{where}ensemble parameter 'members' must be {describe(PARAMS['ensemble']['members'])}, got {_show(value)}"
        )
    for i, spec in enumerate(value):
        if not isinstance(spec, Mapping) or spec.get("family") not in PARAMS:
            raise ParamError(
                f"{where}ensemble members[{i}] must be an object whose 'family' is one of "
                f"{', '.join(PARAMS)}, got {_show(spec)}"
            )
        check_params(spec["family"], {k: v for k, v in spec.items() if k != "family"}, f"{where}members[{i}]: ")


def describe(row: Param) -> str:
    """What a row accepts, in words: the range part of every error message."""
    none = " (or null)" if row.optional else ""
    if row.kind in ("int", "float"):
        what = "an integer" if row.kind == "int" else "a number"
        low = f"above {_num(row.low)} and at most" if row.open_low else f"from {_num(row.low)} to"
        return f"{what} {low} {_num(row.high)}{none}"
    if row.kind == "bool":
        return "true or false"
    if row.kind == "str":
        return f"a non-empty text of at most {MAX_TEXT} characters"
    if row.kind == "choice":
        return "one of " + ", ".join("null" if c is None else repr(c) for c in row.choices)
    if row.kind == "weights":
        return f"a list of numbers from 0 to {_num(MAX_WEIGHT)}, one per member, not all 0{none}"
    if row.kind == "routes":
        return f"an object of audience ({', '.join(AUDIENCES)}): member weights{none}"
    return f"a list of 1 to {MAX_MEMBERS} member specs, each {{'family': ..., params...}}"


def _is_int(v: Any) -> bool:
    return isinstance(v, numbers.Integral) and not _is_bool(v)


def _is_real(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not _is_bool(v) and math.isfinite(v)


def _is_bool(v: Any) -> bool:
    return type(v).__name__ in ("bool", "bool_")


def _is_text(v: Any) -> bool:
    return isinstance(v, str) and 0 < len(v) <= MAX_TEXT


def _in_range(row: Param, v: Any) -> bool:
    above = v > row.low if row.open_low else v >= row.low
    return above and v <= row.high


def _is_weights(value: Any, params: Mapping[str, Any]) -> bool:
    if isinstance(value, (str, bytes, Mapping)) or not hasattr(value, "__iter__"):
        return False
    w = list(value)
    members = params.get("members", PARAMS["ensemble"]["members"].default)
    n = len(members) if hasattr(members, "__len__") else -1
    return len(w) == n and all(_is_real(x) and 0 <= x <= MAX_WEIGHT for x in w) and any(x > 0 for x in w)


def _num(x: float | None) -> str:
    return "any" if x is None else (f"{x:g}" if isinstance(x, float) else str(x))


def _show(value: Any) -> str:
    if isinstance(value, (list, tuple, dict)) and len(value) > 20:
        return f"a {type(value).__name__} of {len(value)} items"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def markdown(family: str) -> str:
    """The family's table as Markdown (``python -m themesift.models.params [FAMILY]``)."""
    lines = [f"`{family}` | type and range | default | what", "|---|---|---|---|"]
    lines[0] = "| " + lines[0] + " |"
    for key, row in public_params(family).items():
        default = "null" if row.default is None else repr(row.default)
        lines.append(f"| `{key}` | {describe(row)} | `{default}` | {row.doc} |")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover - a reference printout
    import sys

    print("\n\n".join(markdown(f) for f in (sys.argv[1:] or PARAMS)))
