"""Shared test set-up: offline Hugging Face, paths to the shared data, small real models."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
GOLD = SHARED / "data" / "ex-cx-gold"
EXAMPLES = REPO / "examples"


def read_jsonl(path: Path, limit: int | None = None) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            rows.append(json.loads(line))
            if limit and len(rows) >= limit:
                break
    return rows


@pytest.fixture(scope="session")
def gold_train() -> list[dict]:
    """ex-cx-gold train rows (train only: test is never read by tests)."""
    if not (GOLD / "train.jsonl").is_file():
        pytest.skip(f"shared data not found at {GOLD}")
    return read_jsonl(GOLD / "train.jsonl")


@pytest.fixture(scope="session")
def gold_dev() -> list[dict]:
    if not (GOLD / "dev.jsonl").is_file():
        pytest.skip(f"shared data not found at {GOLD}")
    return read_jsonl(GOLD / "dev.jsonl")


@pytest.fixture(scope="session")
def tfidf_model_dir(tmp_path_factory, gold_train):
    """A real tfidf model trained on 1,500 gold train rows, saved as an artifact."""
    from themesift.models.registry import make_model

    rows = gold_train[:1500]
    model = make_model("tfidf", max_iter=500).fit([r["text"] for r in rows], [r["labels"] for r in rows])
    return model.save(tmp_path_factory.mktemp("models") / "tfidf")


@pytest.fixture(scope="session")
def default_model():
    from themesift.serve.predict import load_model

    return load_model()
