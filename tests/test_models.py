"""Every family on real data and real weights: fit, predict, save, load without pickle."""

import json

import numpy as np
import pytest

from themesift.models.base import NotFittedError
from themesift.models.registry import load_artifact, make_model

TOY_TEXTS = [
    "The pay is terrible.",
    "Great pay and bonuses!",
    "My manager never listens.",
    "My manager is supportive.",
    "Nothing to add.",
    "Salary is fine, manager is awful.",
] * 4
TOY_LABELS = [
    ["pay:negative"],
    ["pay:positive"],
    ["manager:negative"],
    ["manager:positive"],
    [],
    ["pay:positive", "manager:negative"],
] * 4


def _check_contract(model, texts):
    proba = model.predict_proba(texts)
    assert proba.shape == (len(texts), len(model.themes), 4)
    assert np.allclose(proba.sum(axis=2), 1.0, atol=1e-5)
    preds = model.predict(texts)
    assert len(preds) == len(texts)
    for labels in preds:  # a theme is present at most once, always with a polarity
        themes = [lab.split(":")[0] for lab in labels]
        assert len(themes) == len(set(themes))
        assert all(lab.split(":")[1] in ("positive", "negative", "neutral") for lab in labels)
    return preds


def test_constructor_stores_params_and_unfitted_model_refuses():
    model = make_model("tfidf", C=3.0)
    assert model.get_params()["C"] == 3.0
    with pytest.raises(NotFittedError):
        model.predict(["x"])
    with pytest.raises(ValueError, match="unknown model family"):
        make_model("bert-xxl")


def test_tfidf_learns_and_round_trips(tmp_path):
    model = make_model("tfidf", min_df=1).fit(TOY_TEXTS, TOY_LABELS)
    preds = _check_contract(model, ["The pay is terrible.", "My manager is supportive."])
    assert preds == [["pay:negative"], ["manager:positive"]]
    model.set_thresholds({"pay": 0.3, "manager": 0.7})
    model.save(tmp_path / "m")
    files = {p.name for p in (tmp_path / "m").iterdir()}
    assert {"config.json", "labels.json", "thresholds.json", "weights.safetensors"} <= files
    assert not any(name.endswith((".pkl", ".pickle", ".joblib", ".bin")) for name in files)
    loaded = load_artifact(tmp_path / "m")
    assert json.loads((tmp_path / "m" / "thresholds.json").read_text()) == {"manager": 0.7, "pay": 0.3}
    np.testing.assert_allclose(loaded.predict_proba(TOY_TEXTS), model.predict_proba(TOY_TEXTS), atol=1e-6)
    assert loaded.predict(TOY_TEXTS) == model.predict(TOY_TEXTS)


def test_save_is_atomic_and_replaces(tmp_path):
    model = make_model("tfidf", min_df=1).fit(TOY_TEXTS, TOY_LABELS)
    model.save(tmp_path / "m")
    model.save(tmp_path / "m")  # overwrite in place
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]  # no temp or backup dirs left


def test_embed_family_on_real_minilm(tmp_path):
    model = make_model("embed").fit(TOY_TEXTS, TOY_LABELS)
    _check_contract(model, TOY_TEXTS[:6])
    model.save(tmp_path / "e")
    loaded = load_artifact(tmp_path / "e")
    np.testing.assert_allclose(loaded.predict_proba(TOY_TEXTS[:6]), model.predict_proba(TOY_TEXTS[:6]), atol=1e-5)


def test_finetune_lora_tiny_run_saves_only_adapters(tmp_path):
    model = make_model("finetune", epochs=2, batch_size=8, progress=False, lora_r=4)
    model.fit(TOY_TEXTS, TOY_LABELS, dev=(TOY_TEXTS[:6], TOY_LABELS[:6]))
    assert [h["epoch"] for h in model.history_][:1] == [1] and "dev_micro_f1" in model.history_[0]
    _check_contract(model, TOY_TEXTS[:6])
    before = model.predict_proba(TOY_TEXTS[:6])
    model.save(tmp_path / "f")
    size = (tmp_path / "f" / "weights.safetensors").stat().st_size
    assert size < 2_000_000  # adapters + head, not the 90 MB encoder
    loaded = load_artifact(tmp_path / "f")  # adapters merged into the pip-shipped base
    np.testing.assert_allclose(loaded.predict_proba(TOY_TEXTS[:6]), before, atol=1e-4)


