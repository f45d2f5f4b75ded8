"""themesift.train / themesift.evaluate on data in memory (issue #19, item 1): real tfidf models,
the same figures as the CLI, the file-based ``themesift train`` a thin layer over the same code."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import themesift
from themesift.cli import main
from themesift.training.labels_io import LabelDataError

FIXTURES = Path(__file__).parent / "fixtures"
RESTAURANT = FIXTURES / "train_restaurant.csv"  # id, comment, one column per theme (food, service, price)

ROWS = [
    ("The food was cold", "food:negative"),
    ("Lovely food", "food:positive"),
    ("Waiter was rude", "service:negative"),
    ("Friendly waiter", "service:positive"),
    ("Cold food, rude waiter", "food:negative;service:negative"),
    ("We came on a Tuesday", ""),
]


def _lists(copies: int = 8) -> tuple[list[str], list[str]]:
    rows = [(f"{text} ({k})", labels) for k in range(copies) for text, labels in ROWS]
    return [t for t, _ in rows], [lab for _, lab in rows]


def test_all_names_the_api() -> None:
    assert {"train", "evaluate", "predict", "load_model"} <= set(themesift.__all__)


def test_train_on_lists_predict_save_and_load(tmp_path: Path) -> None:
    texts, labels = _lists()
    model = themesift.train(texts, labels, family="tfidf", min_df=1)
    assert model.themes == ("food", "service")
    assert "split from train" in model.metrics_["dev_source"]  # thresholds tuned on a seeded slice
    assert model.metrics_["dev"]["theme"]["micro"]["f1"] > 0.8
    got = themesift.predict(["Cold food, rude waiter"], model=model)[0]
    assert {t["theme"] for t in got["themes"]} == {"food", "service"}
    model.save(tmp_path / "m")
    again = themesift.load_model(tmp_path / "m")
    probe = ["Lovely food", "Rude waiter", "A Tuesday"]
    assert np.allclose(again.predict_proba(probe), model.predict_proba(probe))
    assert np.allclose(again.thresholds_, model.thresholds_)


def test_train_on_a_dataframe_with_theme_columns_and_a_dev_frame() -> None:
    frame = pd.read_csv(RESTAURANT, keep_default_na=False)  # has an id column too
    model = themesift.train(frame.iloc[:180], family="tfidf", dev=frame.iloc[180:])
    assert set(model.themes) == {"food", "service", "price"}
    assert model.metrics_["dev_source"] == "dev given to train()" and model.metrics_["train_rows"] == 180


def test_evaluate_gives_the_cli_figures(tmp_path: Path) -> None:
    texts, labels = _lists()
    model = themesift.train(texts, labels, min_df=1)
    model.save(tmp_path / "m")
    data = tmp_path / "test.csv"
    pd.DataFrame({"comment": texts[:12], "labels": labels[:12]}).to_csv(data, index=False)
    assert (
        main(["evaluate", "--model", str(tmp_path / "m"), "--data", str(data), "--json", str(tmp_path / "e.json")]) == 0
    )
    from_cli = json.loads((tmp_path / "e.json").read_text())
    assert themesift.evaluate(model, texts[:12], labels[:12]) == from_cli
    assert themesift.evaluate(str(tmp_path / "m"), pd.read_csv(data, keep_default_na=False)) == from_cli


def test_file_training_is_the_same_model_as_the_api(tmp_path: Path) -> None:
    texts, labels = _lists()
    data = tmp_path / "train.csv"
    pd.DataFrame({"text": texts, "labels": labels}).to_csv(data, index=False)
    assert (
        main(["train", "--data", str(data), "--output", str(tmp_path / "cli"), "--param", "min_df=1", "--seed", "3"])
        == 0
    )
    from_cli = themesift.load_model(tmp_path / "cli")
    from_api = themesift.train(texts, labels, seed=3, min_df=1)
    probe = ["Cold food", "Friendly waiter", "Nothing to say"]
    assert np.allclose(from_cli.thresholds_, from_api.thresholds_)
    assert np.allclose(from_cli.predict_proba(probe), from_api.predict_proba(probe))


def test_evaluate_reports_gold_themes_the_model_does_not_know(tmp_path: Path, capsys) -> None:
    """#20 row 17 / probe E88: unknown gold themes are misses, warned about and listed apart."""
    texts, labels = _lists()
    model = themesift.train(texts, labels, min_df=1)
    gold = [
        lab + (";price:negative" if lab else "price:negative") if i % 3 == 0 else lab
        for i, lab in enumerate(labels[:12])
    ]
    metrics = themesift.evaluate(model, texts[:12], gold)
    assert metrics["unknown_themes"] == {"price": 4}
    assert metrics["known_themes_only"] == themesift.evaluate(model, texts[:12], labels[:12])
    assert metrics["theme"]["micro"]["recall"] < metrics["known_themes_only"]["theme"]["micro"]["recall"]
    model.save(tmp_path / "m")
    data = tmp_path / "gold.csv"
    pd.DataFrame({"text": texts[:12], "labels": gold}).to_csv(data, index=False)
    assert main(["evaluate", "--model", str(tmp_path / "m"), "--data", str(data)]) == 0
    err = capsys.readouterr().err
    assert "warning: 1 gold theme unknown to the model, counted as misses: price (4)" in err


@pytest.mark.parametrize(
    "labels, message",
    [
        ([["food:positive"], ["0"]], r"row 2, column 'labels'.*'0' is a number"),
        ([["food:positive"]], "2 texts but 1 label sets"),
        ([["food:positive"], ["food:great"]], "unknown polarity 'great'"),
    ],
)
def test_bad_labels_in_memory_name_the_row(labels, message) -> None:
    with pytest.raises(LabelDataError, match=message):
        themesift.train(["Lovely food", "Cold soup"], labels)


def test_finetune_family_takes_params_and_refuses_unknown_ones() -> None:
    texts, labels = _lists(2)
    with pytest.raises((ValueError, TypeError), match="no_such_knob"):  # models.params.ParamError
        themesift.train(texts, labels, family="finetune", no_such_knob=1)


@pytest.mark.slow
def test_finetune_trains_with_tiny_settings() -> None:
    texts, labels = _lists(4)
    model = themesift.train(texts, labels, family="finetune", epochs=1, max_length=32, batch_size=8)
    assert model.family == "finetune" and model.get_params()["epochs"] == 1
    assert model.themes == ("food", "service")
    assert len(themesift.predict(["Cold food"], model=model)) == 1
