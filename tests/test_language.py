"""Language detection and the not-English flag."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from themesift.nlp.language import detect_language, non_english_flag

POOL = Path("/work/shared/data/employee-reviews/pool.jsonl")

FOREIGN = [
    ("de", "Die Bezahlung ist gut, aber die Arbeitszeiten sind zu lang und der Chef hört nie zu."),
    ("de", "Tolles Team und flexible Arbeitszeiten, ich arbeite sehr gerne hier."),
    ("fr", "Le salaire est correct mais la direction ne communique jamais avec les équipes."),
    ("fr", "Très bonne ambiance de travail, mais peu de possibilités d'évolution."),
    ("es", "El sueldo es bajo y los horarios son muy largos, pero los compañeros son geniales."),
    ("es", "La empresa no valora a sus empleados y la gerencia es un desastre."),
    ("pt", "O salário é bom, mas a gestão é péssima e não há oportunidades de crescimento."),
    ("pt", "Gosto muito da minha equipe e do ambiente de trabalho, recomendo a empresa."),
    ("it", "Lo stipendio è basso e i turni sono massacranti, ma i colleghi sono fantastici."),
    ("nl", "De werksfeer is goed maar het salaris is veel te laag voor dit soort werk."),
]

SHORT_FOREIGN = [
    ("pt", "Bom salário e bons benefícios"),
    ("de", "Sehr gutes Arbeitsklima"),
    ("fr", "Mauvaise gestion des équipes"),
    ("es", "Buen ambiente laboral y horarios"),
    ("it", "Ottimo ambiente di lavoro"),
    ("nl", "Goede collega's en fijne sfeer"),
    ("es", "Trabajo estable pero mal pagado"),
    ("fr", "Pas de télétravail possible"),
    ("de", "Keine Aufstiegsmöglichkeiten hier"),
    ("pt", "Salário baixo para o mercado"),
]


@pytest.mark.parametrize(("lang", "text"), FOREIGN)
def test_flags_foreign_comments(lang: str, text: str) -> None:
    detected, confidence = detect_language(text)
    assert detected == lang and 0.7 <= confidence <= 1.0
    assert non_english_flag(text) == f"not English ({lang}, {confidence:.2f})"


def test_most_short_foreign_comments_flagged() -> None:
    flagged = [text for _, text in SHORT_FOREIGN if non_english_flag(text)]
    print(f"short foreign flagged: {len(flagged)}/{len(SHORT_FOREIGN)}")
    assert len(flagged) >= 7


@pytest.mark.parametrize(
    "text",
    [
        "good pay",
        "Great team!",
        "n/a",
        "ok",
        "NA",
        "None",
        "Pay too low",
        "WLB",
        "Busy, busy, busy",
        "Fun Exploitative Gregarious Inescapable Unique",  # pool headline that langid calls 'fr'
        "Management in cliques prevent progression.",
        "Muy bien",  # too short to judge: not flagged by design
        "Contact hr@example.com or www.example.com, 2019-2020 #123",
    ],
)
def test_short_or_english_not_flagged(text: str) -> None:
    assert non_english_flag(text) is None


def test_english_detected() -> None:
    lang, confidence = detect_language("The managers here are supportive and the pay is fair.")
    assert lang == "en" and confidence > 0.9


def test_empty_input() -> None:
    assert detect_language("") == ("und", 0.0)
    assert detect_language("1234 !!!") == ("und", 0.0)
    assert non_english_flag("") is None
    assert non_english_flag(None) is None  # type: ignore[arg-type]


def test_false_flag_rate_on_real_english_comments() -> None:
    if not POOL.exists():
        pytest.skip("shared pool.jsonl not available")
    texts = []
    with open(POOL, encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i % 53 == 0:
                texts.append(json.loads(line)["text"])
            if len(texts) >= 200:
                break
    flagged = [(t, non_english_flag(t)) for t in texts if non_english_flag(t)]
    print(f"language false flags: {len(flagged)}/{len(texts)}")
    assert len(flagged) <= 1, flagged
