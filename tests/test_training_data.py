"""Labeled data in every layout users export, errors that point at the bad cell, leak-free
splits, and thresholds that survive a save and reload."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from themesift.cli import main
from themesift.models.labels import LabelSpace
from themesift.models.registry import load_artifact, make_model
from themesift.training.data import load_labeled
from themesift.training.labels_io import LabelDataError
from themesift.training.splits import kfold, train_test_split
from themesift.training.train import TrainConfig, train

FIXTURES = Path(__file__).parent / "fixtures"
RESTAURANT = FIXTURES / "train_restaurant.csv"
EXPECTED = [
    {"food:positive", "service:negative"},
    set(),
    {"price:neutral"},
    {"food:negative"},
    {"service:positive", "price:negative"},
    {"food:positive", "service:positive", "price:positive"},
]
TEXTS = [
    "The pasta was great but the waiter was rude.",
    "We came on a Tuesday.",
    "Prices are about what you'd expect.",
    "Cold soup, warm beer.",
    "Friendly staff; the bill, however, was a shock.",
    "Lovely food, friendly staff, fair prices.",
]


def _as_sets(data) -> list[set[str]]:
    return [set(labels) for labels in data.label_sets]


@pytest.fixture
def list_parquet(tmp_path) -> Path:
    """The JSONL fixture as Parquet: the labels column becomes a real list<string> column."""
    frame = pd.read_json(FIXTURES / "train_list.jsonl", lines=True)
    path = tmp_path / "train_list.parquet"
    frame.to_parquet(path, index=False)
    return path


@pytest.fixture
def semicolon_xlsx(tmp_path) -> Path:
    path = tmp_path / "train_semicolon.xlsx"
    pd.read_csv(FIXTURES / "train_semicolon.csv", keep_default_na=False).to_excel(path, index=False)
    return path


@pytest.mark.parametrize(
    "source", ["train_list.jsonl", "parquet", "train_semicolon.csv", "xlsx", "train_json_array.csv"]
)
def test_labels_column_in_every_format(source, list_parquet, semicolon_xlsx):
    path = {"parquet": list_parquet, "xlsx": semicolon_xlsx}.get(source, FIXTURES / source)
    data = load_labeled(path)
    assert data.texts == TEXTS
    assert _as_sets(data) == EXPECTED  # polarity case and stray ';' / spaces normalised
    assert all(lab == lab.strip() and lab.split(":")[1].islower() for labels in data.label_sets for lab in labels)


def test_one_column_per_theme_named_or_detected():
    path = FIXTURES / "train_theme_columns.csv"
    named = load_labeled(path, labels_column=None, label_columns=["food", "service", "price"])
    detected = load_labeled(path)  # no 'labels' column: the polarity-only columns are the themes
    assert _as_sets(named) == _as_sets(detected) == EXPECTED
    partial = load_labeled(path, label_columns=["price"])
    assert _as_sets(partial) == [{lab for lab in s if lab.startswith("price")} for s in EXPECTED]


def test_all_layouts_hash_identically(list_parquet):
    """The same labels in another layout are the same training data, byte for byte."""
    paths = [
        FIXTURES / "train_list.jsonl",
        list_parquet,
        FIXTURES / "train_json_array.csv",
        FIXTURES / "train_semicolon.csv",
        FIXTURES / "train_theme_columns.csv",
    ]
    hashes = {load_labeled(p).data_hash() for p in paths}
    assert len(hashes) == 1


def _write_csv(tmp_path: Path, labels: list[str], name: str = "bad.csv") -> Path:
    path = tmp_path / name
    pd.DataFrame({"text": [f"comment number {i}" for i in range(len(labels))], "labels": labels}).to_csv(
        path, index=False
    )
    return path


@pytest.mark.parametrize(
    "bad, needle",
    [
        ("food:great", "great"),  # unknown polarity
        ("food:positive:extra", "food:positive:extra"),  # a:b:c
        ("food:positive;food:negative", "appears twice"),  # one theme, two polarities
        ('["food:positive"', '["food:positive"'),  # broken JSON array
        (":positive", "no theme"),
    ],
)
def test_bad_label_names_file_row_and_value(tmp_path, bad, needle):
    path = _write_csv(tmp_path, ["service:positive", "", bad, "price:negative"])
    with pytest.raises(LabelDataError) as err:
        load_labeled(path)
    message = str(err.value)
    assert str(path) in message and "row 3" in message and needle in message
    assert "'labels'" in message  # the column


def test_bad_polarity_in_theme_column_names_the_cell(tmp_path):
    path = tmp_path / "cols.csv"
    pd.DataFrame({"text": ["a", "b", "c"], "food": ["positive", "", "yummy"], "price": ["", "negative", ""]}).to_csv(
        path, index=False
    )
    with pytest.raises(LabelDataError, match=r"row 3, column 'food': 'yummy' is not a polarity"):
        load_labeled(path, label_columns=["food", "price"])
    with pytest.raises(LabelDataError, match=r"--label-columns \['drinks'\] not found"):
        load_labeled(path, label_columns=["drinks"])


def test_unknown_theme_against_a_taxonomy(tmp_path):
    path = _write_csv(tmp_path, ["food:positive", "parking:negative"])
    space = LabelSpace(("food", "service", "price"))
    with pytest.raises(LabelDataError) as err:
        load_labeled(path, label_space=space)
    assert str(path) in str(err.value) and "row 2" in str(err.value) and "'parking'" in str(err.value)


def test_cli_train_with_taxonomy_rejects_unknown_theme(tmp_path, capsys):
    taxonomy = tmp_path / "themes.yaml"
    taxonomy.write_text("version: resto-1\nthemes:\n  - id: food\n  - id: service\n  - id: price\n", "utf-8")
    path = _write_csv(tmp_path, ["food:positive"] * 5 + ["decor:negative"])
    rc = main(["train", "--data", str(path), "--taxonomy", str(taxonomy), "-o", str(tmp_path / "m")])
    err = capsys.readouterr().err
    assert rc == 2 and "row 6" in err and "'decor'" in err and "Traceback" not in err
    assert not (tmp_path / "m").exists()


def test_blank_text_is_an_error_but_empty_labels_are_not(tmp_path):
    ok = _write_csv(tmp_path, ["", "[]", "food:positive"], "ok.csv")
    assert load_labeled(ok).label_sets == [[], [], ["food:positive"]]
    path = tmp_path / "blank.csv"
    pd.DataFrame({"text": ["fine", "   ", "also fine"], "labels": ["", "", ""]}).to_csv(path, index=False)
    with pytest.raises(LabelDataError, match=r"row 2, column 'text'"):
        load_labeled(path)


# --- splits: a duplicate never sits on both sides ---------------------------------------


def _key(text: str) -> str:
    return " ".join(text.casefold().split())


def test_train_dev_split_keeps_duplicates_together():
    data = load_labeled(RESTAURANT, text_column="comment")
    keys = [_key(t) for t in data.texts]
    assert len(set(keys)) < len(keys)  # the fixture has case/spacing copies
    for seed in (0, 1, 2):
        train_idx, dev_idx = train_test_split(data.texts, data.label_sets, test_size=0.2, seed=seed)
        assert sorted([*train_idx, *dev_idx]) == list(range(len(data)))
        assert not {keys[i] for i in train_idx} & {keys[i] for i in dev_idx}
    again = train_test_split(data.texts, data.label_sets, test_size=0.2, seed=2)
    assert np.array_equal(again[1], dev_idx)  # seeded: the same split every time


def test_kfold_keeps_duplicates_in_one_fold():
    data = load_labeled(RESTAURANT, text_column="comment")
    keys = [_key(t) for t in data.texts]
    seen: dict[str, int] = {}
    for k, (_, test_idx) in enumerate(kfold(data.texts, data.label_sets, folds=4, seed=0)):
        for i in test_idx:
            assert seen.setdefault(keys[i], k) == k
    assert len(seen) == len(set(keys))


# --- thresholds: stored in the artifact, used after reload --------------------------------


def test_trained_thresholds_are_stored_and_reloaded(tmp_path):
    cfg = TrainConfig(
        data=str(RESTAURANT),
        output=str(tmp_path / "model"),
        text_column="comment",
        labels_column="labels",
        dev_size=0.25,
        seed=3,
    )
    result = train(cfg)
    stored = json.loads((result.path / "thresholds.json").read_text("utf-8"))
    assert stored == dict(zip(result.model.themes, map(float, result.model.thresholds_)))
    metrics = json.loads((result.path / "metrics.json").read_text())
    assert stored == result.metrics["thresholds"] == metrics["thresholds"]
    loaded = load_artifact(result.path)
    assert np.array_equal(loaded.thresholds_, result.model.thresholds_)
    data = load_labeled(RESTAURANT, text_column="comment")
    assert loaded.predict(data.texts) == result.model.predict(data.texts)


def test_custom_thresholds_change_predictions_and_survive_reload(tmp_path):
    data = load_labeled(RESTAURANT, text_column="comment")
    model = make_model("tfidf").fit(data.texts, data.label_sets)
    at_half = model.predict(data.texts)
    model.set_thresholds({"food": 0.05, "service": 0.95, "price": 0.5})
    moved = model.predict(data.texts)
    assert moved != at_half  # the thresholds are what decides presence
    loaded = load_artifact(model.save(tmp_path / "m"))
    assert dict(zip(loaded.themes, loaded.thresholds_)) == {"food": 0.05, "service": 0.95, "price": 0.5}
    assert loaded.predict(data.texts) == moved


def test_refit_trains_on_train_plus_dev_and_keeps_the_dev_thresholds(tmp_path):
    common = dict(data=str(RESTAURANT), text_column="comment", labels_column="labels", dev_size=0.25, seed=3)
    plain = train(TrainConfig(output=str(tmp_path / "plain"), **common))
    refit = train(TrainConfig(output=str(tmp_path / "refit"), refit=True, **common))
    everything = load_labeled(RESTAURANT, text_column="comment")
    assert (
        refit.metrics["data"]["train"]["rows"]
        == len(everything)
        == (plain.metrics["data"]["train"]["rows"] + plain.metrics["data"]["dev"]["rows"])
    )
    assert refit.metrics["data"]["train"]["refit"] is True
    # thresholds and dev scores come from the first model, tuned before it was refit
    assert refit.metrics["thresholds"] == plain.metrics["thresholds"]
    assert refit.metrics["dev"] == plain.metrics["dev"]
    # the saved model is the refit one: it learned from the dev rows too
    assert not np.allclose(refit.model.predict_proba(everything.texts), plain.model.predict_proba(everything.texts))
    loaded = load_artifact(refit.path)
    assert np.array_equal(loaded.thresholds_, plain.model.thresholds_)
    assert "then refit on train + dev" in (refit.path / "README.md").read_text("utf-8")


def test_cli_refit_runs_every_finetune_epoch_on_train_plus_dev(tmp_path):
    out = tmp_path / "ft"
    assert (
        main(
            [
                "train",
                "--data",
                str(RESTAURANT),
                "--text-column",
                "comment",
                "--family",
                "finetune",
                "--param",
                "epochs=2",
                "--param",
                "lora_r=4",
                "--param",
                "batch_size=16",
                "--param",
                "progress=false",
                "--param",
                "max_length=32",
                "--refit",
                "--output",
                str(out),
            ]
        )
        == 0
    )
    metrics = json.loads((out / "metrics.json").read_text("utf-8"))
    assert [row["epoch"] for row in metrics["history"]] == [1, 2]
    assert all("dev_micro_f1" not in row for row in metrics["history"])  # dev never stopped it
    assert [row["epoch"] for row in metrics["refit_history"]] == [1, 2]
    assert metrics["data"]["train"]["rows"] == len(load_labeled(RESTAURANT, text_column="comment"))


def test_exclude_and_audience_columns(tmp_path, capsys):
    src = tmp_path / "mixed.csv"
    pd.DataFrame(
        {
            "text": ["pay is poor", "great app", "slow delivery", "nice team"],
            "labels": ["pay_benefits:negative", "product_quality:positive", "ease_speed:negative", ""],
            "source": ["survey", "tweets", "reviews", "survey"],
            "audience": ["employee", "customer", "Customer", ""],
        }
    ).to_csv(src, index=False)
    data = load_labeled(src, exclude=["source=tweets"])
    assert data.texts == ["pay is poor", "slow delivery", "nice team"]
    assert data.audiences == ["employee", "customer", None]
    with pytest.raises(LabelDataError, match="--exclude column 'site' not found"):
        load_labeled(src, exclude=["site=x"])
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"text": ["a"], "labels": [""], "who": ["staff"]}).to_csv(bad, index=False)
    with pytest.raises(LabelDataError, match=r"row 1, column 'who': audience 'staff' is not one of"):
        load_labeled(bad, audience_column="who")
    assert main(["train", "--data", str(bad), "--audience-column", "who", "--output", str(tmp_path / "m")]) == 2
    assert "audience 'staff'" in capsys.readouterr().err


def test_output_that_is_not_a_model_is_refused_before_training(tmp_path, capsys):
    """`--output ~/Documents` (a typo, the data folder) must never be deleted: refused, unless --force."""
    src = tmp_path / "train.csv"
    pd.DataFrame(
        {
            "text": ["pay is poor", "great team", "slow tools", "nice boss"] * 5,
            "labels": ["pay:negative", "team:positive", "tools:negative", "boss:positive"] * 5,
        }
    ).to_csv(src, index=False)
    documents = tmp_path / "Documents"
    documents.mkdir()
    (documents / "thesis.docx").write_text("years of work", "utf-8")
    a_file = tmp_path / "notes.txt"
    a_file.write_text("keep me", "utf-8")
    for target in (documents, a_file):
        assert main(["train", "--data", str(src), "--output", str(target)]) == 2
        err = capsys.readouterr().err.strip()
        assert "not replacing it" in err or "is a file" in err
        assert "\n" not in err
    assert (documents / "thesis.docx").read_text("utf-8") == "years of work" and a_file.read_text("utf-8") == "keep me"
    # an earlier model or an empty folder is replaced as before; --force replaces anything
    (tmp_path / "empty").mkdir()
    assert main(["train", "--data", str(src), "--output", str(tmp_path / "empty")]) == 0
    assert main(["train", "--data", str(src), "--output", str(tmp_path / "empty")]) == 0
    assert main(["train", "--data", str(src), "--output", str(documents), "--force"]) == 0
    assert (documents / "config.json").is_file() and not (documents / "thesis.docx").exists()
    assert (
        main(
            [
                "ensemble",
                "--member",
                str(tmp_path / "empty"),
                "--member",
                str(documents),
                "--dev",
                str(src),
                "-o",
                str(a_file),
            ]
        )
        == 2
    )
    assert a_file.read_text("utf-8") == "keep me"


# ---------------------------------------------------------------- issue #19 / #20 row 17


def test_case_variants_of_a_theme_name_the_row(tmp_path):
    data = tmp_path / "case.csv"
    data.write_text(
        "text,labels\nGreat boss,manager_support:positive\nPay is low,pay:negative\n"
        "Boss never listens,MANAGER_SUPPORT:negative\n"
    )
    with pytest.raises(
        LabelDataError,
        match=r"case.csv, row 3, column 'labels': theme 'MANAGER_SUPPORT' "
        r"differs only in case from 'manager_support'",
    ):
        load_labeled(data)


def test_case_variant_between_train_and_dev_is_refused(tmp_path, capsys):
    train_file, dev_file = tmp_path / "train.csv", tmp_path / "dev.csv"
    pd.DataFrame({"text": [f"Great boss {i}" for i in range(8)], "labels": ["manager_support:positive"] * 8}).to_csv(
        train_file, index=False
    )
    pd.DataFrame({"text": ["Bad boss"], "labels": ["Manager_Support:negative"]}).to_csv(dev_file, index=False)
    rc = main(["train", "--data", str(train_file), "--dev", str(dev_file), "--output", str(tmp_path / "m")])
    err = capsys.readouterr().err
    assert rc == 2 and "dev.csv, row 1: theme 'Manager_Support' differs only in case" in err
    assert err.count("\n") == 1


def test_a_labels_column_of_numbers_is_refused_naming_file_row_column(tmp_path, capsys):
    data = tmp_path / "codes.csv"
    pd.DataFrame({"text": [f"comment {i}" for i in range(60)], "labels": [str(i) for i in range(60)]}).to_csv(
        data, index=False
    )
    rc = main(["train", "--data", str(data), "--output", str(tmp_path / "m")])
    err = capsys.readouterr().err
    assert rc == 2 and not (tmp_path / "m").exists()
    assert "codes.csv, row 1, column 'labels'" in err and "is a number, not a theme name" in err
    assert err.count("\n") == 1


def test_every_labels_cell_empty_is_one_line(tmp_path, capsys):
    data = tmp_path / "empty_labels.csv"
    pd.DataFrame({"text": [f"comment {i}" for i in range(20)], "labels": [""] * 20}).to_csv(data, index=False)
    rc = main(["train", "--data", str(data), "--output", str(tmp_path / "m")])
    err = capsys.readouterr().err
    assert rc == 2 and "no row has a label" in err and "Traceback" not in err


def test_theme_columns_of_the_model_ignore_id_and_other_columns(tmp_path):
    frame = pd.read_csv(RESTAURANT, keep_default_na=False)
    frame.insert(0, "respondent_id", range(1000, 1000 + len(frame)))
    frame["department"] = "Front of house"
    path = tmp_path / "extra.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(LabelDataError, match="no labels column"):
        load_labeled(path)  # nothing says which columns are themes
    data = load_labeled(path, known_themes=("food", "service", "price", "ambience"))
    assert data.label_sets == load_labeled(RESTAURANT).label_sets


def test_train_config_is_the_source_of_truth_flags_override_what_was_typed(tmp_path):
    """Issue #19: `train --config cfg.json --data D --output O` ran into TrainConfig(... missing data,
    output) and argparse defaults overwrote the config's seed, dev size and family."""
    data = tmp_path / "train.csv"
    texts = [f"{t} {i}" for i in range(8) for t in ("Lovely food", "Rude waiter", "Cold soup", "Kind staff")]
    labels = ["food:positive", "service:negative", "food:negative", "service:positive"] * 8
    pd.DataFrame({"comment": texts, "labels": labels}).to_csv(data, index=False)
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"family": "tfidf", "seed": 7, "dev_size": 0.25, "params": {"min_df": 1}}))
    assert main(["train", "--config", str(cfg), "--data", str(data), "--output", str(tmp_path / "a")]) == 0
    config = json.loads((tmp_path / "a" / "metrics.json").read_text())["config"]
    assert (config["seed"], config["dev_size"], config["params"]["min_df"]) == (7, 0.25, 1)
    assert config["text_column"] is None and config["data"] == str(data)
    cfg.write_text(
        json.dumps(
            {"data": str(data), "output": str(tmp_path / "b"), "seed": 7, "params": {"min_df": 1, "ngram_max": 1}}
        )
    )
    assert main(["train", "--config", str(cfg), "--seed", "2", "--param", "ngram_max=2"]) == 0
    config = json.loads((tmp_path / "b" / "metrics.json").read_text())["config"]
    assert (config["seed"], config["params"]) == (2, {"min_df": 1, "ngram_max": 2})


