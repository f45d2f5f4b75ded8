"""Label audit (themesift audit): planted polarity errors in real labeled comments are found
and ranked high, with the suggested label; the data file is not changed."""

from __future__ import annotations

import json
import random

import pandas as pd
import pytest

from themesift.training.audit import find_label_issues
from themesift.training.data import LabeledData


@pytest.fixture(scope="module")
def planted(gold_train):
    rng = random.Random(1)
    rows = gold_train[:3000]
    texts, labels = [r["text"] for r in rows], [list(r["labels"]) for r in rows]
    polar = [i for i, ls in enumerate(labels) if any(x.endswith((":positive", ":negative")) for x in ls)]
    flipped = {}
    for i in rng.sample(polar, 90):
        k = rng.choice([k for k, x in enumerate(labels[i]) if x.endswith((":positive", ":negative"))])
        theme, _, polarity = labels[i][k].partition(":")
        labels[i][k] = f"{theme}:{'negative' if polarity == 'positive' else 'positive'}"
        flipped[(i + 1, labels[i][k])] = f"{theme}:{polarity}"
    return texts, labels, flipped


def test_planted_polarity_errors_are_ranked_high(planted):
    texts, labels, flipped = planted
    issues = find_label_issues(LabeledData(texts, labels), progress=False)
    found = [(r, lab) in flipped for r, lab in zip(issues["row"], issues["label"])]
    share_of_issues = sum(found) / len(found)
    assert sum(found) / len(flipped) >= 0.6  # most planted errors are listed
    assert sum(found[:90]) / 90 >= 2 * share_of_issues  # and they sit near the top
    hit = issues[found].iloc[0]
    assert hit["issue"] == "polarity" and flipped[(hit["row"], hit["label"])] in hit["suggested_labels"].split("; ")
    assert issues["confidence"].is_monotonic_decreasing


def test_cli_audit(tmp_path, planted, capsys):
    from themesift.cli import main

    texts, labels, _ = planted
    src, out = tmp_path / "labeled.jsonl", tmp_path / "issues.csv"
    with open(src, "w", encoding="utf-8") as fh:
        for text, ls in list(zip(texts, labels))[:800]:
            fh.write(json.dumps({"text": text, "labels": ls}) + "\n")
    before = src.read_bytes()
    assert main(["audit", "--data", str(src), "-o", str(out), "--folds", "3"]) == 0
    assert "likely label issues in 800 rows" in capsys.readouterr().out
    table = pd.read_csv(out)
    assert list(table.columns) == ["row", "text", "labels", "issue", "label", "suggested_labels", "confidence", "why"]
    assert src.read_bytes() == before
    assert main(["audit", "--data", str(src), "-o", str(tmp_path / "no" / "x.csv")]) == 2
