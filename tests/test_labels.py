import numpy as np
import pytest

from themesift.models.labels import LabelError, LabelSpace, parse_label


def test_parse_label_forms():
    assert parse_label("pay_benefits:negative") == ("pay_benefits", "negative")
    assert parse_label(" recognition : Positive ") == ("recognition", "positive")
    assert parse_label("autonomy") == ("autonomy", None)


@pytest.mark.parametrize("bad", ["", "a:b:c", ":positive", "pay:angry", "pay:"])
def test_parse_label_rejects(bad):
    with pytest.raises(LabelError):
        parse_label(bad)


def test_encode_decode_round_trip_and_unknown_polarity():
    space = LabelSpace(("pay", "trust"))
    y = space.encode([["pay:negative"], [], ["trust", "pay:neutral"]])
    assert y.tolist() == [[2, 0], [0, 0], [3, -1]]
    assert space.decode(y) == [["pay:negative"], [], ["pay:neutral", "trust"]]


def test_unknown_theme_is_an_error():
    with pytest.raises(LabelError, match="unknown theme 'growth'"):
        LabelSpace(("pay",)).encode([["growth:positive"]])


def test_space_from_label_sets_is_sorted_and_deduplicated():
    space = LabelSpace.from_label_sets([["b:positive", "a:negative"], ["b:neutral"]])
    assert space.themes == ("a", "b")
    assert LabelSpace.from_json(space.to_json()) == space
    assert np.array_equal(space.encode([["a:negative"]]), [[2, 0]])
