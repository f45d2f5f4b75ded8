"""The ONNX Runtime backend gives torch's numbers: real LoRA finetune, real export, real sessions."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

from themesift.models import onnx_backend  # noqa: E402
from themesift.models.registry import load_artifact, make_model  # noqa: E402

pytestmark = pytest.mark.slow

LONG = " ".join(["The night shift rota changes every week and nobody tells us in advance."] * 40)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """Exports go to a private cache dir, so the test proves it exports (no stale reuse)."""
    path = tmp_path_factory.mktemp("onnx-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(onnx_backend.CACHE_ENV, str(path))
        mp.delenv(onnx_backend.BACKEND_ENV, raising=False)
        yield path


@pytest.fixture(scope="module")
def fitted(cache, gold_train):
    rows = gold_train[:24]
    model = make_model("finetune", epochs=1, lora_r=4, progress=False, infer_batch_size=4)
    return model.fit([r["text"] for r in rows], [r["labels"] for r in rows])


@pytest.fixture(scope="module")
def finetune_dir(fitted, tmp_path_factory):
    return fitted.save(tmp_path_factory.mktemp("models") / "finetune")


@pytest.fixture(scope="module")
def texts(gold_dev):
    # varied lengths: several batches of different widths, one text past max_length
    return [r["text"] for r in gold_dev[:30]] + [LONG, "ok"]


def test_fp32_export_gives_torch_probabilities_and_labels(cache, finetune_dir, texts):
    model = load_artifact(finetune_dir)
    model.set_params(backend="torch")
    expected = model.predict_proba(texts)
    model.set_params(backend="onnx")
    got = model.predict_proba(texts)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=1e-4, rtol=0)
    assert model.predict(texts) == model.decode(expected)
    assert model._onnx_[1].path.parent == cache  # exported to the cache, not into the artifact
    assert not list(finetune_dir.glob("*.onnx"))


def test_int8_runs_and_stays_close(cache, finetune_dir, texts):
    model = load_artifact(finetune_dir)
    model.set_params(backend="torch")
    expected = model.predict_proba(texts)
    model.set_params(backend="onnx-int8")
    got = model.predict_proba(texts)
    assert np.allclose(got.sum(axis=2), 1.0, atol=1e-5)
    assert np.abs(got - expected).max() < 0.1
    assert np.abs(got - expected).mean() < 0.01
    import onnx

    graph = onnx.load(str(model._onnx_[1].path)).graph
    weights = {t.name: tuple(t.dims) for t in graph.initializer}
    ops = [n.op_type for n in graph.node]
    # attention fused and int8 in all 6 layers; attention-out and FFN-in int8; FFN-out stays fp32
    assert ops.count("QAttention") == 6 and "Attention" not in ops
    assert sum(n.op_type == "MatMulInteger" and n.name.startswith("/encoder/") for n in graph.node) == 12
    fp32_weight_matmuls = [n for n in graph.node if n.op_type == "MatMul" and any(i in weights for i in n.input)]
    assert len(fp32_weight_matmuls) == 6
    assert all(weights[i][0] > weights[i][1] for n in fp32_weight_matmuls for i in n.input if i in weights)


def test_fp32_export_fuses_attention_layernorm_and_gelu(cache, finetune_dir):
    import onnx

    model = load_artifact(finetune_dir).set_params(backend="onnx")
    model.predict_proba(["My manager listens."])
    ops = [n.op_type for n in onnx.load(str(model._onnx_[1].path)).graph.node]
    assert ops.count("Attention") == 6
    assert ops.count("SkipLayerNormalization") == 12
    assert ops.count("BiasGelu") == 6


def test_a_fresh_fit_exports_with_merged_adapters_and_keeps_them(fitted, finetune_dir, texts, tmp_path):
    """Straight after fit the encoder still holds LoRA adapters: export merges a copy."""
    expected = fitted.set_params(backend="torch").predict_proba(texts)
    got = fitted.set_params(backend="onnx").predict_proba(texts)
    fitted.set_params(backend=None)
    np.testing.assert_allclose(got, expected, atol=1e-4, rtol=0)
    assert hasattr(fitted.network_.encoder, "peft_config")  # adapters still there: save() still works
    fitted.save(tmp_path / "again")


def test_environment_variable_selects_backend_and_parameter_wins(monkeypatch, finetune_dir):
    monkeypatch.delenv(onnx_backend.BACKEND_ENV, raising=False)
    assert onnx_backend.resolve_backend(None) == onnx_backend.DEFAULT_BACKEND == "onnx-int8"
    monkeypatch.setenv(onnx_backend.BACKEND_ENV, "onnx-int8")
    assert onnx_backend.resolve_backend(None) == "onnx-int8"
    monkeypatch.setenv(onnx_backend.BACKEND_ENV, "onnx")
    assert onnx_backend.resolve_backend(None) == "onnx"
    assert onnx_backend.resolve_backend("torch") == "torch"
    monkeypatch.setenv(onnx_backend.BACKEND_ENV, "torch")
    assert onnx_backend.resolve_backend(None) == "torch"
    monkeypatch.setenv(onnx_backend.BACKEND_ENV, "onnx")
    model = load_artifact(finetune_dir)
    model.predict_proba(["The canteen food is awful."])
    assert model._onnx_[0] == "onnx"
    monkeypatch.setenv(onnx_backend.BACKEND_ENV, "tensorrt")
    with pytest.raises(ValueError, match="unknown backend"):
        model.predict_proba(["x"])


def test_artifact_and_export_hold_no_pickle(monkeypatch, cache, finetune_dir):
    import onnx

    files = sorted(p.name for p in finetune_dir.iterdir())
    assert not any(name.endswith((".pkl", ".pickle", ".joblib", ".bin", ".pt")) for name in files)

    def refuse(*args, **kwargs):
        raise AssertionError("pickle used while loading")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    model = load_artifact(finetune_dir)
    model.set_params(backend="onnx").predict(["My manager listens."])
    for path in cache.glob("*.onnx"):
        onnx.checker.check_model(onnx.load(str(path)))  # a plain protobuf graph
    config = json.loads((finetune_dir / "config.json").read_text())
    assert config["params"]["backend"] is None  # the artifact does not pin a backend


def test_embed_family_onnx_matches_torch(cache, gold_train, texts):
    rows = gold_train[:24]
    model = make_model("embed").fit([r["text"] for r in rows], [r["labels"] for r in rows])
    expected = model.embed(texts, backend="torch")
    got = model.embed(texts, backend="onnx")
    np.testing.assert_allclose(got, expected, atol=1e-4, rtol=0)
    model.set_params(backend="onnx")
    np.testing.assert_allclose(
        model.predict_proba(texts), model.set_params(backend="torch").predict_proba(texts), atol=1e-4, rtol=0
    )


def test_token_budget_batches_cover_every_text_once_within_budget():
    lengths = [5, 300, 12, 256, 40, 7, 256, 90] * 20
    batches = onnx_backend.token_budget_batches(lengths, batch_size=16, max_tokens=1024)
    seen = np.sort(np.concatenate(batches))
    np.testing.assert_array_equal(seen, np.arange(len(lengths)))
    for idx in batches:
        assert len(idx) <= 16
        assert len(idx) == 1 or len(idx) * max(lengths[i] for i in idx) <= 1024


def test_a_loaded_model_whose_export_is_cached_builds_no_network(monkeypatch, cache, finetune_dir, texts):
    """The export is found by the artifact's key: a second load runs it without torch's network,
    and builds the network only when asked for the torch backend."""
    monkeypatch.setenv(onnx_backend.BACKEND_ENV, "onnx")
    cold = load_artifact(finetune_dir)
    expected = cold.predict_proba(texts)
    key = cold.source_key_
    assert onnx_backend.read_verified(cache / f"{key}.onnx") is not None  # digest written beside it
    warm = load_artifact(finetune_dir)
    assert warm.source_key_ == key
    assert "network_" not in warm.__dict__ and type(warm.tokenizer_).__name__ == "TextTokenizer"
    np.testing.assert_allclose(warm.predict_proba(texts), expected, atol=1e-6, rtol=0)
    assert "network_" not in warm.__dict__
    torch_proba = warm.set_params(backend="torch").predict_proba(texts)  # built now, from the bytes read at load
    assert "network_" in warm.__dict__
    np.testing.assert_allclose(torch_proba, expected, atol=1e-4, rtol=0)
