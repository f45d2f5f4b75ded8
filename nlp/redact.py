"""PII masking for comments before they are stored, shown or shared.

E-mails, phone numbers and URLs are found with regular expressions; person names with
en_core_web_sm's NER (only the PERSON label: "Amazon" tagged ORG is left alone), plus a title
rule ("Mr. Patel", "Dr. Okafor") for names NER misses. Each match is replaced by ``[EMAIL]``,
``[PHONE]``, ``[URL]`` or ``[PERSON]``; :class:`Redaction` keeps the old/new offsets so that
evidence offsets computed on the original text can be moved onto the redacted text
(:meth:`Redaction.map_offset`).

Phones must not swallow years, salaries, ranges or percentages, so candidates are digit runs
with phone-style separators, validated on their digit count and grouping (commas never
belong to a phone, so "50,000" cannot match).

PERSON hits from NER are kept only if every word is tagged NNP, no word is a workplace term
("Salary", "Management"), the first word is not an English adjective/adverb ("Good Training"),
and the surrounding words are not Title Case (headlines). (Dropping every sentence-initial
English noun/verb was tried: it removed 2 of 61 false hits on the pool sample but lost "Robert"
and any "Mark ...", so it was not kept.) Measured on 3,000 real comments from
employee-reviews/pool.jsonl, these filters cut PERSON hits from 165 to 61; about a quarter of
the remaining are real people, the rest mostly employer or product names ("Alteryx", "Kantar")
that the small model calls PERSON. E-mail/phone/URL regexes fire on 4 of 30,000 pool comments
(all real URLs).

Quality on tests/fixtures/nlp_pii.jsonl (84 comments: 64 PII spans of all four kinds plus 24
distractor lines with years, salaries, ranges, percentages, versions, times and company names);
a span counts as found only when a mask of the same kind covers all of it:
  * recall 0.969 (62/64: PERSON 33/35, EMAIL 6/6, PHONE 15/15, URL 8/8), precision 1.000 (62/62).
  * The first 72 lines were written while building the rules (recall/precision 1.000 there);
    the last 12 were added afterwards as a check and scored recall 9/12 before one fix
    ("+44 (0)20 ..."). Still missed: "Sean and Aoife", which NER does not tag as PERSON.
Speed: ~130 comments/s with PERSON (NER-bound, 2 busy shared cores), ~50,000/s regexes only.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Literal

from spacy.tokens import Doc, Span

from themesift.nlp.spacy_pipeline import get_nlp

KINDS = ("EMAIL", "PHONE", "URL", "PERSON")
_PRIORITY = {kind: i for i, kind in enumerate(("EMAIL", "URL", "PHONE", "PERSON"))}
_BATCH_SIZE = 256

_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9][\w.+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# Bare domains only with TLDs that rarely appear in a missing-space typo ("good.in my team"),
# unless a path follows ("example.de/jobs").
_GTLD = r"(?:com|org|net|edu|gov|io|info|biz|co\.uk|org\.uk|ac\.uk|gov\.uk|com\.au|co\.in|co\.za)"
_URL = re.compile(
    r"(?:https?://|www\.)[^\s<>\"']+"
    r"|(?<![\w@.-])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+" + _GTLD + r"\b(?:/[^\s<>\"']*)?"
    r"|(?<![\w@.-])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,3}/[^\s<>\"']+"
)
# Digits with phone separators: an optional +country code, (area) groups, spaces/dots/hyphens.
_PHONE = re.compile(r"(?<![\w.,/$€£#-])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,5}\)[\s.-]?)?\d[\d\s.-]{5,16}\d(?![\w%]|[.,]\d)")
_TITLE_NAME = re.compile(
    r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof)\.?\s+((?:[A-Z][a-z]+(?:['-][A-Z]?[a-z]+)?)(?:\s+[A-Z][a-z]+)?)"
)
# Workplace words that en_core_web_sm tags PERSON when capitalised at the start of a comment
# (measured on employee-reviews/pool.jsonl: "Salary" alone was 11% of its PERSON hits).
_NOT_NAMES = frozenset(
    """
