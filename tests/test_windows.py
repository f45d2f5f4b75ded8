"""Long comments are read whole (models.windows), with the real tokenizer and the shipped model."""

from __future__ import annotations

import numpy as np
import pytest

from themesift.models.windows import combine_windows, split_windows, token_counter

FILLER = "I joined the company three years ago and started in the warehouse team in the north building."
LATE_THEME = " ".join([FILLER] * 14) + " Pay is well below the market rate and nobody has had a raise in years."


@pytest.fixture(scope="module")
def count():
    from transformers import AutoTokenizer

    from themesift.models.encoder import DEFAULT_BASE_MODEL, resolve_base_model

    return token_counter(AutoTokenizer.from_pretrained(resolve_base_model(DEFAULT_BASE_MODEL)))


def test_short_texts_are_their_own_window(count):
    texts = ["Pay is low.", "Great manager, terrible hours."]
    assert split_windows(texts, count, 256) == (texts, [0, 1])


def test_long_text_split_into_windows_that_fit_and_cover_every_sentence(count):
    texts = ["short one", LATE_THEME, "another short"]
    assert count([LATE_THEME])[0] > 254
    windows, owner = split_windows(texts, count, 256)
    assert owner[0] == 0 and owner[-1] == 2 and owner.count(1) >= 2
    long_windows = [w for w, o in zip(windows, owner) if o == 1]
    assert all(n <= 254 for n in count(long_windows))
    assert " ".join(long_windows) == LATE_THEME  # consecutive, nothing dropped
    assert long_windows[-1].endswith("raise in years.")


def test_a_single_overlong_sentence_stays_one_window(count):
    text = "word " * 600
    windows, owner = split_windows([text], count, 256)
    assert windows == [text] and owner == [0]


def test_combine_takes_the_window_where_each_theme_is_most_present():
    # 2 themes, classes (absent, positive, negative); text 0 has windows 0 and 1, text 1 one window
    proba = np.array(
        [
            [[0.9, 0.1, 0.0], [0.2, 0.7, 0.1]],
            [[0.1, 0.0, 0.9], [0.8, 0.1, 0.1]],
            [[0.5, 0.5, 0.0], [0.5, 0.0, 0.5]],
        ]
    )
    out = combine_windows(proba, [0, 0, 1], 2)
    np.testing.assert_allclose(out[0, 0], [0.1, 0.0, 0.9])  # theme 0 from window 1
    np.testing.assert_allclose(out[0, 1], [0.2, 0.7, 0.1])  # theme 1 from window 0
    np.testing.assert_allclose(out[1], proba[2])


def test_shipped_model_finds_a_theme_past_the_encoder_limit(default_model):
    from themesift import predict

    result = predict([LATE_THEME, "Pay is well below the market rate."], model=default_model)
    late = {(t["theme"], t["polarity"]) for t in result[0]["themes"]}
    assert ("pay_benefits", "negative") in late
    assert result[1]["themes"][0]["theme"] == "pay_benefits"
