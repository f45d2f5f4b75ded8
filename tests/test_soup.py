"""Weight soups of real LoRA fine-tunes on the real MiniLM: one model from several runs."""

import json

import numpy as np
import pytest
import torch
from test_models import TOY_LABELS, TOY_TEXTS

from themesift.models.finetune_soup import weight_soup
from themesift.models.registry import load_artifact, make_model


def _run(**params):
    settings = dict(epochs=2, batch_size=8, progress=False, lora_r=4, pooling="theme_attention", backend="torch")
    return make_model("finetune", **{**settings, **params}).fit(TOY_TEXTS, TOY_LABELS)


def _merged_weight(model, name: str) -> torch.Tensor:
    """W0 + scale·B·A of one adapted layer, computed by hand from the live peft modules."""
    layer = dict(model.network_.encoder.named_modules())[name]
    delta = layer.lora_B["default"].weight @ layer.lora_A["default"].weight
    return layer.base_layer.weight + layer.scaling["default"] * delta


def test_init_seed_fixes_initialisation_while_seed_moves_training(monkeypatch):
    from themesift.models import finetune_loop

    monkeypatch.setattr(finetune_loop, "train_network", lambda *args, **kwargs: [])  # fit only initialises
    a, b = _run(seed=1, init_seed=7), _run(seed=2, init_seed=7)
    c = _run(seed=1)
    state = lambda m: m.network_.head.state_dict()  # noqa: E731
    assert all(torch.equal(state(a)[k], state(b)[k]) for k in state(a))
    assert not all(torch.equal(state(a)[k], state(c)[k]) for k in state(a))


def test_soup_is_the_mean_of_merged_weights_and_round_trips(tmp_path):
    a, b = _run(seed=1, init_seed=7), _run(seed=2, init_seed=7)
    assert np.abs(a.predict_proba(TOY_TEXTS) - b.predict_proba(TOY_TEXTS)).max() > 1e-3  # two different runs
    np.testing.assert_allclose(weight_soup([a]).predict_proba(TOY_TEXTS), a.predict_proba(TOY_TEXTS), atol=1e-5)
    soup = weight_soup([a, b])
    name = "base_model.model.encoder.layer.3.attention.self.query"
    expected = (_merged_weight(a, name) + _merged_weight(b, name)) / 2
    got = dict(soup.network_.encoder.named_modules())[name.removeprefix("base_model.model.")].weight
    torch.testing.assert_close(got, expected.detach(), atol=1e-6, rtol=0)
    head_a, head_b = a.network_.head.state_dict(), b.network_.head.state_dict()
    for key, value in soup.network_.head.state_dict().items():
        torch.testing.assert_close(value, (head_a[key] + head_b[key]) / 2)
    assert [row["ingredient_seed"] for row in soup.history_] == [1, 1, 2, 2]
    proba = soup.predict_proba(TOY_TEXTS)
    soup.save(tmp_path / "soup")  # a whole encoder now: the averaged deltas are not one low-rank pair
    loaded = load_artifact(tmp_path / "soup")
    assert loaded.get_params()["lora_r"] == 0
    np.testing.assert_allclose(loaded.predict_proba(TOY_TEXTS), proba, atol=1e-5)


def test_soup_refuses_runs_that_do_not_share_an_initialisation():
    a, b = _run(seed=1, init_seed=7, epochs=1), _run(seed=2, epochs=1)
    with pytest.raises(ValueError, match="init_seed"):
        weight_soup([a, b])
    with pytest.raises(ValueError, match="fitted finetune"):
        weight_soup([])


def test_cli_soup_of_trained_artifacts(tmp_path):
    from pathlib import Path

    from themesift.cli import main

    data = Path(__file__).parent / "fixtures" / "train_restaurant.csv"
    members = []
    for seed in (1, 2):
        out = tmp_path / f"run{seed}"
        assert (
            main(
                [
                    "train",
                    "--data",
                    str(data),
                    "--text-column",
                    "comment",
                    "--family",
                    "finetune",
                    "--seed",
                    str(seed),
                    "--param",
                    "init_seed=7",
                    "--param",
                    "epochs=1",
                    "--param",
                    "lora_r=4",
                    "--param",
                    "batch_size=16",
                    "--param",
                    "progress=false",
                    "--param",
                    "max_length=32",
                    "--output",
                    str(out),
                ]
            )
            == 0
        )
        members.append(out)
    assert (
        main(
            [
                "soup",
                "--member",
                str(members[0]),
                "--member",
                str(members[1]),
                "--dev",
                str(data),
                "--text-column",
                "comment",
                "--output",
                str(tmp_path / "soup"),
            ]
        )
        == 0
    )
    soup = load_artifact(tmp_path / "soup")
    expected = weight_soup([load_artifact(m) for m in members])
    texts = ["The food was great but the waiter was rude.", "Way too expensive."]
    np.testing.assert_allclose(soup.predict_proba(texts), expected.predict_proba(texts), atol=1e-5)
    assert soup.family == "finetune" and soup.get_params()["init_seed"] == 7
    assert "weight soup" in (tmp_path / "soup" / "README.md").read_text("utf-8")
    assert (
        main(
            [
                "soup",
                "--member",
                str(members[0]),
                "--dev",
                str(data),
                "--text-column",
                "comment",
                "--output",
                str(tmp_path / "one"),
            ]
        )
        != 0
    )  # one member is not a soup

    # members refit on dev take their thresholds and dev scores from the soup made before the refit
    source = json.loads((tmp_path / "soup" / "thresholds.json").read_text("utf-8"))
    assert (
        main(
            [
                "soup",
                "--member",
                str(members[1]),
                "--member",
                str(members[0]),
                "--thresholds-from",
                str(tmp_path / "soup"),
                "--output",
                str(tmp_path / "kept"),
            ]
        )
        == 0
    )
    kept = load_artifact(tmp_path / "kept")
    assert dict(zip(kept.themes, kept.thresholds_.tolist())) == pytest.approx(source)
    metrics = json.loads((tmp_path / "kept" / "metrics.json").read_text("utf-8"))
    assert metrics["thresholds_from"] == str(tmp_path / "soup")
    assert metrics["dev"] == json.loads((tmp_path / "soup" / "metrics.json").read_text("utf-8"))["dev"]
    assert "thresholds and dev scores are those of" in (tmp_path / "kept" / "README.md").read_text("utf-8")
    (tmp_path / "soup" / "thresholds.json").write_text(json.dumps({"food": 0.5}), "utf-8")
    assert (
        main(
            [
                "soup",
                "--member",
                str(members[0]),
                "--member",
                str(members[1]),
                "--thresholds-from",
                str(tmp_path / "soup"),
                "--output",
                str(tmp_path / "bad"),
            ]
        )
        != 0
    )
    assert not (tmp_path / "bad").exists()
    with pytest.raises(SystemExit):  # tuned on dev or taken from a model: one or the other
        main(
            [
                "soup",
                "--member",
                str(members[0]),
                "--member",
                str(members[1]),
                "--dev",
                str(data),
                "--thresholds-from",
                str(tmp_path / "soup"),
                "--output",
                str(tmp_path / "both"),
            ]
        )