salary salaries pay benefits benefit management manager managers leadership culture training
growth career layoff layoffs loyalty retention role gossip covid morale work balance team teams
people staff company hr ceo supervisor supervisors hours shift shifts schedule flexibility flex
location office environment pto bonus bonuses promotion promotions politics product products
marketing sales support customer customers lots tons family opportunity opportunities learning
experience job pros cons advice overall none nothing perks insurance health remote wfh commute
pension stock compensation communication micromanagement workload stress pressure overtime raise
raises hike appraisal recognition diversity inclusion innovation technology tech tools process
policies policy security stability colleagues coworkers peers boss bosses director directors
executive executives senior junior internship mentor mentorship onboarding hiring recruitment
interview lunch canteen cafeteria parking gym vacation leave holidays weekend weekends mgmt admin
hrs email e-mail mail call phone text contact ask message ping dm whatsapp
""".split()
)


@dataclass(frozen=True)
class RedactedSpan:
    """One masked span: ``[start, end)`` in the original, ``[new_start, new_end)`` in the result."""

    start: int
    end: int
    label: str
    new_start: int
    new_end: int


@dataclass
class Redaction:
    """Redacted ``text`` plus the spans that were masked (sorted by position)."""

    text: str
    spans: list[RedactedSpan] = field(default_factory=list)

    def map_offset(self, pos: int, side: Literal["start", "end"] = "start") -> int:
        """Map an original-text offset onto :attr:`text`.

        Offsets outside masks shift by the length change of the masks before them. An offset
        strictly inside a mask maps to the mask's start for ``side="start"`` and to its end for
        ``side="end"``, so a mapped ``[start, end)`` range always contains whole masks.
        """
        i = bisect.bisect_right([s.start for s in self.spans], pos) - 1
        if i < 0:
            return pos
        span = self.spans[i]
        if pos == span.start:
            return span.new_start
        if pos < span.end:
            return span.new_start if side == "start" else span.new_end
        return span.new_end + (pos - span.end)

    def map_span(self, start: int, end: int) -> tuple[int, int]:
        """Map an original ``[start, end)`` range (e.g. a sentence) onto :attr:`text`."""
        return self.map_offset(start, "start"), self.map_offset(end, "end")


def _valid_phone(candidate: str) -> bool:
    """Accept only digit groupings that phone numbers use.

    A bare run of spaced or hyphenated numbers is ambiguous ("2010 2011 2012", "100 200 300",
    card numbers), so without a ``+`` or ``(area)`` prefix a candidate must have a national
    trunk ``0`` (UK/EU/AU/IN: 020 7946 0958, 07700 900123), a North-American shape
    (555-123-4567, 1-800-555-0199, 555-0123) or an Indian mobile shape (98765 43210).
    """
    digits = re.sub(r"\D", "", candidate)
    # "+44 (0)20 ..." writes the trunk 0 that is dropped when dialling from abroad
    shape = tuple(len(g) for g in re.findall(r"\d+", candidate.replace("(0)", "")))
    if not 7 <= len(digits) <= 15:
        return False
    if candidate.startswith(("+", "(")):
        return len(digits) >= 9 and min(shape[1:], default=9) >= 2
    if len(shape) == 1:  # unbroken: 10-digit mobile/NANP, or 11 digits with trunk 0
        return (len(digits) == 10 and digits[0] in "23456789") or (len(digits) == 11 and digits[0] == "0")
    if digits[0] == "0":
        return 9 <= len(digits) <= 14 and min(shape) >= 2
    if shape in ((3, 3, 4), (1, 3, 3, 4)):
        return True
    if shape == (3, 4):  # 7-digit local number only when hyphenated: 555-0123
        return "-" in candidate
    return shape == (5, 5) and digits[0] in "6789"


def _regex_spans(text: str, kinds: Sequence[str]) -> list[tuple[int, int, str]]:
    found: list[tuple[int, int, str]] = []
    if "EMAIL" in kinds:
        found += [(m.start(), m.end(), "EMAIL") for m in _EMAIL.finditer(text)]
    if "URL" in kinds:
        for m in _URL.finditer(text):
            url = m.group().rstrip(".,;:!?\"')]}")
            if url.count("(") > url.count(")"):  # restore the ")" of ".../Foo_(bar)"
                url = m.group()[: len(url) + 1].rstrip(".,;:!?\"']}")
            found.append((m.start(), m.start() + len(url), "URL"))
    if "PHONE" in kinds:
        for m in _PHONE.finditer(text):
            value = m.group().rstrip(" .-")
            if _valid_phone(value):
                found.append((m.start(), m.start() + len(value), "PHONE"))
    if "PERSON" in kinds:
        found += [(m.start(1), m.end(1), "PERSON") for m in _TITLE_NAME.finditer(text)]
    return found


@cache
def _wordnet(*pos: str) -> frozenset[str]:
    """WordNet lemmas of the given parts of speech (from en_core_web_sm's lemmatizer tables)."""
    table = get_nlp("ner").get_pipe("lemmatizer").lookups.get_table("lemma_index")
    return frozenset(w for p in pos for w in table.get(p, []))


def _sentence_initial(doc: Doc, i: int) -> bool:
    return i == 0 or doc[i - 1].text in (".", "!", "?", ":", "-", "•", "*", "\n")


def _title_case_context(doc: Doc, ent: Span) -> bool:
    """True when the words around ``ent`` are mostly Capitalised (a headline such as "Good
    Training And Great People") or absent: NER calls such phrases PERSON far too often."""
    others = [t for t in doc if t.is_alpha and not ent.start <= t.i < ent.end and not _sentence_initial(doc, t.i)]
    if not others:
        return True
    return sum(t.text[0].isupper() for t in others) / len(others) >= 0.6


def _plausible_person(doc: Doc, ent: Span) -> bool:
    words = [t for t in ent if t.is_alpha]
    if not words or any(t.tag_ not in ("NNP", "NNPS") for t in words):
        return False  # "info", "Learn", "Highly Politicized" are not tagged as proper nouns
    if any(t.lower_ in _NOT_NAMES for t in words) or words[0].lower_ in _wordnet("adj", "adv"):
        return False
    return not _title_case_context(doc, ent)


def _person_spans(doc: Doc) -> list[tuple[int, int, str]]:
    spans = []
    for ent in doc.ents:
        if ent.label_ != "PERSON" or not _plausible_person(doc, ent):
            continue
        start, end = ent.start_char, ent.end_char
        while end > start and not ent.doc.text[end - 1].isalnum():  # "Kevin," / "Lee's"
            end -= 1
        if ent.doc.text[start:end].endswith(("'s", "’s")):
            end -= 2
        if end > start:
            spans.append((start, end, "PERSON"))
    return spans


def _apply(text: str, candidates: list[tuple[int, int, str]]) -> Redaction:
    """Keep non-overlapping candidates (EMAIL > URL > PHONE > PERSON, then longer) and mask."""
    chosen: list[tuple[int, int, str]] = []
    for start, end, label in sorted(candidates, key=lambda c: (_PRIORITY[c[2]], c[0] - c[1])):
        if all(end <= s or start >= e for s, e, _ in chosen):
            chosen.append((start, end, label))
    chosen.sort()
    parts: list[str] = []
    spans: list[RedactedSpan] = []
    pos = new_pos = 0
    for start, end, label in chosen:
        parts.append(text[pos:start])
        new_pos += start - pos
        mask = f"[{label}]"
        parts.append(mask)
        spans.append(RedactedSpan(start, end, label, new_pos, new_pos + len(mask)))
        new_pos += len(mask)
        pos = end
    parts.append(text[pos:])
    return Redaction("".join(parts), spans)


def _check_kinds(kinds: Iterable[str]) -> tuple[str, ...]:
    kinds = tuple(kinds)
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise ValueError(f"unknown PII kind(s) {unknown}; use some of {', '.join(KINDS)}")
    return kinds


def redact_batch(texts: Iterable[str], kinds: Iterable[str] = KINDS) -> list[Redaction]:
    """Redact many texts; person names use one batched spaCy NER pass (``nlp.pipe``)."""
    texts = list(texts)
    kinds = _check_kinds(kinds)
    for t in texts:
        if not isinstance(t, str):
            raise TypeError(f"redact expects str, got {type(t).__name__}")
    people: Iterable[list[tuple[int, int, str]]] = ([] for _ in texts)
    if "PERSON" in kinds:
        people = (_person_spans(d) for d in get_nlp("ner").pipe(texts, batch_size=_BATCH_SIZE))
    return [_apply(t, _regex_spans(t, kinds) + p) for t, p in zip(texts, people)]


def redact(text: str, kinds: Iterable[str] = KINDS) -> Redaction:
    """Mask e-mails, phone numbers, URLs and person names in ``text`` (see module docstring)."""
    return redact_batch([text], kinds)[0]
