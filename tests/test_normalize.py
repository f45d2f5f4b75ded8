"""normalize_text / is_blank / text_problem."""

from __future__ import annotations

import math

import pytest

from themesift.nlp.normalize import is_blank, normalize_text, text_problem


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Pay &amp; benefits", "Pay & benefits"),
        ("Don&#39;t &quot;care&quot; &lt;3 &#x27;x&#x27;", "Don't \"care\" <3 'x'"),
        ("  line one\nline two\r\n\tthree  ", "line one line two three"),
        ("a\x00b\x07c\x1bd", "abcd"),
        ("zero\u200bwidth\ufeff", "zerowidth"),
        ("caf\u0065\u0301", "caf\u00e9"),  # decomposed é -> composed (NFC)
        ("non&nbsp;breaking\u00a0space", "non breaking space"),
        ("many     spaces \u2003 and em", "many spaces and em"),
        ("family 👨\u200d👩\u200d👧 emoji", "family 👨\u200d👩\u200d👧 emoji"),
        ("", ""),
        ("Great staff._x000D_\nQuick checkout", "Great staff. Quick checkout"),  # Excel's escaped CR
        ("tab_x0009_here &amp; there", "tab here & there"),
        ("literal _x005F_x000D_ stays", "literal _x000D_ stays"),  # an escaped underscore: not a CR
        ("not_xZZZZ_an escape", "not_xZZZZ_an escape"),
    ],
)
def test_normalize_text(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


def test_normalize_is_idempotent() -> None:
    once = normalize_text("A &amp;amp; B\n\n C\u0301")
    assert normalize_text(once) == once


def test_normalize_rejects_non_text() -> None:
    with pytest.raises(TypeError):
        normalize_text(None)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [None, math.nan, float("nan"), "", "  \n\t", "&nbsp;", 3, ["a"]])
def test_is_blank_true(value) -> None:
    assert is_blank(value)


@pytest.mark.parametrize("value", ["ok", " x ", "n/a"])
def test_is_blank_false(value) -> None:
    assert not is_blank(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "empty"),
        (math.nan, "empty"),
        ("", "empty"),
        ("   ", "empty"),
        (42, "not text: int"),
        (4.5, "not text: float"),
        (["a", "b"], "not text: list"),
        ({"a": 1}, "not text: dict"),
        (True, "not text: bool"),
        ("Great team", None),
        ("n/a", None),
    ],
)
def test_text_problem(value, expected) -> None:
    assert text_problem(value) == expected


def test_text_problem_pandas_missing_values() -> None:
    pd = pytest.importorskip("pandas")
    assert text_problem(pd.NA) == "empty"
    assert text_problem(pd.NaT) == "empty"
    assert text_problem(pd.Series(["x", None]).iloc[1]) == "empty"
