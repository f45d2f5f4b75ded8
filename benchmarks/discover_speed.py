"""``discover`` on N real pool comments: wall time (embedding + clustering) and run-to-run
reproducibility (the same topics twice, embeddings computed anew each time).

    python benchmarks/discover_speed.py [-n 10000] [-o benchmarks/results/discover_speed.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import POOL, REPO, read_texts  # noqa: E402
from themesift.analysis.discover import discover  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=10000)
    parser.add_argument("-o", "--output", default=str(REPO / "benchmarks" / "results" / "discover_speed.json"))
    args = parser.parse_args()
    texts = read_texts(POOL, args.n)
    runs = []
    for _ in range(2):
        start = time.perf_counter()
        table = discover(texts)
        runs.append(
            {
                "seconds": round(time.perf_counter() - start, 1),
                "topics": table.attrs["topics"],
                "keywords": table["keywords"].tolist(),
            }
        )
        print(f"{len(texts)} comments, {table.attrs['n_topics']} topics, {runs[-1]['seconds']} s", flush=True)
    result = {
        "comments": len(texts),
        "n_topics": len(runs[0]["keywords"]),
        "seconds": [r["seconds"] for r in runs],
        "same_topics_twice": runs[0]["topics"] == runs[1]["topics"],
        "keywords": runs[0]["keywords"],
    }
    Path(args.output).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print({k: v for k, v in result.items() if k != "keywords"})


if __name__ == "__main__":
    main()