@pytest.mark.parametrize(
    "content, needle",
    [
        ("{not json", "not valid JSON"),
        ('{"sed": 1}', "unknown setting 'sed'"),
        ("[1]", "expected a JSON object"),
        ('{"family": "tfidf"}', "--data is required"),
    ],
)
def test_bad_train_config_is_one_line(tmp_path, capsys, content, needle):
    cfg = tmp_path / "cfg.json"
    cfg.write_text(content)
    rc = main(["train", "--config", str(cfg)])
    err = capsys.readouterr().err
    assert rc == 2 and needle in err and err.count("\n") == 1, err


def test_dev_size_out_of_range_is_one_line_naming_the_flag(tmp_path, capsys):
    data = tmp_path / "t.csv"
    data.write_text("text,labels\na,pay:positive\nb,pay:negative\n")
    rc = main(["train", "--data", str(data), "--output", str(tmp_path / "m"), "--dev-size", "1.5"])
    err = capsys.readouterr().err
    assert rc == 2 and "--dev-size must be between 0 and 1" in err


def test_one_bad_cell_in_a_detected_theme_column_is_named(tmp_path):
    """Probe L85: the file was refused as having no labels column, without naming the cell."""
    data = tmp_path / "wide.csv"
    pd.DataFrame(
        {
            "id": range(6),
            "text": [f"comment {i}" for i in range(6)],
            "pay": ["negative", "", "positive", "bad", "", "neutral"],
            "boss": ["", "positive", "", "", "negative", ""],
        }
    ).to_csv(data, index=False)
    with pytest.raises(LabelDataError, match=r"wide.csv, row 4, column 'pay': 'bad' is not a polarity"):
        load_labeled(data)
