"""What a user from an industry nobody labeled gets, and how much customer data the model needs.

    python benchmarks/cx_industries.py loio --family tfidf --json benchmarks/results/cx_loio_tfidf.json
    python benchmarks/cx_industries.py curve --family tfidf --json benchmarks/results/cx_curve_tfidf.json

``loio``: for each cx-gold industry, train on ex-cx-gold train + cx-gold train without that
industry (dev: both dev sets without it), then score that industry's dev and test rows with
theme:polarity micro-F1 (``auto`` audience), next to the same recipe trained on every industry.
``curve``: train on ex-cx-gold train + a seeded 12.5/25/50/100 % of cx-gold train and score both
dev sets (no test). ``--param KEY=VALUE`` passes family parameters, as ``themesift train`` does.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cx_data import CX, EX, rows  # noqa: E402

from common import SHARED, require  # noqa: E402


def _write(path: Path, records: list[dict]) -> str:
    with open(path, "w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    return str(path)


def _train(family: str, params: dict, train_rows: list[dict], dev_rows: list[dict], work: Path):
    from themesift.training.train import TrainConfig, train

    cfg = TrainConfig(
        data=_write(work / "train.jsonl", train_rows),
        dev=_write(work / "dev.jsonl", dev_rows),
        output=str(work / "model"),
        family=family,
        params=dict(params),
        default_taxonomy=True,
    )
    started = time.time()
    result = train(cfg)
    return result.model, round(time.time() - started, 1)


def _score(model, records: list[dict]) -> dict:
    from themesift.nlp.normalize import normalize_text
    from themesift.training.evaluate import evaluate_label_sets

    pred = model.predict([normalize_text(r["text"]) for r in records])
    m = evaluate_label_sets([r["labels"] for r in records], pred, themes=model.themes)
    return {
        "n": len(records),
        "theme_polarity_micro_f1": round(m["theme_polarity"]["micro"]["f1"], 4),
        "theme_micro_f1": round(m["theme"]["micro"]["f1"], 4),
    }


def loio(family: str, params: dict) -> dict:
    train_all = rows([EX / "train.jsonl", CX / "train.jsonl"], set(), set())
    dev_all = rows([EX / "dev.jsonl", CX / "dev.jsonl"], set(), set())
    test_cx = rows([require(CX / "test.jsonl")], set(), set())
    industries = sorted({r["industry"] for r in test_cx})
    out: dict = {"industries": {}}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        full, seconds = _train(family, params, train_all, dev_all, work)
        out["trained_on_all_seconds"] = seconds
        for industry in industries:
            held_dev = [r for r in dev_all if r["industry"] == industry]
            held_test = [r for r in test_cx if r["industry"] == industry]
            model, seconds = _train(
                family,
                params,
                [r for r in train_all if r["industry"] != industry],
                [r for r in dev_all if r["industry"] != industry],
                work,
            )
            out["industries"][industry] = {
                "left_out": {"dev": _score(model, held_dev), "test": _score(model, held_test)},
                "trained_on_all": {"dev": _score(full, held_dev), "test": _score(full, held_test)},
                "seconds": seconds,
            }
            print(industry, json.dumps(out["industries"][industry]), flush=True)
    for split in ("dev", "test"):
        for kind in ("left_out", "trained_on_all"):
            values = [v[kind][split]["theme_polarity_micro_f1"] for v in out["industries"].values()]
            out[f"mean_{kind}_{split}"] = round(sum(values) / len(values), 4)
    return out


def curve(family: str, params: dict) -> dict:
    ex_train = rows([EX / "train.jsonl"], set(), set())
    cx_train = rows([CX / "train.jsonl"], set(), set())
    dev_all = rows([EX / "dev.jsonl", CX / "dev.jsonl"], set(), set())
    random.Random(0).shuffle(cx_train)
    out: dict = {"points": []}
    with tempfile.TemporaryDirectory() as tmp:
        for share in (0.125, 0.25, 0.5, 1.0):
            part = cx_train[: round(share * len(cx_train))]
            model, seconds = _train(family, params, ex_train + part, dev_all, Path(tmp))
            point = {
                "cx_train_rows": len(part),
                "seconds": seconds,
                **{
                    f"{name} dev": _score(model, [r for r in dev_all if r["dataset"] == name])
                    for name in ("ex-cx-gold", "cx-gold")
                },
            }
            out["points"].append(point)
            print(json.dumps(point), flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=("loio", "curve"))
    parser.add_argument("--family", default="tfidf")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    require(SHARED / "data" / "cx-gold")
    params = {}
    for pair in args.param:
        key, _, value = pair.partition("=")
        try:
            params[key] = json.loads(value)
        except json.JSONDecodeError:
            params[key] = value
    result = (loio if args.mode == "loio" else curve)(args.family, params)
    result = {
        "command": "python benchmarks/" + " ".join([Path(sys.argv[0]).name] + sys.argv[1:]),
        "family": args.family,
        "params": params,
        **result,
    }
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
