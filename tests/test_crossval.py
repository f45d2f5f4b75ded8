"""``themesift cv``: real tfidf models on every fold of a user CSV (own taxonomy) and of
ex-cx-gold; the folds it reports are the ones a reader can rebuild, never share a text,
and keep rare labels in every fold."""

from __future__ import annotations

import contextlib
import io
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from conftest import GOLD, read_jsonl
from themesift.cli import main
from themesift.training.crossval import cross_validate, format_cv
from themesift.training.data import load_labeled
from themesift.training.splits import kfold

FOLDS = 3
RESTAURANT = Path(__file__).parent / "fixtures" / "train_restaurant.csv"
GOLD_ROWS = 300


def _gold_subset(tmp: Path) -> Path:
    if not (GOLD / "train.jsonl").is_file():
        pytest.skip(f"shared data not found at {GOLD}")
    path = tmp / "gold300.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in read_jsonl(GOLD / "train.jsonl", GOLD_ROWS)), "utf-8")
    return path


DATASETS = {  # name -> (path maker, extra CLI flags, load_labeled kwargs)
    "restaurant": (lambda tmp: RESTAURANT, ["--text-column", "comment"], {"text_column": "comment"}),
    "gold": (_gold_subset, [], {}),
}


@pytest.fixture(scope="module", params=["restaurant", pytest.param("gold", marks=pytest.mark.slow)])
def cv_run(request, tmp_path_factory):
    """Run ``themesift cv --folds 3 --json`` once per dataset; (data, result, stdout)."""
    make_path, flags, kwargs = DATASETS[request.param]
    tmp = tmp_path_factory.mktemp(f"cv-{request.param}")
    path = make_path(tmp)
    out, stdout = tmp / "cv.json", io.StringIO()
    with contextlib.redirect_stdout(stdout):
        rc = main(["cv", "--data", str(path), "--folds", str(FOLDS), "--json", str(out), *flags])
    assert rc == 0
    return request.param, load_labeled(path, **kwargs), json.loads(out.read_text("utf-8")), stdout.getvalue()


def test_cv_reports_every_fold_and_their_spread(cv_run):
    name, data, result, stdout = cv_run
    assert result["folds"] == FOLDS and result["seed"] == 0 and result["family"] == "tfidf"
    assert result["data"] == {"source": data.source, "rows": len(data), "hash": data.data_hash()}
    folds = result["fold_results"]
    assert [f["fold"] for f in folds] == [1, 2, 3]
    assert sum(f["test_rows"] for f in folds) == len(data) == result["out_of_fold"]["predictions"]
    for f in folds:  # the dev slice for thresholds comes out of the training part, not the fold
        assert f["train_rows"] + f["dev_rows"] + f["test_rows"] == len(data)
        assert 0.05 < f["dev_rows"] / (f["train_rows"] + f["dev_rows"]) < 0.2
    for level in ("theme", "theme_polarity"):
        for avg in ("micro", "macro"):
            f1s = np.array([f[level][avg]["f1"] for f in folds])
            summary = result["summary"][level][avg]["f1"]
            assert summary["mean"] == pytest.approx(f1s.mean(), abs=1e-4)
            assert summary["std"] == pytest.approx(f1s.std(ddof=1), abs=1e-4)
    # the models learned something: well above chance, and the easy synthetic set scores high
    floor = 0.75 if name == "restaurant" else 0.2
    assert result["summary"]["theme"]["micro"]["f1"]["mean"] > floor
    assert result["out_of_fold"]["metrics"]["n"] == len(data)
    assert stdout.strip() == format_cv(result)
    assert "mean±std" in stdout and sum(ln[:1].isdigit() for ln in stdout.splitlines()) == FOLDS


def test_folds_are_rebuildable_and_never_share_a_text(cv_run):
    _, data, result, _ = cv_run
    keys = [" ".join(t.casefold().split()) for t in data.texts]
    rebuilt = list(kfold(data.texts, data.label_sets, folds=FOLDS, seed=result["seed"]))
    owner: dict[str, int] = {}
    for k, (train_idx, test_idx) in enumerate(rebuilt):
        # the fold the CLI scored is exactly the rebuilt one
        assert data.subset(test_idx).data_hash() == result["fold_results"][k]["test_hash"]
        assert not {keys[i] for i in train_idx} & {keys[i] for i in test_idx}
        for i in test_idx:
            assert owner.setdefault(keys[i], k) == k, (
                f"text in folds {owner[keys[i]] + 1} and {k + 1}: {data.texts[i]!r}"
            )
    assert sorted(i for _, test_idx in rebuilt for i in test_idx) == list(range(len(data)))


def test_stratification_keeps_rare_labels_in_every_fold(cv_run):
    name, data, result, _ = cv_run
    support = Counter(lab for labels in data.label_sets for lab in labels)
    rare = [lab for lab, n in support.items() if FOLDS <= n <= 12]
    assert rare, "the dataset should have rare labels to check"
    if name == "restaurant":
        assert "price:neutral" in rare
    for _, test_idx in kfold(data.texts, data.label_sets, folds=FOLDS, seed=result["seed"]):
        in_fold = Counter(lab for i in test_idx for lab in data.label_sets[i])
        missing = [lab for lab in rare if in_fold[lab] == 0]
        assert not missing, f"rare labels absent from a fold: {missing}"


def test_another_seed_gives_other_folds_and_a_recorded_seed():
    data = load_labeled(RESTAURANT, text_column="comment").subset(range(120))
    a = cross_validate(data, folds=FOLDS, seed=0, progress=False)
    b = cross_validate(data, folds=FOLDS, seed=1, progress=False)
    assert b["seed"] == 1 and b["params"]["seed"] == 1
    assert [f["test_hash"] for f in a["fold_results"]] != [f["test_hash"] for f in b["fold_results"]]
    assert a["data"]["hash"] == b["data"]["hash"]


def test_cv_input_errors_are_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("text,labels\nnice food,food:tasty\nbad,\n", "utf-8")
    assert main(["cv", "--data", str(bad), "--folds", "3"]) == 2
    err = capsys.readouterr().err
    assert "row 1" in err and "tasty" in err and "Traceback" not in err
