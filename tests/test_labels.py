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


# ---------------------------------------------------------------- issue #19: one label parser


def test_a_number_is_not_a_theme():
    """#20 row 17 (L83): a labels column of codes must not become one theme per code."""
    for bad in ("0", "59", "3.5:positive"):
        with pytest.raises(LabelError, match="is a number, not a theme name"):
            parse_label(bad)


def test_a_comma_in_a_theme_means_labels_joined_with_commas():
    with pytest.raises(LabelError, match="',' in its theme"):
        parse_label("pay positive, tools:negative")


def test_any_polarity_when_none_is_given_and_spaces_in_themes():
    assert parse_label("food quality:conflict", None) == ("food quality", "conflict")
    with pytest.raises(LabelError, match="unknown polarity 'conflict'"):
        parse_label("food quality:conflict")


def test_one_cell_parser_for_every_layout():
    from themesift.models.labels import parse_labels

    assert parse_labels("pay:negative; trust:Positive") == ["pay:negative", "trust:positive"]
    assert parse_labels('["pay:negative"]') == ["pay:negative"]
    assert parse_labels(np.array(["pay:negative"])) == ["pay:negative"]
    assert parse_labels(float("nan")) == [] and parse_labels(None) == [] and parse_labels("  ") == []
    with pytest.raises(LabelError, match="appears twice"):
        parse_labels("pay:negative; pay:positive")


def test_themes_differing_only_in_case_are_refused():
    """#20 row 17 (L82): MANAGER_SUPPORT and manager_support are one theme spelled twice: refused."""
    with pytest.raises(LabelError, match="'MANAGER_SUPPORT' and 'manager_support' differ only in case"):
        LabelSpace(("MANAGER_SUPPORT", "manager_support"))
    with pytest.raises(LabelError, match="differ only in case"):
        LabelSpace.from_label_sets([["manager_support:positive"], ["MANAGER_SUPPORT:negative"]])
