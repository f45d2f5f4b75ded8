"""Model families on public benchmarks, scored the way each benchmark defines it.

    python benchmarks/public_benchmarks.py                              # all families, both datasets, test scored
    python benchmarks/public_benchmarks.py --families finetune --datasets semeval14 --dev-only \\
        --set finetune.lora_r=0 --set finetune.epochs=6                  # choose settings on dev
    python benchmarks/public_benchmarks.py --quick --out /tmp/pb         # a few hundred rows: smoke test
    python benchmarks/public_benchmarks.py --families finetune --datasets semeval14 --refit  # then retrain on train+dev

* semeval14: SemEval-2014 Task 4 restaurant categories. Subtask 3 = category detection
  micro-F1 over (sentence, category) pairs; subtask 4 = polarity accuracy over the GOLD
  categories, 4-way with ``conflict`` (3-way and binary variants too). See semeval_metrics.py.
* airline: Twitter US Airline Sentiment negative reasons; micro-F1 of theme:polarity labels
  (the dataset README gives no published figure for this split).

Dev = 10% of train (``train_test_split``: iterative stratification, duplicates kept together,
seed 0); models early-stop and tune thresholds on it (semeval14: for detection F1, since
subtask 3 ignores polarity), and settings are chosen by its figures, never by test's. With
``--refit`` the model trains every epoch, thresholds are tuned on dev, and the model scored on
test is retrained on all of train with those thresholds (its dev figures are the first model's).
``--soup N`` (finetune) averages N runs into one model; with ``--refit`` too, each run is refit and
the refits are averaged, keeping the first soup's thresholds. Test
is scored once per finished configuration, at the end of its run: a configuration already
scored on test in ``--out`` is not re-run (``--force`` overrides). Results are merged into
``<out>/results.json`` (with dev and test figures, training history, data hashes, versions)
and ``<out>/results.md``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from semeval_metrics import FOUR_WAY, semeval14_scores  # noqa: E402

from common import REPO, SHARED, require  # noqa: E402

DATA = SHARED / "data"
DEV_SIZE, DEV_SEED = 0.1, 0
DATASETS = {
    "semeval14": {"dir": "semeval14-restaurants", "polarities": list(FOUR_WAY), "threshold_objective": "detection"},
    "airline": {
        "dir": "airline-tweets",
        "polarities": ["positive", "negative", "neutral"],
        "threshold_objective": "theme_polarity",
    },
}
# Settings per family; finetune's were chosen on the semeval14 dev slice (see the report).
FAMILY_PARAMS = {
    "tfidf": {},
    "embed": {},
    "finetune": {"lora_r": 0, "epochs": 6, "lr": 8e-5, "patience": 1, "batch_size": 32, "max_length": 128},
}
# Two fine-tuning seeds plus TF-IDF; the TF-IDF weight is chosen on dev from ENSEMBLE_TFIDF_WEIGHTS.
FAMILY_PARAMS["ensemble"] = {
    "members": [
        {"family": "finetune", **FAMILY_PARAMS["finetune"], "seed": 0},
        {"family": "finetune", **FAMILY_PARAMS["finetune"], "seed": 1},
        {"family": "tfidf", "seed": 0},
    ]
}
ENSEMBLE_TFIDF_WEIGHTS = (0.0, 0.5, 1.0)  # relative to each fine-tuned member's 1.0
# Per-dataset budget: airline's 10.5k training tweets cost ~4x SemEval's per epoch on 2 CPU cores.
DATASET_PARAMS = {"airline": {"finetune": {"epochs": 2, "max_length": 64}}}
QUICK = {"train": 600, "test": 200, "finetune": {"epochs": 1}}
# Published figures on the same SemEval-2014 test set (percent). Taken from the task paper via a
# secondary transcription and from Sun et al. (2019) as cited; see the dataset README for status.
PUBLISHED = [
    {
        "system": "NRC-Canada (SemEval-2014 winner)",
        "detection_f1": 88.57,
        "polarity_4way": 82.92,
        "note": "Pontiki et al. 2014; README: 88.57 vs 88.58 unresolved, not checked against the paper",
    },
    {
        "system": "BERT-pair-NLI-B (Sun et al. 2019, BERT-base)",
        "detection_f1": 92.18,
        "polarity_4way": None,
        "note": "NAACL 2019, not verified here",
    },
    {
        "system": "BERT-pair-QA-B (Sun et al. 2019, BERT-base)",
        "detection_f1": None,
        "polarity_4way": 85.9,
        "note": "NAACL 2019, not verified here",
    },
]


def _parse_sets(values: list[str]) -> dict[str, dict]:
    """``family.key=value`` (value as JSON, else string) → {family: {key: value}}."""
    out: dict[str, dict] = {}
    for item in values:
        name, _, raw = item.partition("=")
        family, _, key = name.partition(".")
        if not key or not raw:
            raise SystemExit(f"--set expects family.key=value, got {item!r}")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        out.setdefault(family, {})[key] = value
    return out


def _subset(data, n: int, seed: int = 0):
    if len(data) <= n:
        return data
    idx = np.sort(np.random.default_rng(seed).choice(len(data), n, replace=False))
    return data.subset(idx)


def _score(name: str, gold, proba, model) -> dict:
    from themesift.training.evaluate import evaluate_label_sets

    pred = model.decode(proba)
    space = model.label_space_
    if name == "semeval14":
        return semeval14_scores(gold, pred, proba, space.themes, space.polarities)
    m = evaluate_label_sets(gold, pred, themes=space.themes)
    return {
        "theme_polarity_micro": m["theme_polarity"]["micro"],
        "theme_polarity_macro": m["theme_polarity"]["macro"],
        "theme_micro": m["theme"]["micro"],
    }


def run_one(
    name: str,
    family: str,
    params: dict,
    *,
    quick: bool,
    score_test: bool,
    seed: int,
    refit: bool = False,
    soup: int = 0,
) -> dict:
    """Fit on train minus dev, tune thresholds on dev, score dev (and test once).

    ``refit``: the fit runs its full epoch budget (dev is not shown to it, so no early stopping),
    then the same configuration is refit on all of train and test is scored with the thresholds
    tuned on dev: the usual last step once settings are fixed, at twice the training cost.
    ``soup`` > 0 (finetune): that many runs sharing init seed ``seed``, with data-order seeds
    seed, seed + 100, ..., each trained every epoch, averaged into one model (finetune_soup).
    Both: thresholds come from the soup of the first fits; the model scored on test is the soup
    of each ingredient refit on all of train."""
    from themesift.models.labels import LabelSpace
    from themesift.models.registry import make_model
    from themesift.training.data import load_labeled
    from themesift.training.provenance import hardware, package_versions
    from themesift.training.splits import train_test_split
    from themesift.training.thresholds import tune_thresholds

    spec = DATASETS[name]
    folder = require(DATA / spec["dir"])
    data = load_labeled(folder / "train.jsonl", polarities=spec["polarities"])
    if quick:
        data = _subset(data, QUICK["train"])
    fit_idx, dev_idx = train_test_split(data.texts, data.label_sets, test_size=DEV_SIZE, seed=DEV_SEED)
    fit, dev = data.subset(fit_idx), data.subset(dev_idx)
    space = LabelSpace.from_label_sets(data.label_sets, spec["polarities"])
    started, cpu_started = time.time(), time.process_time()
    if soup:
        from themesift.models.finetune_soup import weight_soup

        ingredients = [
            make_model(family, **{**params, "init_seed": seed, "seed": seed + 100 * i}).fit(
                fit.texts, fit.label_sets, label_space=space
            )
            for i in range(soup)
        ]
        model = weight_soup(ingredients)
    else:
        model = make_model(family, **params)
        model.fit(fit.texts, fit.label_sets, label_space=space, dev=None if refit else (dev.texts, dev.label_sets))
    dev_proba = model.predict_proba(dev.texts)
    y_dev = space.encode(dev.label_sets)
    if spec["threshold_objective"] == "detection":  # subtask 3 ignores polarity: an unknown polarity counts as right
        y_dev = np.where(y_dev != 0, -1, 0)
    model.set_thresholds(tune_thresholds(dev_proba, y_dev))
    choice = None
    if family == "ensemble":
        choice = _choose_ensemble_weights(name, model, dev, y_dev)
        dev_proba = model.predict_proba(dev.texts)
    dev_scores, history = _score(name, dev.label_sets, dev_proba, model), getattr(model, "history_", None)
    if refit:
        from themesift.training.train import refit as refit_model

        if soup:  # refit each ingredient, soup the refits, keep the pre-refit soup's thresholds
            thresholds = model.thresholds_
            model = weight_soup([refit_model(m, data.texts, data.label_sets) for m in ingredients])
            model.set_thresholds(thresholds)
        else:
            model = refit_model(model, data.texts, data.label_sets)
    train_minutes, cpu_minutes = (time.time() - started) / 60, (time.process_time() - cpu_started) / 60
    row = {
        "dataset": name,
        "family": family,
        "params": params,
        "seed": seed,
        "quick": quick,
        "refit": refit,
        "soup": soup,
        "backend": os.environ.get("THEMESIFT_BACKEND"),
        "train_minutes": round(train_minutes, 2),
        "train_cpu_minutes": round(cpu_minutes, 2),
        "data": {
            "train_rows": len(fit),
            "dev_rows": len(dev),
            "train_hash": fit.data_hash(),
            "dev_hash": dev.data_hash(),
            "dev": f"{DEV_SIZE:.0%} of train, train_test_split seed {DEV_SEED}",
            **({"refit_rows": len(data), "refit_hash": data.data_hash()} if refit else {}),
        },
        "history": history,
        "refit_history": getattr(model, "history_", None) if refit else None,
        "ensemble_weights": choice,
        "dev": dev_scores,
        "versions": package_versions(),
        "hardware": hardware(),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    if score_test:
        test = load_labeled(folder / "test.jsonl", polarities=spec["polarities"])
        if quick:
            test = _subset(test, QUICK["test"])
        started = time.time()
        test_proba = model.predict_proba(test.texts)
        row["test_predict_seconds"] = round(time.time() - started, 1)
        row["data"].update(test_rows=len(test), test_hash=test.data_hash())
        row["test"] = _score(name, test.label_sets, test_proba, model)
    return row


def _dev_objective(name: str, scores: dict) -> float:
    """One number to choose by: semeval14 weighs both subtasks equally."""
    if name == "semeval14":
        return scores["detection"]["f1"] + scores["polarity_4way"]["accuracy"]
    return 100 * scores["theme_polarity_micro"]["f1"]


def _choose_ensemble_weights(name: str, model, dev, y_dev) -> dict:
    """Try each TF-IDF weight on dev (thresholds re-tuned each time); keep the best, never look at test."""
    from themesift.training.thresholds import tune_thresholds

    member_proba = [m.predict_proba(dev.texts) for m in model.members_]
    tried = []
    for w_tfidf in ENSEMBLE_TFIDF_WEIGHTS:
        weights = [w_tfidf if m.family == "tfidf" else 1.0 for m in model.members_]
        w = np.asarray(weights) / sum(weights)
        proba = sum(wi * p for wi, p in zip(w, member_proba))
        thresholds = tune_thresholds(proba, y_dev)
        model.set_thresholds(thresholds)
        score = _dev_objective(name, _score(name, dev.label_sets, proba, model))
        tried.append({"weights": weights, "dev_objective": round(score, 2), "thresholds": thresholds})
        print(f"  ensemble weights {weights}: dev objective {score:.2f}", flush=True)
    best = max(tried, key=lambda t: t["dev_objective"])
    model.weights = best["weights"]
    model.set_thresholds(best["thresholds"])
    return {"chosen": best["weights"], "tried": [{k: t[k] for k in ("weights", "dev_objective")} for t in tried]}


def config_key(row: dict) -> str:
    fields = [row["dataset"], row["family"], row["params"], row["seed"], row["quick"]]
    fields += ["refit"] if row.get("refit") else []  # only when set: older keys stay valid
    fields += [["soup", row["soup"]]] if row.get("soup") else []
    blob = json.dumps(fields, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def _fmt(value, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def markdown(rows: list[dict]) -> str:
    """Tables next to the published figures; dev rows (for choosing settings) separately."""
    lines = [
        "# Public benchmarks",
        "",
        "Figures in percent. Dev = 10% of train (seed 0), used for early stopping, thresholds and choosing "
        "settings; test scored once per configuration. Train min = fit + threshold tuning, wall clock, on "
        "the machine in `hardware` (2 CPU cores, at times shared with other jobs, so wall time varies with load); "
        "CPU min = CPU time of all threads, the load-independent cost.",
        "",
    ]
    sem = [r for r in rows if r["dataset"] == "semeval14"]
    if sem:
        lines += [
            "## SemEval-2014 Task 4, restaurants (test, 800 sentences, 1025 gold categories)",
            "",
            "| system | params | detection P | R | F1 (subtask 3) | polarity acc 4-way (subtask 4) | 3-way | binary "
            "| train min | CPU min |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for p in PUBLISHED:
            lines.append(
                f"| {p['system']} | published | | | {_fmt(p['detection_f1'])} | {_fmt(p['polarity_4way'])} | | | | |"
            )
        for split in ("test", "dev"):
            for r in sem:
                if split not in r or (split == "dev" and "test" in r):
                    continue
                s = r[split]
                d = s["detection"]
                if r.get("soup"):
                    how = f" soup of {r['soup']} runs" + (", each refit on train+dev" if r.get("refit") else "")
                else:
                    how = " refit on train+dev" if r.get("refit") else ""
                label = (
                    f"themesift {r['family']}{' (quick)' if r['quick'] else ''}"
                    f"{how}{' — DEV' if split == 'dev' else ''}"
                )
                if r.get("ensemble_weights"):
                    label += f" (weights {r['ensemble_weights']['chosen']}, chosen on dev)"
                lines.append(
                    f"| {label} | `{json.dumps(r['params'], sort_keys=True)}` | {_fmt(d['precision'])} | "
                    f"{_fmt(d['recall'])} | **{_fmt(d['f1'])}** | **{_fmt(s['polarity_4way']['accuracy'])}** | "
                    f"{_fmt(s['polarity_3way']['accuracy'])} | {_fmt(s['polarity_binary']['accuracy'])} | "
                    f"{_fmt(r['train_minutes'], 1)} | {_fmt(r.get('train_cpu_minutes'), 1)} |"
                )
        lines += [
            "",
            "Published rows: NRC-Canada per Pontiki et al. (2014) via a secondary transcription "
            "(88.57; the dataset README notes an unresolved 88.58); BERT-pair per Sun, Huang, Qiu (NAACL 2019); "
            "none checked against the papers here. Dev rows shown only for configurations without a test score.",
            "",
        ]
    air = [r for r in rows if r["dataset"] == "airline"]
    if air:
        lines += [
            "## Twitter US Airline Sentiment, negative reasons (project split; test 2,927 tweets)",
            "",
            "No published figure applies to this split (dataset README); compare families with each other.",
            "",
            "| family | params | split | theme:polarity micro P | R | F1 | macro F1 | train min | CPU min |",
            "|---|---|---|---:|---:|---:|---:|---:|---:|",
        ]
        for r in air:
            split = "test" if "test" in r else "dev"
            s = r[split]
            m = s["theme_polarity_micro"]
            lines.append(
                f"| {r['family']}{' (quick)' if r['quick'] else ''} | `{json.dumps(r['params'], sort_keys=True)}` | "
                f"{split} | {100 * m['precision']:.2f} | {100 * m['recall']:.2f} | **{100 * m['f1']:.2f}** | "
                f"{100 * s['theme_polarity_macro']['f1']:.2f} | {r['train_minutes']:.1f} | "
                f"{_fmt(r.get('train_cpu_minutes'), 1)} |"
            )
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--families", default="tfidf,embed,finetune", help="comma-separated (default: all three)")
    parser.add_argument("--datasets", default="semeval14,airline", help="comma-separated: semeval14, airline")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK['train']} train / {QUICK['test']} test rows, 1 finetune epoch: a smoke test",
    )
    parser.add_argument("--dev-only", action="store_true", help="score the dev slice only; never read test")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FAMILY.KEY=VALUE",
        help="override a family parameter (value parsed as JSON), e.g. finetune.lora_r=0",
    )
    parser.add_argument("--seed", type=int, default=0, help="model seed (the dev split always uses seed 0)")
    parser.add_argument(
        "--refit",
        action="store_true",
        help="train the full epoch budget (no early stopping), tune thresholds on dev, then refit "
        "on all of train (dev included) and score test with those thresholds",
    )
    parser.add_argument(
        "--soup",
        type=int,
        default=0,
        metavar="N",
        help="finetune: average N runs that share init seed --seed (data-order seeds --seed, "
        "--seed+100, ...; every epoch each) into one model, thresholds tuned on dev; "
        "with --refit, the soup scored on test is of the ingredients refit on all of train",
    )
    parser.add_argument("--out", default=str(REPO / "runs" / "public"), help="results folder (default runs/public/)")
    parser.add_argument("--force", action="store_true", help="re-score a configuration already scored on test")
    parser.add_argument(
        "--backend",
        default="torch",
        choices=["torch", "onnx", "onnx-int8"],
        help="inference backend of the transformer families while scoring (default torch: "
        "the reference numbers; benchmarks/PROFILE.md has the int8 difference)",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ["THEMESIFT_BACKEND"] = args.backend
    families = [f for f in args.families.split(",") if f]
    datasets = [d for d in args.datasets.split(",") if d]
    for d in datasets:
        if d not in DATASETS:
            parser.error(f"unknown dataset {d!r}; choose from {', '.join(DATASETS)}")
    for f in families:
        if f not in FAMILY_PARAMS:
            parser.error(f"unknown family {f!r}; choose from {', '.join(FAMILY_PARAMS)}")
    overrides = _parse_sets(args.set)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results_path = out / "results.json"
    rows = json.loads(results_path.read_text("utf-8")) if results_path.is_file() else []
    for name in datasets:
        for family in families:
            params = {
                **FAMILY_PARAMS[family],
                **DATASET_PARAMS.get(name, {}).get(family, {}),
                **(QUICK.get(family, {}) if args.quick else {}),
                **overrides.get(family, {}),
                "seed": args.seed,
            }
            if family == "ensemble":  # members get the dataset's and --quick's settings for their family
                params["members"] = [
                    {
                        **m,
                        **DATASET_PARAMS.get(name, {}).get(m["family"], {}),
                        **(QUICK.get(m["family"], {}) if args.quick else {}),
                    }
                    for m in params["members"]
                ]
            if args.refit and family == "ensemble":
                parser.error("--refit is for single families: the ensemble's weights are chosen on dev")
            if args.soup and family != "finetune":
                parser.error("--soup averages finetune runs")
            probe = {
                "dataset": name,
                "family": family,
                "params": params,
                "seed": args.seed,
                "quick": args.quick,
                "refit": args.refit,
                "soup": args.soup,
            }
            key = config_key(probe)
            done = [r for r in rows if r.get("key") == key and "test" in r]
            if done and not args.dev_only and not args.force:
                print(f"{name}/{family} {key}: already scored on test (see {results_path}); --force to redo")
                continue
            print(f"== {name} / {family} {json.dumps(params, sort_keys=True)}", flush=True)
            row = run_one(
                name,
                family,
                params,
                quick=args.quick,
                score_test=not args.dev_only,
                seed=args.seed,
                refit=args.refit,
                soup=args.soup,
            )
            row["key"] = key
            rows = [r for r in rows if not (r.get("key") == key and ("test" in r) == ("test" in row))] + [row]
            results_path.write_text(json.dumps(rows, indent=1) + "\n", "utf-8")
            (out / "results.md").write_text(markdown(rows), "utf-8")
            summary = {k: row[k] for k in ("dev", "test") if k in row}
            print(json.dumps({"train_minutes": row["train_minutes"], **_brief(summary)}), flush=True)
    print(markdown(rows))
    return 0


def _brief(summary: dict) -> dict:
    """The headline numbers of one run, for the terminal."""
    out = {}
    for split, s in summary.items():
        if "detection" in s:
            out[split] = {
                "detection_f1": s["detection"]["f1"],
                "polarity_4way": s["polarity_4way"]["accuracy"],
                "polarity_3way": s["polarity_3way"]["accuracy"],
            }
        else:
            out[split] = {"theme_polarity_micro_f1": round(100 * s["theme_polarity_micro"]["f1"], 2)}
    return out


if __name__ == "__main__":
    sys.exit(main())
