"""themesift against its peers, trained and scored in one run on the same splits and metric.

    python benchmarks/compare_peers.py --quick                  # smoke run: small subsets, never reads test
    python benchmarks/compare_peers.py --out runs/peers         # the full comparison (hours on 2 cores)
    python benchmarks/compare_peers.py --methods tfidf sklearn --datasets semeval14-restaurants

Methods: themesift ``tfidf``, ``embed``, ``finetune`` (each with thresholds tuned on dev;
the transformer families timed with the torch and onnx-int8 backends), ``ensemble``
(the default model's recipe: this run's finetune + tfidf averaged, dev thresholds; also
timed with fp32 onnx), ``setfit``
(SetFit 1.2, same MiniLM base, one-vs-rest head, max_steps capped), ``spacy``
(textcat_multilabel, spaCy's training loop) and ``sklearn`` (TF-IDF + one-vs-rest
LogisticRegression). Datasets: ex-cx-gold (train → test, dev file for dev) and
semeval14-restaurants (train → test, dev = seeded 10% of train).

Every method is scored with ``themesift.training.evaluate.evaluate_label_sets``
(micro-F1 of theme:polarity and of theme). Training and inference each run in their own
subprocess, so peak RSS (the kernel's VmHWM) is per method; inference speed is comments/s
of one predict call on the first N comments of employee-reviews/pool.jsonl after a warm-up.
Needs the ``bench`` extra (setfit). Writes results.json and results.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from common import POOL, REPO, read_texts

sys.path.insert(0, str(Path(__file__).resolve().parent))

# inference backends timed per method (fp32 onnx only for the default recipe: it decides the default backend)
METHODS = {
    "tfidf": ["default"],
    "embed": ["torch", "onnx-int8"],
    "finetune": ["torch", "onnx-int8"],
    "ensemble": ["torch", "onnx", "onnx-int8"],
    "setfit": ["default"],
    "spacy": ["default"],
    "sklearn": ["default"],
}
THEMESIFT = ("tfidf", "embed", "finetune", "ensemble")


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM), MB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:  # pragma: no cover - non-Linux
        pass
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _runner(method: str):
    from peers import setfit_runner, sklearn_runner, spacy_runner, themesift_runner

    return {"setfit": setfit_runner, "spacy": spacy_runner, "sklearn": sklearn_runner}.get(method, themesift_runner)


# -- the two phases, each in its own process ------------------------------------------
def phase_train(args) -> dict:
    from peers.data import load_dataset

    ds = load_dataset(args.dataset, quick=args.quick)
    workdir = Path(args.workdir)
    runner = _runner(args.method)
    started = time.perf_counter()
    if args.method in THEMESIFT and args.reuse:
        info = runner.reuse(Path(args.reuse), workdir, member=0 if args.method == "finetune" else None)
    elif args.method == "ensemble":
        info = runner.train_ensemble(ds, workdir)
    elif args.method in THEMESIFT:
        info = runner.train(args.method, ds, workdir, args.quick)
    elif args.method == "setfit":
        info = runner.train(ds, workdir, args.quick, args.setfit_max_steps)
    elif args.method == "spacy":
        info = runner.train(ds, workdir, args.quick, args.spacy_epochs)
    else:
        info = runner.train(ds, workdir, args.quick)
    seconds = info.pop("training_seconds", None) if args.reuse else time.perf_counter() - started
    if args.method == "ensemble" and not args.reuse:  # it reuses this run's members: count their training too
        seconds += sum(info["member_train_seconds"])
    if args.method in THEMESIFT:
        runner.prepare(workdir)  # ONNX exports, outside the timed part
    return {
        "train_seconds": None if seconds is None else round(seconds, 1),
        "train_peak_rss_mb": peak_rss_mb(),
        "rows": {"fit": len(ds.fit), "dev": len(ds.dev)},
        "info": info,
    }


def phase_infer(args) -> dict:
    from peers.data import load_dataset

    from themesift.training.evaluate import evaluate_label_sets

    ds = load_dataset(args.dataset, quick=args.quick)
    texts = read_texts(POOL, args.n)
    started = time.perf_counter()
    predictor = _runner(args.method).load(Path(args.workdir), args.variant)
    loaded = time.perf_counter()
    predictor.predict(texts[:32])  # warm-up: lazy init, thread pools, ONNX export on first use
    warm = time.perf_counter()
    predictor.predict(texts)
    seconds = time.perf_counter() - warm
    dev = evaluate_label_sets(ds.dev.labels, predictor.predict(ds.dev.texts), themes=ds.themes)
    evaluation = ds.evaluation()  # scored once, for this finished configuration
    scored = evaluate_label_sets(evaluation.labels, predictor.predict(evaluation.texts), themes=ds.themes)
    return {
        "comments": len(texts),
        "infer_seconds": round(seconds, 2),
        "comments_per_s": round(len(texts) / seconds, 1),
        "load_seconds": round(loaded - started, 1),
        "first_call_seconds": round(warm - loaded, 1),
        "infer_peak_rss_mb": peak_rss_mb(),
        "eval_split": ds.eval_name,
        "eval_rows": len(evaluation),
        "dev": _summary(dev),
        "eval": _summary(scored),
    }


def _summary(metrics: dict) -> dict:
    return {
        "theme_polarity_micro": metrics["theme_polarity"]["micro"],
        "theme_micro": metrics["theme"]["micro"],
        "theme_polarity_macro_f1": metrics["theme_polarity"]["macro"]["f1"],
    }


# -- orchestration ----------------------------------------------------------------------
def _child(args, phase: str, method: str, dataset: str, workdir: Path, variant: str = "default") -> dict:
    out = workdir / f"{phase}-{variant}.json"
    cmd = [
        sys.executable,
        __file__,
        "--phase",
        phase,
        "--method",
        method,
        "--dataset",
        dataset,
        "--workdir",
        str(workdir),
        "--variant",
        variant,
        "--n",
        str(args.n),
        "--result",
        str(out),
        "--setfit-max-steps",
        str(args.setfit_max_steps),
        "--spacy-epochs",
        str(args.spacy_epochs),
    ]
    if args.quick:
        cmd.append("--quick")
    if method in ("finetune", "ensemble") and dataset == "ex-cx-gold" and args.reuse_default:
        cmd += ["--reuse", args.reuse_default]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "true"}
    env.pop("THEMESIFT_BACKEND", None)  # each variant names its backend explicitly
    with open(workdir / f"{phase}-{variant}.log", "w") as log:
        rc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO).returncode
    if rc != 0 or not out.is_file():
        tail = (workdir / f"{phase}-{variant}.log").read_text(errors="replace")[-1500:]
        print(f"  {method}/{dataset} {phase} {variant} FAILED (exit {rc}):\n{tail}", flush=True)
        return {"error": f"exit {rc}; see {workdir / f'{phase}-{variant}.log'}"}
    return json.loads(out.read_text())


def run_all(args) -> list[dict]:
    rows = []
    previous = Path(args.out) / "results.json"
    if args.keep and previous.is_file():  # rows of methods not rerun now stay in the table
        redo = {(d, m) for d in args.datasets for m in args.methods}
        rows = [r for r in json.loads(previous.read_text())["rows"] if (r["dataset"], r["method"]) not in redo]
    for dataset in args.datasets:
        for method in args.methods:
            workdir = Path(args.out) / "work" / dataset / method
            workdir.mkdir(parents=True, exist_ok=True)
            saved = workdir / "train-default.json"
            reusing = method in ("finetune", "ensemble") and dataset == "ex-cx-gold" and args.reuse_default
            if args.infer_only and saved.is_file() and not reusing:  # the model an earlier run in OUT trained
                trained = json.loads(saved.read_text())
            elif args.infer_only and not reusing:
                trained = {"error": f"--infer-only: no trained model in {workdir}"}
            else:
                print(f"{dataset} / {method}: {'reusing ' + args.reuse_default if reusing else 'training'}", flush=True)
                trained = _child(args, "train", method, dataset, workdir)
            for variant in METHODS[method]:
                row = {"dataset": dataset, "method": method, "variant": variant, **trained}
                if "error" not in trained:
                    print(f"{dataset} / {method}: inference ({variant})", flush=True)
                    row.update(_child(args, "infer", method, dataset, workdir, variant))
                rows.append(row)
                write_results(args, rows)
    return rows


def _f(row: dict, *keys, fmt="{:.3f}") -> str:
    value = row
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return "—" if value is None else fmt.format(value)


def markdown(rows: list[dict], args) -> str:
    kind = "quick smoke run" if args.quick else "full run"
    if args.infer_only:
        kind += ", inference re-run on the models an earlier run trained (train columns from that run)"
    lines = [
        f"Peer comparison ({kind}), {time.strftime('%Y-%m-%d %H:%M')}; "
        f"inference on {args.n} pool comments; SetFit max_steps={args.setfit_max_steps}; "
        f"spaCy max_epochs={args.spacy_epochs}.",
        "",
    ]
    for dataset in dict.fromkeys(r["dataset"] for r in rows):
        part = [r for r in rows if r["dataset"] == dataset]
        split = next((r.get("eval_split") for r in part if r.get("eval_split")), "test")
        lines += [
            f"### {dataset} (scored on {split})",
            "",
            "| method | backend | theme:polarity micro-F1 | theme micro-F1 | dev theme:polarity F1 | train s "
            "| comments/s | train peak RSS MB | inference peak RSS MB |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in part:
            if "error" in r:
                lines.append(f"| {r['method']} | {r['variant']} | failed: {r['error']} ||||||| ")
                continue
            lines.append(
                f"| {r['method']} | {r['variant']} | {_f(r, 'eval', 'theme_polarity_micro', 'f1')} "
                f"| {_f(r, 'eval', 'theme_micro', 'f1')} | {_f(r, 'dev', 'theme_polarity_micro', 'f1')} "
                f"| {_f(r, 'train_seconds', fmt='{:.0f}')} | {_f(r, 'comments_per_s', fmt='{:.0f}')} "
                f"| {_f(r, 'train_peak_rss_mb', fmt='{:.0f}')} | {_f(r, 'infer_peak_rss_mb', fmt='{:.0f}')} |"
            )
        lines.append("")
    return "\n".join(lines)


def write_results(args, rows: list[dict]) -> None:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    meta = {
        "quick": args.quick,
        "infer_only": args.infer_only,
        "n": args.n,
        "setfit_max_steps": args.setfit_max_steps,
        "spacy_epochs": args.spacy_epochs,
        "reuse_default": args.reuse_default,
        "cpus": os.cpu_count(),
        "threads": os.environ.get("THEMESIFT_THREADS"),
    }
    (out / "results.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
    (out / "results.md").write_text(markdown(rows, args) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small subsets, 1 epoch, 200 comments; never reads test")
    parser.add_argument("--out", default=str(REPO / "runs" / "peers"), help="results.json, results.md, work/ go here")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--datasets", nargs="+", default=["ex-cx-gold", "semeval14-restaurants"])
    parser.add_argument("--n", type=int, default=None, help="comments for the speed figure (default 2000; quick 200)")
    parser.add_argument("--setfit-max-steps", type=int, default=1500, help="cap on SetFit's contrastive steps")
    parser.add_argument("--spacy-epochs", type=int, default=8, help="spaCy training.max_epochs")
    parser.add_argument(
        "--reuse-default",
        default=None,
        metavar="DIR",
        help="on ex-cx-gold, score this ensemble artifact (e.g. themesift/default_model, trained on "
        "train/dev with the same recipe) as 'ensemble' and its member_0 as 'finetune' instead "
        "of training them; training times then come from its metrics.json",
    )
    parser.add_argument(
        "--infer-only",
        action="store_true",
        help="skip training: re-time and re-score the models an earlier run left in OUT/work "
        "(e.g. after an inference change), all methods again in this one run; with "
        "--reuse-default, finetune/ensemble are read from that artifact as usual",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the rows of other methods/datasets already in OUT/results.json"
    )
    for hidden in ("--phase", "--method", "--dataset", "--workdir", "--variant", "--result", "--reuse"):
        parser.add_argument(hidden, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.n = args.n or (200 if args.quick else 2000)
    if args.phase:
        result = (phase_train if args.phase == "train" else phase_infer)(args)
        Path(args.result).write_text(json.dumps(result, indent=2) + "\n")
        return
    started = time.time()
    rows = run_all(args)
    write_results(args, rows)
    print(markdown(rows, args))
    print(f"wrote {Path(args.out) / 'results.json'} and results.md in {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
