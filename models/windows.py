"""Long comments read whole: sentence windows up to the encoder's limit, scores combined.

A transformer encoder sees at most ``max_length`` tokens (256 for the shipped MiniLM), so a long
complaint whose theme comes near the end would lose it silently. A text over the limit is split
into sentences (nlp.sentences) and packed greedily into consecutive windows that each fit; every
window is scored, and for each theme the text takes the window where that theme is most present
(its polarity included). A single sentence longer than the limit is its own window and is cut by
the encoder as before. Texts that fit are scored exactly as they always were.

Taking the most present window is the multi-label reading of "the comment mentions X somewhere";
averaging windows would dilute a theme mentioned once in a long text (measured in
benchmarks/long_comments.py, figures in benchmarks/README.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

TokenCounter = Callable[[list[str]], list[int]]
# [CLS] and [SEP] (or <s> </s>): the room a BERT-style encoder keeps for its own tokens
SPECIAL_TOKENS = 2


def token_counter(tokenizer) -> TokenCounter:
    """Tokens per text (special tokens left out), from any tokenizer called like a Hugging Face one
    (transformers' own, or encoder.TextTokenizer on a warm start)."""
    return lambda texts: [
        len(ids) for ids in tokenizer(texts, add_special_tokens=False, truncation=False, verbose=False)["input_ids"]
    ]


def split_windows(texts: Sequence[str], count_tokens: TokenCounter, max_tokens: int) -> tuple[list[str], list[int]]:
    """The texts to score and, for each, the index of the input text it belongs to.

    A text within ``max_tokens`` (special tokens included) is one window, itself."""
    budget = max(1, max_tokens - SPECIAL_TOKENS)
    # a token covers at least one character, so a text this short cannot be over the limit
    candidates = [i for i, t in enumerate(texts) if len(t) > budget]
    lengths = dict(zip(candidates, count_tokens([texts[i] for i in candidates]))) if candidates else {}
    long_rows = [i for i in candidates if lengths[i] > budget]
    windows_of = dict(zip(long_rows, _pack_sentences([texts[i] for i in long_rows], count_tokens, budget)))
    out_texts: list[str] = []
    owner: list[int] = []
    for i, text in enumerate(texts):
        parts = windows_of.get(i) or [text]
        out_texts += parts
        owner += [i] * len(parts)
    return out_texts, owner


def _pack_sentences(texts: list[str], count_tokens: TokenCounter, budget: int) -> list[list[str]]:
    if not texts:
        return []
    from themesift.nlp.sentences import split_sentences_batch  # spaCy: only when a text is long

    result = []
    for text, sentences in zip(texts, split_sentences_batch(texts)):
        if len(sentences) < 2:
            result.append([text])
            continue
        sizes = count_tokens([s.text for s in sentences])
        windows: list[tuple[int, int]] = []  # character spans, so a window keeps the text between sentences
        start, used = sentences[0].start, 0
        end = sentences[0].end
        for sentence, size in zip(sentences, sizes):
            if used and used + size > budget:
                windows.append((start, end))
                start, used = sentence.start, 0
            used += size
            end = sentence.end
        windows.append((start, end))
        result.append([text[a:b] for a, b in windows])
    return result


def combine_windows(proba: np.ndarray, owner: Sequence[int], n_texts: int) -> np.ndarray:
    """Per text and theme, the class distribution of the window where the theme is most present.

    ``proba`` has shape (n_windows, n_themes, n_classes) with class 0 = absent."""
    owner = np.asarray(owner)
    if len(owner) == n_texts:
        return proba
    starts = np.searchsorted(owner, np.arange(n_texts + 1))  # windows of a text are contiguous
    out = proba[starts[:-1]].copy()
    themes = np.arange(proba.shape[1])
    for i in np.flatnonzero(np.diff(starts) > 1):
        rows = proba[starts[i] : starts[i + 1]]
        best = rows[:, :, 0].argmin(axis=0)  # lowest "absent" = most present, per theme
        out[i] = rows[best, themes]
    return out
