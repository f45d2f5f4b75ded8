"""The default model's choices for customer comments, made on the two **dev** sets only.

    python benchmarks/cx_dev_choices.py --finetune runs/cx-ft-e3 --tfidf plain=runs/cx-tfidf \
        --tfidf extra=runs/cx-tfidf-extra --json benchmarks/results/cx_dev_choices.json

For each candidate (a TF-IDF model alone, or averaged with the fine-tuned member as the default
model is) and each audience treatment (none: every theme may fire; auto: the detector stored in
the TF-IDF artifact masks the other audience's themes; gold: the true audience, an upper bound),
thresholds are tuned on one half of ex-cx-gold dev + cx-gold dev and scored on the other, both
ways ("cross-tuned"), and theme:polarity micro-F1 is reported on each dev set. ``--candidate`` scores
a built model (an ensemble, routed or not) the same way, as it predicts (audience auto), with the
mean of the two dev sets: the default model is the candidate with the highest mean. Test is never read.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import SHARED, require  # noqa: E402

DEVS = {
    "ex-cx-gold": SHARED / "data" / "ex-cx-gold" / "dev.jsonl",
    "cx-gold": SHARED / "data" / "cx-gold" / "dev.jsonl",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--finetune", action="append", default=[], metavar="DIR", help="fine-tuned member(s)")
    parser.add_argument("--tfidf", action="append", required=True, metavar="NAME=DIR", help="TF-IDF candidates")
    parser.add_argument(
        "--candidate",
        action="append",
        default=[],
        metavar="NAME=DIR",
        help="a built model (e.g. a routed ensemble), scored as it predicts: audience auto",
    )
    parser.add_argument("--json", default=None, help="write the figures here")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from themesift.models.registry import load_artifact
    from themesift.nlp.normalize import normalize_text
    from themesift.training.evaluate import evaluate_label_sets
    from themesift.training.thresholds import tune_thresholds

    rows, part = [], []
    for name, path in DEVS.items():
        for line in open(require(path), encoding="utf-8"):
            rows.append(json.loads(line))
            part.append(name)
    texts = [normalize_text(r["text"]) for r in rows]
    gold_audience = ["employee" if r["source"].startswith("employee") else "customer" for r in rows]
    part = np.array(part)
    halves = np.array_split(np.random.default_rng(0).permutation(len(rows)), 2)

    tfidfs = {name: load_artifact(path) for name, path in (t.split("=", 1) for t in args.tfidf)}
    ref = next(iter(tfidfs.values()))
    space = ref.label_space_
    y = space.encode([r["labels"] for r in rows])
    raw = {name: m.predict_proba(texts, audience=None) for name, m in tfidfs.items()}
    for path in args.finetune:
        ft = load_artifact(path)
        p_ft = ft.predict_proba(texts, audience=None)
        raw[f"{Path(path).name} alone"] = p_ft
        for name in tfidfs:
            raw[f"{Path(path).name} + {name}"] = 0.5 * p_ft + 0.5 * raw[name]

    def scores(proba: np.ndarray) -> dict:
        out = {k: [] for k in DEVS}
        for tune, score in ((halves[0], halves[1]), (halves[1], halves[0])):
            ref.set_thresholds(tune_thresholds(proba[tune], y[tune]))
            pred = ref.decode(proba[score])
            for k in DEVS:
                keep = [j for j, i in enumerate(score) if part[i] == k]
                gold = [rows[score[j]]["labels"] for j in keep]
                out[k].append(
                    evaluate_label_sets(gold, [pred[j] for j in keep], themes=space.themes)["theme_polarity"]["micro"][
                        "f1"
                    ]
                )
        return {k: round(float(np.mean(v)), 4) for k, v in out.items()}

    results = {}
    for detector_name, detector in tfidfs.items():
        audience = detector.audience_
        treatments = {"none": None, "gold": gold_audience}
        if audience is not None and audience.can_detect:
            auto = audience.resolve(texts, "auto")
            treatments["auto"] = auto
            key = f"audience accuracy ({detector_name} detector)"
            results[key] = {
                k: round(float(np.mean([a == g for a, g, p in zip(auto, gold_audience, part) if p == k])), 4)
                for k in DEVS
            }
            print(key, results[key], flush=True)
        for treatment, who in treatments.items():
            if treatment != "auto" and detector_name != next(iter(tfidfs)):
                continue  # only auto depends on the detector
            for name, proba in raw.items():
                masked = proba if who is None else audience.mask(proba, space.themes, who)
                key = f"{name} | audience {treatment}" + (f" ({detector_name} detector)" if treatment == "auto" else "")
                results[key] = scores(masked)
                print(f"{key:<60} " + "  ".join(f"{k} {v:.4f}" for k, v in results[key].items()), flush=True)
    for name, path in (c.split("=", 1) for c in args.candidate):
        model = load_artifact(path)
        key = f"candidate {name} ({path})"
        results[key] = scores(model.predict_proba(texts))
        results[key]["mean"] = round((results[key]["ex-cx-gold"] + results[key]["cx-gold"]) / 2, 4)
        print(f"{key:<60} " + "  ".join(f"{k} {v:.4f}" for k, v in results[key].items()), flush=True)
    if args.json:
        Path(args.json).write_text(
            json.dumps({"command": " ".join(sys.argv), "cross_tuned_theme_polarity_micro_f1": results}, indent=2)
            + "\n",
            "utf-8",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
