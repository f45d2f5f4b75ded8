"""The zeroshot family: a working model folder from a taxonomy file, real encoder and reference model."""

import json

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from themesift import evaluate, predict
from themesift.cli import main
from themesift.models.artifact import ModelFileError
from themesift.models.registry import load_artifact
from themesift.models.taxonomy import load_taxonomy
from themesift.models.zeroshot import ZeroShotError, build_zeroshot, reading_units, transfer_matrix

FIVE_IS = """\
version: five-is-test
themes:
  - id: inform
    name: Inform
    description: Being told what is going on - clear information, updates and explanations from leaders.
  - id: incentivize
    name: Incentivize
    description: Pay, bonuses, rewards and recognition for good work.
    keywords: [salary, bonus, raise]
  - id: instruct
    name: Instruct
    description: Training, coaching and learning how to do the job well.
    examples: ["The onboarding course taught me nothing useful."]
"""

COMMENTS = [
    "Pay is well below the market rate and raises are rare.",
    "Nobody tells us anything about the reorganisation.",
    "The training for new starters was excellent.",
    "We went there on a Tuesday.",
    "",
    "The pay is terrible but the training was excellent.",
]


@pytest.fixture(scope="module")
def taxonomy_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("zs") / "five-is.yaml"
    path.write_text(FIVE_IS, "utf-8")
    return path


@pytest.fixture(scope="module")
def model_dir(taxonomy_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("zs") / "model"
    pool = out.parent / "pool.csv"
    pool.write_text("comment\n" + "\n".join(f'"{c}"' for c in COMMENTS[:4]) + "\n", "utf-8")
    code = main(
        ["train", "--family", "zeroshot", "--taxonomy", str(taxonomy_file), "--unlabeled", str(pool), "-o", str(out)]
    )
    assert code == 0
    return out


def test_zero_shot_model_reads_themes_and_polarity_from_the_taxonomy_alone(model_dir):
    labels = predict(COMMENTS, model=model_dir)
    got = [sorted(t["theme"] + ":" + t["polarity"] for t in r["themes"]) for r in labels]
    assert got[0] == ["incentivize:negative"]
    assert got[1] == ["inform:negative"]
    assert got[2] == ["instruct:positive"]
    assert got[3] == [] and got[4] == []
    assert got[5] == ["incentivize:negative", "instruct:positive"]  # one theme per clause, not per sentence


def test_artifact_is_ordinary_and_says_it_saw_no_labels(model_dir):
    model = load_artifact(model_dir)
    assert model.family == "zeroshot" and model.themes == ("inform", "incentivize", "instruct")
    metrics = json.loads((model_dir / "metrics.json").read_text())
    assert metrics["labels_seen"] == 0
    assert metrics["unlabeled"]["comments"] == 4
    assert metrics["unlabeled"]["themes"]["incentivize"]["comments"] == 1
    assert "saw no labeled comments" in (model_dir / "README.md").read_text()
    assert not list(model_dir.glob("*.pkl"))
    scores = evaluate(model, COMMENTS[:3], [["incentivize:negative"], ["inform:negative"], ["instruct:negative"]])
    assert scores["theme"]["micro"]["f1"] == pytest.approx(1.0)
    assert scores["theme_polarity"]["micro"]["f1"] == pytest.approx(2 / 3, abs=1e-3)


def test_keywords_and_examples_are_compared_with(taxonomy_file):
    taxonomy = load_taxonomy(taxonomy_file)
    assert taxonomy.themes[1].keywords == ("salary", "bonus", "raise")
    assert taxonomy.themes[2].examples == ("The onboarding course taught me nothing useful.",)
    model = build_zeroshot(taxonomy)
    assert model.prototype_theme_.tolist() == [0, 1, 1, 1, 1, 2, 2]


def test_clauses_are_read_apart_only_where_two_are_joined():
    assert reading_units("Great food but the service was slow") == [
        "Great food but the service was slow",
        "Great food",
        "the service was slow",
    ]
    assert reading_units("Salt and pepper") == ["Salt and pepper"]  # a one-word side is no clause


def test_transfer_goes_to_the_best_described_theme_and_fades_with_similarity():
    similarity = np.array([[0.9, 0.1], [0.3, 0.12]])  # user themes x reference themes
    share = transfer_matrix(similarity)
    assert share[0, 0] == pytest.approx(1.0, abs=1e-3) and share[1, 0] < 1e-3
    assert share[:, 1].sum() == 0  # no user theme is described like reference theme 1


def test_a_theme_without_words_is_one_line(tmp_path):
    path = tmp_path / "bare.yaml"
    path.write_text("version: x\nthemes:\n  - id: a\n  - id: b\n    description: hi\n", "utf-8")
    with pytest.raises(ZeroShotError, match="theme\\(s\\) a have no description"):
        build_zeroshot(load_taxonomy(path))


@pytest.mark.parametrize(
    "yaml_text, args, message",
    [
        ("version: x\nthemes:\n  - id: a\n    description: x\n  - id: a\n    description: y\n", [], "used twice"),
        ("version: x\nthemes:\n  - id: a\n    keywords: pay\n", [], "must be a list of phrases"),
        ("version: x\nthemes:\n  - id: a\n", [], "no description, keywords or examples"),
        ("version: x\nthemes:\n  - id: a\n    description: x\n", ["--data", "x.csv"], "leave out --data"),
    ],
)
def test_bad_zero_shot_runs_are_one_line_errors(tmp_path, capsys, yaml_text, args, message):
    path = tmp_path / "t.yaml"
    path.write_text(yaml_text, "utf-8")
    assert main(["train", "--family", "zeroshot", "--taxonomy", str(path), "-o", str(tmp_path / "m"), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "Traceback" not in err and len(err.splitlines()) == 1
    assert not (tmp_path / "m").exists()


def test_corrupt_zero_shot_weights_are_refused(model_dir, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(model_dir, copy)
    tensors = load_file(str(copy / "weights.safetensors"))
    tensors["prototype_theme"] = np.array([0, 1, 9, 1, 1, 2, 2], dtype=np.int64)
    save_file(tensors, str(copy / "weights.safetensors"))
    with pytest.raises(ModelFileError, match="theme indices below 3"):
        load_artifact(copy)
