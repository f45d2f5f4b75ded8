"""Evidence: which sentences of a comment carry each theme found in it.

Each sentence is scored on its own; a theme's evidence is every sentence whose presence
score clears the theme's threshold, or else the single sentence that scores highest for it.
Offsets point into the original (un-normalised) text.
"""

from __future__ import annotations

from themesift.models.base import ThemeClassifier, presence_scores
from themesift.nlp.normalize import normalize_text
from themesift.nlp.sentences import split_sentences_batch


def attach_evidence(
    clf: ThemeClassifier, texts: list[str], results: list[dict], audiences: list[str | None] | None = None
) -> None:
    """Add ``evidence: [{"text", "start", "end"}]`` to every theme in ``results``, in place.

    ``audiences`` (one per text) scores each sentence as its comment's audience, not its own."""
    sentence_lists = split_sentences_batch(texts)
    flat = [(row, s) for row, sents in enumerate(sentence_lists) for s in sents]
    scores = None
    if flat:
        who = None if audiences is None else [audiences[row] for row, _ in flat]
        scores = presence_scores(clf.predict_proba([normalize_text(s.text) for _, s in flat], audience=who))
    by_row: dict[int, list[int]] = {}
    for k, (row, _) in enumerate(flat):
        by_row.setdefault(row, []).append(k)
    space = clf.label_space_
    for row, result in enumerate(results):
        ks = by_row.get(row, [])
        for theme in result["themes"]:
            if not ks:
                theme["evidence"] = [{"text": texts[row], "start": 0, "end": len(texts[row])}]
                continue
            col = space.theme_index(theme["theme"])
            chosen = [k for k in ks if scores[k, col] >= clf.thresholds_[col]]
            if not chosen:
                chosen = [max(ks, key=lambda k: scores[k, col])]
            theme["evidence"] = [
                {"text": flat[k][1].text, "start": flat[k][1].start, "end": flat[k][1].end} for k in chosen
            ]
