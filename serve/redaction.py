"""Apply PII redaction to batch output: the text column and every evidence span, with
offsets re-expressed on the redacted text so they still point at the right sentence."""

from __future__ import annotations

from themesift.nlp.redact import redact_batch


def redact_results(texts: list, results: list[dict]) -> list:
    """Return the redacted texts (non-strings unchanged); rewrite evidence in ``results`` in place."""
    idx = [i for i, t in enumerate(texts) if isinstance(t, str)]
    redactions = redact_batch([texts[i] for i in idx])
    out = list(texts)
    for i, red in zip(idx, redactions):
        out[i] = red.text
        for theme in results[i]["themes"]:
            for ev in theme.get("evidence", []):
                start, end = red.map_span(ev["start"], ev["end"])
                ev.update(text=red.text[start:end], start=start, end=end)
    return out
