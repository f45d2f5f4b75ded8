"""PII redaction: fixture recall/precision, phone false positives, offset mapping."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from themesift.nlp.redact import RedactedSpan, Redaction, redact, redact_batch
from themesift.nlp.sentences import split_sentences

FIXTURE = Path(__file__).parent / "fixtures" / "nlp_pii.jsonl"


def _fixture() -> list[dict]:
    with open(FIXTURE, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def test_fixture_recall_and_precision() -> None:
    rows = _fixture()
    assert len(rows) >= 60
    assert {s["label"] for r in rows for s in r["spans"]} == {"EMAIL", "PHONE", "URL", "PERSON"}
    results = redact_batch([r["text"] for r in rows])
    found = total = correct_pred = n_pred = 0
    misses = []
    for row, red in zip(rows, results):
        pred = [(s.start, s.end, s.label) for s in red.spans]
        for g in row["spans"]:
            total += 1
            if any(s <= g["start"] and e >= g["end"] and lab == g["label"] for s, e, lab in pred):
                found += 1
            else:
                misses.append(g["text"])
        for s, e, lab in pred:
            n_pred += 1
            correct_pred += any(s < g["end"] and e > g["start"] and lab == g["label"] for g in row["spans"])
    recall, precision = found / total, correct_pred / n_pred
    print(f"PII fixture: recall={recall:.3f} ({found}/{total}) precision={precision:.3f}")
    assert recall >= 0.95, misses
    assert precision >= 0.9


def test_masks_each_kind() -> None:
    r = redact(
        "Email jane.doe@example.com or call (555) 123-4567, see www.example.com/jobs. My manager Sarah Johnson agrees."
    )
    assert r.text == "Email [EMAIL] or call [PHONE], see [URL]. My manager [PERSON] agrees."
    assert [s.label for s in r.spans] == ["EMAIL", "PHONE", "URL", "PERSON"]


@pytest.mark.parametrize(
    "text",
    [
        "Salary was 50,000 in 2019 and only went up 3% by 2023.",
        "Worked there 2015-2019 and 2019 - 2021.",
        "Pay is $45,000 - $55,000 with a 12.5% bonus, 2,50,000 INR in India.",
        "Shifts 08:30-17:30, 9-5 on weekends, dated 12/05/2020 or 12.05.2020.",
        "Version 3.2.1 shipped in Q3 2021; ticket 123456789; order 12345678901.",
        "We had 1 200 staff in 2010 2011 2012 and scores of 100 200 300 400.",
        "Amazon, Google and Deloitte pay more. Management is bad.",
        "Good pay.Management is bad.Would not recommend.",
        "We use .NET and Node.js; the site is down a lot.",
    ],
)
def test_no_false_positives(text: str) -> None:
    r = redact(text)
    assert r.text == text, r.spans


@pytest.mark.parametrize(
    "phone",
    [
        "+44 20 7946 0958",
        "+44 (0)20 7946 0958",
        "(555) 123-4567",
        "555-123-4567",
        "555.867.5309",
        "07700 900123",
        "0161 496 0000",
        "1-800-555-0199",
        "+91 98765 43210",
        "9876543210",
        "+1 (415) 555-0132",
        "416 555 0199",
    ],
)
def test_phone_formats(phone: str) -> None:
    assert redact(f"call me on {phone} today", kinds=("PHONE",)).text == "call me on [PHONE] today"


def test_url_excludes_trailing_punctuation() -> None:
    assert redact("See www.example.com. Or (https://x.org/a_(b)).").text == "See [URL]. Or ([URL])."


def test_kinds_restrict_what_is_masked() -> None:
    text = "Ask Sarah Johnson at sarah@example.com"
    assert redact(text, kinds=("EMAIL",)).text == "Ask Sarah Johnson at [EMAIL]"
    assert redact(text, kinds=("PERSON",)).text == "Ask [PERSON] at sarah@example.com"
    with pytest.raises(ValueError, match="unknown PII kind"):
        redact(text, kinds=("SSN",))


def test_title_rule_keeps_title() -> None:
    assert redact("Talk to Mr. Patel about it.").text == "Talk to Mr. [PERSON] about it."


def test_empty_and_batch_alignment() -> None:
    assert redact("") == Redaction("", [])
    texts = ["no pii here", "mail a@b.com", "", "call 555-123-4567"]
    assert redact_batch(texts) == [redact(t) for t in texts]


def test_offsets_of_spans() -> None:
    text = "Hi, mail a@b.com now"
    r = redact(text)
    (span,) = r.spans
    assert span == RedactedSpan(9, 16, "EMAIL", 9, 16)
    assert text[span.start : span.end] == "a@b.com"
    assert r.text[span.new_start : span.new_end] == "[EMAIL]"


def test_map_offset() -> None:
    text = "Call 555-123-4567 or mail averyverylongname@example.com ok"
    r = redact(text)
    assert r.text == "Call [PHONE] or mail [EMAIL] ok"
    assert r.map_offset(0) == 0
    assert r.map_offset(5) == 5  # start of the phone
    assert r.map_offset(8) == 5 and r.map_offset(8, "end") == 12  # inside the phone
    assert r.map_offset(17) == 12  # end of the phone
    assert r.map_offset(len(text)) == len(r.text)
    assert r.map_offset(text.index(" ok")) == r.text.index(" ok")


def test_sentence_offsets_map_onto_redacted_text() -> None:
    text = "Mail jane@example.com for info. My manager Sarah Johnson is kind!\nCall 555-123-4567."
    r = redact(text)
    mapped = [r.text[slice(*r.map_span(s.start, s.end))] for s in split_sentences(text)]
    assert mapped == ["Mail [EMAIL] for info.", "My manager [PERSON] is kind!", "Call [PHONE]."]


def test_rejects_non_text() -> None:
    with pytest.raises(TypeError):
        redact(None)  # type: ignore[arg-type]
