"""Build the default model's training files: ex-cx-gold + cx-gold, each row with its audience.

The audience (``employee`` or ``customer``) comes from the ``source`` field's prefix, which both
gold sets carry. ``--exclude-source`` / ``--exclude-industry`` leave rows out: one source for its
licence (e.g. ``customer-spotify-twitter-support``), or one industry for leave-one-industry-out.

    python benchmarks/cx_data.py --out runs/cx-data [--extra] [--exclude-industry "insurance"]

writes ``train.jsonl`` and ``dev.jsonl`` there (test files are never touched).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from common import SHARED, require

EX = SHARED / "data" / "ex-cx-gold"
CX = SHARED / "data" / "cx-gold"


def audience_of(record: dict) -> str:
    source = str(record.get("source") or "")
    if source.startswith("employee"):
        return "employee"
    if source.startswith("customer"):
        return "customer"
    raise ValueError(f"record {record.get('id')!r}: source {source!r} names no audience")


def rows(paths: list[Path], exclude_sources: set[str], exclude_industries: set[str]) -> list[dict]:
    out = []
    for path in paths:
        with open(require(path), encoding="utf-8") as fh:
            for line in fh:
                record = json.loads(line)
                if record.get("source") in exclude_sources or record.get("industry") in exclude_industries:
                    continue
                out.append(
                    {
                        "id": record["id"],
                        "text": record["text"],
                        "labels": record["labels"],
                        "audience": audience_of(record),
                        "source": record.get("source"),
                        "dataset": path.parent.name,
                        "industry": record.get("industry")
                        or ("employee" if audience_of(record) == "employee" else record.get("source")),
                    }
                )
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="folder for train.jsonl and dev.jsonl")
    ap.add_argument("--extra", action="store_true", help="add ex-cx-gold/train-extra.jsonl to train")
    ap.add_argument("--exclude-source", action="append", default=[], help="leave this source out (repeatable)")
    ap.add_argument("--exclude-industry", action="append", default=[], help="leave this cx-gold industry out")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    train = [EX / "train.jsonl", CX / "train.jsonl"] + ([EX / "train-extra.jsonl"] if args.extra else [])
    for name, paths in (("train", train), ("dev", [EX / "dev.jsonl", CX / "dev.jsonl"])):
        data = rows(paths, set(args.exclude_source), set(args.exclude_industry))
        with open(out / f"{name}.jsonl", "w", encoding="utf-8") as fh:
            for record in data:
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        print(f"{out / name}.jsonl: {len(data)} rows")


if __name__ == "__main__":
    main()
