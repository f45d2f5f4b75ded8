"""The shipped default model through predict(): shape of results, bad inputs, evidence."""

import numpy as np
import pytest

import themesift
from themesift.models.taxonomy import load_taxonomy
from themesift.serve.predict import predict


def test_default_model_implements_the_packaged_taxonomy(default_model):
    assert default_model.themes == load_taxonomy().ids
    assert len(default_model.themes) == 18


def test_predict_finds_obvious_themes(default_model):
    results = themesift.predict(
        ["The salary is far too low and there are no raises.", "My manager is supportive and always available."]
    )
    assert "pay_benefits:negative" in results[0]["labels"]
    assert "manager_support:positive" in results[1]["labels"]
    for r in results:
        assert r["error"] is None
        assert [f"{t['theme']}:{t['polarity']}" for t in r["themes"]] == r["labels"]
        assert all(0.0 <= t["score"] <= 1.0 for t in r["themes"])


@pytest.mark.parametrize("bad", [None, "", "   \n ", 42, float("nan"), ["a list"]])
def test_bad_inputs_are_flagged_not_dropped(default_model, bad):
    results = predict(["Good pay.", bad, "Terrible management."], default_model)
    assert len(results) == 3
    assert results[1]["labels"] == [] and results[1]["error"]
    assert results[0]["error"] is None and results[2]["error"] is None


def test_huge_text_is_truncated_and_warned(default_model):
    [result] = predict(["The pay is awful. " * 5000], default_model, max_chars=1000)
    assert result["warning"] == "truncated to 1000 characters"
    assert "pay_benefits:negative" in result["labels"]


def test_text_blank_up_to_the_cut_is_flagged_not_classified(default_model):
    [result] = predict([" " * 1000 + "The pay is awful."], default_model, max_chars=1000)
    assert result["labels"] == []
    assert result["error"] == "empty comment (no text in the first 1000 characters)"


def test_evidence_points_into_the_original_text(default_model):
    text = "Great colleagues who help each other.  The pay, however, is  far below market &amp; unfair."
    [result] = predict([text], default_model, evidence=True)
    by_theme = {t["theme"]: t for t in result["themes"]}
    assert "pay_benefits" in by_theme and "teamwork_culture" in by_theme
    for theme in result["themes"]:
        for ev in theme["evidence"]:
            assert text[ev["start"] : ev["end"]] == ev["text"]
    assert "pay" in by_theme["pay_benefits"]["evidence"][0]["text"]
    assert "colleagues" in by_theme["teamwork_culture"]["evidence"][0]["text"]


def test_single_string_is_rejected_with_a_clear_message():
    with pytest.raises(TypeError, match="list of texts"):
        predict("just one string")


def test_predict_is_deterministic(default_model):
    texts = ["Long hours and weekend shifts.", "The canteen food is great."]
    a, b = default_model.predict_proba(texts), default_model.predict_proba(texts)
    np.testing.assert_array_equal(a, b)
