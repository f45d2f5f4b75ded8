"""Cold start: wall time and peak RSS of one ``themesift predict "…"`` process, warm ONNX cache.

Each run is a fresh process (what a shell user, a cron job or a new Spark executor pays). With
``--old-commit REV`` the same command also runs on that commit's code (unpacked with ``git
archive`` into a temp folder laid out as the installed package), the two alternating run by run,
so both sides see the same machine and the same load. The first, untimed run of each side fills
its ONNX cache. Wall time and peak RSS come from ``os.wait4``, for the process alone; a last
process per side lists which of torch, transformers and peft ``import themesift; predict`` loaded.

    python benchmarks/cold_start.py --old-commit b638360~1 --runs 5
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "cold_start.json"
TEXT = "Pay is low"
CLI = "import sys; from themesift.cli import main; sys.exit(main())"  # what the `themesift` script runs
CHECK = (
    "import sys, themesift; themesift.predict(['Pay is low']); "
    "print(','.join(m for m in ('torch', 'transformers', 'peft') if m in sys.modules) or 'none')"
)
# pyproject's package-dir: where each subpackage lives in the checkout
LAYOUT = {
    "core": "",
    "themesift": "",
    "nlp": "nlp",
    "models": "models",
    "training": "training",
    "serve": "serve",
    "analysis": "analysis",
    "report": "report",
}


def _measured(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Like run_once, with the child's own rusage (wait4 before Popen reaps it)."""
    started = time.perf_counter()
    # run outside the checkout: its themesift/ folder would shadow the old tree on PYTHONPATH
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=tempfile.gettempdir()
    )
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if proc.returncode:
        raise SystemExit(f"{' '.join(command)} failed with exit code {proc.returncode}")
    return wall, usage.ru_maxrss / 1024, out.strip()


def unpack(commit: str, into: Path) -> Path:
    """``commit``'s package tree under ``into/themesift`` (put ``into`` first on PYTHONPATH)."""
    archive = into / "tree.tar"
    subprocess.run(["git", "archive", "-o", str(archive), commit], cwd=REPO, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into / "src", filter="data")
    for folder, sub in LAYOUT.items():
        if not (into / "src" / folder).is_dir():
            continue
        target = into / "themesift" / sub
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(into / "src" / folder, target)
    return into


def side(label: str, pythonpath: str | None, commit: str) -> dict:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    return {"label": label, "env": env, "commit": commit, "wall_s": [], "peak_rss_mib": []}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--old-commit", default=None, help="also measure this commit's code, alternating with ours")
    args = p.parse_args()
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO
    ).stdout.strip()
    command = [sys.executable, "-c", CLI, "predict", TEXT]
    with tempfile.TemporaryDirectory() as tmp:
        sides = [side("after", None, head)]
        if args.old_commit:
            old = subprocess.run(
                ["git", "rev-parse", "--short", args.old_commit], capture_output=True, text=True, cwd=REPO, check=True
            ).stdout.strip()
            sides.insert(0, side("before", str(unpack(args.old_commit, Path(tmp))), old))
        for s in sides:
            _measured(command, s["env"])  # fills this side's ONNX cache; not timed
        for _ in range(args.runs):
            for s in sides:
                wall, peak, _ = _measured(command, s["env"])
                s["wall_s"].append(round(wall, 2))
                s["peak_rss_mib"].append(round(peak, 1))
        for s in sides:
            s["heavy_modules_loaded"] = _measured([sys.executable, "-c", CHECK], s["env"])[2]
    median = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
    results = {
        "command": f'themesift predict "{TEXT}"  (as: python -c "{CLI}" predict "{TEXT}")',
        "reproduce": f"python benchmarks/cold_start.py --runs {args.runs}"
        + (f" --old-commit {args.old_commit}" if args.old_commit else ""),
        "note": "warm ONNX cache on both sides; runs alternate between the sides",
        "machine": {
            "cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        },
        "backend": os.environ.get("THEMESIFT_BACKEND") or "default (onnx-int8)",
    }
    for s in sides:
        results[s["label"]] = {
            "commit": s["commit"],
            "runs": args.runs,
            "wall_s": s["wall_s"],
            "wall_s_median": median(s["wall_s"]),
            "peak_rss_mib": s["peak_rss_mib"],
            "peak_rss_mib_median": median(s["peak_rss_mib"]),
            "heavy_modules_loaded": s["heavy_modules_loaded"],
        }
    from themesift.nlp.atomic import atomic_write_text

    atomic_write_text(RESULTS, json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
