"""Paths and small helpers shared by the benchmark scripts (run from the repo root)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
POOL = SHARED / "data" / "employee-reviews" / "pool.jsonl"
GOLD = SHARED / "data" / "ex-cx-gold"


def require(path: Path) -> Path:
    """Exit cleanly (status 0, with a message) when the shared data is not there."""
    if not path.exists():
        print(f"skipped: {path} not found (benchmarks read ../shared beside the repo)")
        sys.exit(0)
    return path


def read_texts(path: Path, n: int, field: str = "text") -> list[str]:
    """The first ``n`` non-blank texts of a JSONL file."""
    out = []
    with open(require(path), encoding="utf-8") as fh:
        for line in fh:
            text = json.loads(line).get(field)
            if isinstance(text, str) and text.strip():
                out.append(text)
                if len(out) >= n:
                    break
    return out
