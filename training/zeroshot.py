"""``themesift train --family zeroshot``: a model folder from a taxonomy file, with no labels.

The model itself is models.zeroshot. What this adds is what a user needs around it: the taxonomy
checked (one line per fault), the user's unlabeled comments read as a *coverage check* (how often
each theme is found, and which never are: a description to reword), and a model card that says
the model saw no labels. The comments are not learned from: self-training on them was measured
(benchmarks/NOTES.md) and did not pay.
"""

from __future__ import annotations

import time
from pathlib import Path

from themesift.models import artifact
from themesift.models.taxonomy import load_taxonomy
from themesift.models.zeroshot import build_zeroshot
from themesift.training.provenance import hardware, package_versions

MAX_COVERAGE_COMMENTS = 5_000  # enough for shares to a point; a bigger file is sampled from its start


def read_unlabeled(path: str, text_column: str | None = None, limit: int = MAX_COVERAGE_COMMENTS) -> list[str]:
    """The first ``limit`` non-empty comments of a table (any format ``classify`` reads)."""
    from themesift.nlp.tables import iter_table_chunks, resolve_text_column

    texts: list[str] = []
    column = None
    for chunk in iter_table_chunks(path, chunksize=5_000):
        column = column or resolve_text_column(chunk.columns, text_column)
        texts += [v for v in chunk[column].tolist() if isinstance(v, str) and v.strip()]
        if len(texts) >= limit:
            break
    return texts[:limit]


def coverage(model, texts: list[str]) -> dict:
    """Per theme: the share of comments it is found in, and its polarity counts."""
    counts = {t: {"comments": 0, "polarity": {}} for t in model.themes}
    for labels in model.predict(texts, audience=None):
        for label in labels:
            theme, _, polarity = label.partition(":")
            counts[theme]["comments"] += 1
            counts[theme]["polarity"][polarity] = counts[theme]["polarity"].get(polarity, 0) + 1
    for c in counts.values():
        c["share"] = round(c["comments"] / len(texts), 4) if texts else 0.0
    never = [t for t, c in counts.items() if not c["comments"]]
    return {"comments": len(texts), "themes": counts, "never_found": never}


def train_zeroshot(cfg):
    """Build, check on the unlabeled comments if given, and write the model folder (TrainResult)."""
    from themesift.training.train import TrainConfigError, TrainResult

    if cfg.data:
        raise TrainConfigError(
            "--family zeroshot learns from no labels: leave out --data (give comments with --unlabeled)"
        )
    if not cfg.output:
        raise TrainConfigError("--output is required (or 'output' in --config)")
    if not (cfg.taxonomy or cfg.default_taxonomy):
        raise TrainConfigError("--family zeroshot needs --taxonomy YAML: the themes' names and descriptions")
    artifact.check_output_dir(cfg.output, cfg.force)
    start = time.perf_counter()
    taxonomy = load_taxonomy(cfg.taxonomy)
    model = build_zeroshot(taxonomy, **(cfg.params or {}))
    metrics = {
        "family": "zeroshot",
        "labels_seen": 0,
        "taxonomy": {"version": taxonomy.version, "themes": len(taxonomy.ids)},
        "reference_model": model.reference_model,
        "versions": package_versions(),
        "hardware": hardware(),
        "trained_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    if cfg.unlabeled:
        texts = read_unlabeled(cfg.unlabeled, cfg.text_column)
        metrics["unlabeled"] = {"path": Path(cfg.unlabeled).name, **coverage(model, texts)}
    metrics["training_seconds"] = round(time.perf_counter() - start, 1)
    card = zeroshot_card(model, metrics)
    path = model.save(cfg.output, taxonomy=taxonomy, metrics=metrics, card=card, force=cfg.force)
    return TrainResult(model, metrics, path)


def zeroshot_card(model, metrics: dict) -> str:
    lines = [
        f"# themesift zero-shot model: {metrics['taxonomy']['version']}",
        "",
        "**This model saw no labeled comments.** It was built from the taxonomy file alone "
        f"({metrics['taxonomy']['themes']} themes: names, descriptions, keywords, examples) by `themesift train "
        "--family zeroshot`. Each sentence goes to the theme it is most similar to (MiniLM), with theme "
        f"transfer and polarity from the reference model `{model.reference_model}`.",
        "",
        "Its accuracy on your comments is unknown until you score it: label a few hundred "
        "(`themesift suggest`), then `themesift evaluate`, and train a supervised model on them.",
    ]
    unlabeled = metrics.get("unlabeled")
    if unlabeled:
        lines += ["", f"## Coverage on {unlabeled['comments']} unlabeled comments ({unlabeled['path']})", ""]
        lines += ["| theme | comments | share |", "|---|---:|---:|"]
        lines += [f"| {t} | {c['comments']} | {c['share']:.1%} |" for t, c in unlabeled["themes"].items()]
        if unlabeled["never_found"]:
            lines += [
                "",
                f"Never found: {', '.join(unlabeled['never_found'])}. Reword the description in the words your "
                "commenters use, or add `keywords:` / `examples:` to the theme.",
            ]
    return "\n".join(lines) + "\n"
