"""The artifact's README: what it was trained on, how, and how well it scores."""

from __future__ import annotations


def _row(name: str, m: dict) -> str:
    return (
        f"| {name} | {m['theme']['micro']['f1']:.3f} | {m['theme']['macro']['f1']:.3f} | "
        f"{m['theme_polarity']['micro']['f1']:.3f} | {m['theme_polarity']['macro']['f1']:.3f} | {m['n']} |"
    )


def _dev_line(metrics: dict) -> str:
    dev = metrics["data"].get("dev") or {}
    where = f" {dev.get('source', 'not recorded')} ({dev.get('hash', 'no hash')})"
    if metrics.get("thresholds_from"):
        return f"- dev: thresholds and dev scores are those of `{metrics['thresholds_from']}`:{where}"
    if metrics["data"]["train"].get("refit"):
        return (
            "- dev (per-theme thresholds; then refit on train + dev, so dev scores are of the model before it "
            f"saw dev):{where}"
        )
    return f"- dev (early stopping and per-theme thresholds):{where}"


def _audience_lines(audience: dict | None) -> list[str]:
    if not audience:
        return []
    counts: dict[str, int] = {}
    for who in audience["themes"].values():
        counts[who] = counts.get(who, 0) + 1
    lines = [
        "",
        "## Audience",
        "",
        "Themes by audience: "
        + ", ".join(f"{n} {who}" for who, n in sorted(counts.items()))
        + "; a comment gets only its audience's themes (and shared ones).",
    ]
    if not audience.get("detector"):
        lines.append("No audience detector (too few rows of one audience): `auto` masks nothing; give the audience.")
    elif "dev_accuracy" in audience:
        lines.append(
            f"`auto` detects the audience from the text: {audience['dev_accuracy']:.1%} right on the "
            f"{audience['dev_rows']} dev rows whose audience is known."
        )
    return lines


def model_card(model, metrics: dict) -> str:
    data = metrics["data"]
    lines = [
        f"# themesift model — family `{metrics['family']}`",
        "",
        f"Themes ({len(model.themes)}): {', '.join(f'`{t}`' for t in model.themes)}.",
        "",
        "## Training",
        "",
        f"- train: `{data['train']['path']}` ({data['train']['rows']} rows, {data['train']['hash']})",
        _dev_line(metrics),
        f"- seed {metrics['seed']}; {metrics['training_seconds']} s on {metrics['hardware'].get('cpus')} CPUs",
        f"- parameters: `{model.get_params()}`",
        *[f"- {note}" for note in metrics.get("data_notes", [])],
        "",
        "## Scores (micro/macro F1)",
        "",
        "| split | theme micro | theme macro | theme:polarity micro | theme:polarity macro | n |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    if metrics.get("dev"):
        lines.append(_row("dev", metrics["dev"]))
    if metrics.get("tests"):  # several test sets, each scored once (benchmarks/score_default.py)
        lines += [_row(name, m) for name, m in metrics["tests"].items()]
    elif "test" in metrics:
        lines.append(_row("test", metrics["test"]))
    lines += _audience_lines(metrics.get("audience"))
    lines += ["", "Load with `themesift.load_model(path)`; files are JSON and safetensors only.", ""]
    return "\n".join(lines)