def test_ensemble_averages_members_and_round_trips(tmp_path):
    a = make_model("tfidf", min_df=1, C=1.0).fit(TOY_TEXTS, TOY_LABELS)
    b = make_model("tfidf", min_df=1, C=20.0).fit(TOY_TEXTS, TOY_LABELS)
    from themesift.models.ensemble import EnsembleClassifier

    ens = EnsembleClassifier.from_members([a, b], weights=[3, 1])
    expected = 0.75 * a.predict_proba(TOY_TEXTS) + 0.25 * b.predict_proba(TOY_TEXTS)
    np.testing.assert_allclose(ens.predict_proba(TOY_TEXTS), expected, atol=1e-9)
    _check_contract(ens, TOY_TEXTS[:6])
    ens.save(tmp_path / "ens")
    loaded = load_artifact(tmp_path / "ens")
    assert loaded.family == "ensemble" and len(loaded.members_) == 2
    np.testing.assert_allclose(loaded.predict_proba(TOY_TEXTS), expected, atol=1e-6)
    other = make_model("tfidf", min_df=1).fit(
        TOY_TEXTS, [[lab.replace("pay", "salary") for lab in labels] for labels in TOY_LABELS]
    )
    with pytest.raises(ValueError, match="same themes"):
        EnsembleClassifier.from_members([a, other])


def test_finetune_theme_attention_head_masks_padding_and_round_trips(tmp_path, monkeypatch):
    monkeypatch.setenv("THEMESIFT_CACHE_DIR", str(tmp_path / "onnx"))
    model = make_model(
        "finetune", epochs=2, batch_size=8, progress=False, lora_r=4, pooling="theme_attention", backend="torch"
    )
    model.fit(TOY_TEXTS, TOY_LABELS)
    assert model.network_.head.queries.abs().sum() > 0  # the per-theme queries were trained
    _check_contract(model, TOY_TEXTS[:6])
    short = "Salary is fine, manager is awful."
    alone = model.predict_proba([short])
    padded = model.set_params(infer_batch_size=2).predict_proba([short, " ".join(TOY_TEXTS)])[:1]
    np.testing.assert_allclose(padded, alone, atol=1e-5)  # padding tokens get no attention
    model.save(tmp_path / "f")
    loaded = load_artifact(tmp_path / "f")
    assert loaded.get_params()["pooling"] == "theme_attention"
    np.testing.assert_allclose(loaded.predict_proba(TOY_TEXTS[:6]), model.predict_proba(TOY_TEXTS[:6]), atol=1e-4)
    onnx = loaded.set_params(backend="onnx").predict_proba(TOY_TEXTS[:6])
    np.testing.assert_allclose(onnx, model.predict_proba(TOY_TEXTS[:6]), atol=1e-4)
    with pytest.raises(ValueError, match="pooling"):
        make_model("finetune", pooling="max", progress=False).fit(TOY_TEXTS, TOY_LABELS)


def test_finetune_retired_knobs_are_refused_but_old_folders_still_read():
    """theme_pairs and ema lost on dev (issue #19 item 4): refused when set, read at their neutral value."""
    from themesift.models.params import ParamError, check_params

    for key, value in (("theme_pairs", True), ("ema", 0.9)):
        with pytest.raises(ParamError, match=f"'{key}' was removed"):
            make_model("finetune", **{key: value})
    assert check_params("finetune", {"theme_pairs": False, "ema": 0.0, "lora_r": 8}) == {"lora_r": 8}
