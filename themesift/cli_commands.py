"""Handlers behind each ``themesift`` sub-command: parse flags, call the library, print.

Expected failures (bad files, bad labels, missing columns) become ``UserError`` so the
CLI prints one line and exits 2 instead of a traceback.
"""

from __future__ import annotations

import json
import sys
from argparse import Namespace
from pathlib import Path


class UserError(Exception):
    """An error in the user's input, shown as one line."""


def _user_errors():
    from themesift.models.artifact import ModelFileError
    from themesift.models.audience import AudienceError
    from themesift.models.labels import LabelError
    from themesift.models.params import ParamError
    from themesift.nlp.tables import TableError
    from themesift.training.labels_io import LabelDataError

    return (
        TableError,
        LabelDataError,
        LabelError,
        AudienceError,
        ModelFileError,
        ParamError,
        FileNotFoundError,
        FileExistsError,
        PermissionError,
        IsADirectoryError,
    )


def _command_errors():
    """The input errors of report, train and the analyses (one line each, naming the flag)."""
    from themesift.analysis.drivers import AnalysisError
    from themesift.report.tables import ReportError
    from themesift.training.train import TrainConfigError

    return (ReportError, TrainConfigError, AnalysisError)


def _run(fn, *args, **kwargs):
    """Call ``fn``, turning the library's input errors into ``UserError``."""
    try:
        return fn(*args, **kwargs)
    except (*_user_errors(), *_command_errors()) as exc:
        raise UserError(" ".join(str(exc).split())) from None  # one line; quotes in names kept (B3)


def _left_out(attrs: dict, why: str) -> None:
    """Print the rows an analysis left out (the first ten row numbers), if any."""
    if attrs["n_excluded"]:
        rows = ", ".join(map(str, attrs["excluded_rows"][:10])) + (" ..." if attrs["n_excluded"] > 10 else "")
        print(f"left out: {attrs['n_excluded']} rows {why} (rows {rows})")


def _write_result(table, path: str | None, what: str, rounded: tuple[str, ...] = ()) -> None:
    """Write an analysis table with the classify writer, numbers rounded to 4 decimals."""
    if path:
        from themesift.nlp.table_writer import write_table

        _run(write_table, table.round(dict.fromkeys(rounded, 4)), path)
        print(f"{what} written to {path}", file=sys.stderr)


def _params(pairs: list[str]) -> dict:
    """``KEY=VALUE`` flags; values parsed as JSON when they are JSON (numbers, bools, null)."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UserError(f"--param expects KEY=VALUE, got {pair!r}")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def _floats(value: str, flag: str) -> list[float]:
    try:
        return [float(w) for w in value.split(",")]
    except ValueError:
        raise UserError(f"{flag} expects comma-separated numbers, got {value!r}") from None


def _label_columns(value: str | None) -> list[str] | None:
    return [c.strip() for c in value.split(",") if c.strip()] if value else None


def _label_flags(args: Namespace) -> dict:
    """The shared labeled-input flags (themesift.cli._label_args) as keyword arguments."""
    return {
        "text_column": args.text_column,
        "labels_column": args.labels_column,
        "label_columns": _label_columns(args.label_columns),
        "polarities": _label_columns(args.polarities),
    }


def _writable(path: str | None, flag: str) -> None:
    """Refuse an output whose folder is missing before the work, not after it."""
    if path and not Path(path).expanduser().resolve().parent.is_dir():
        raise UserError(f"{flag} {path}: folder {Path(path).parent} does not exist")


def cmd_predict(args: Namespace) -> int:
    from themesift.nlp.table_readers import repair_text
    from themesift.serve.predict import predict

    results = _run(predict, args.texts, args.model, evidence=args.evidence, audience=args.audience)
    for text, result in zip(args.texts, results):  # undecodable argv bytes are shown as predict read them
        print(json.dumps({"text": repair_text(text)[0], **result}, ensure_ascii=False))
    return 0


def cmd_classify(args: Namespace) -> int:
    from themesift.serve.batch import ClassifyOptions, classify_file

    opts = ClassifyOptions(
        text_column=args.text_column,
        layout=args.layout,
        evidence=args.evidence,
        redact=args.redact,
        encoding=args.encoding,
        sheet=args.sheet,
        delimiter=args.delimiter,
        chunk_size=args.chunk_size,
        max_chars=args.max_chars,
        language_check=not args.no_language_check,
        progress=not args.quiet,
        audience=args.audience,
        audience_column=args.audience_column,
    )
    summary = _run(classify_file, args.input, args.output, model=args.model, options=opts)
    print(summary.describe(), file=sys.stderr)
    return 0


TRAIN_FLAGS = (
    "data",
    "output",
    "family",
    "dev",
    "test",
    "text_column",
    "labels_column",
    "taxonomy",
    "seed",
    "dev_size",
    "audience_column",
    "unlabeled",
)
TRAIN_SWITCHES = ("force", "refit", "default_taxonomy")


def train_config(args: Namespace):
    """The TrainConfig of ``themesift train``: the --config file (else TrainConfig's defaults), then
    each flag that was typed (the train parser leaves untyped ones out of ``args``)."""
    from themesift.training.train import TrainConfig, load_train_config

    typed = vars(args)
    cfg = _run(load_train_config, typed["config"]) if typed.get("config") else TrainConfig()
    for key in TRAIN_FLAGS:
        if key in typed:
            setattr(cfg, key, typed[key])
    for key in TRAIN_SWITCHES:
        if typed.get(key):
            setattr(cfg, key, True)
    if "label_columns" in typed:
        cfg.label_columns = _label_columns(typed["label_columns"])
    if "polarities" in typed:
        cfg.polarities = _label_columns(typed["polarities"])
    if "param" in typed:
        cfg.params = {**(cfg.params or {}), **_params(typed["param"])}
    if "exclude" in typed:
        cfg.exclude = list(cfg.exclude or ()) + typed["exclude"]
    return cfg


def cmd_train(args: Namespace) -> int:
    from themesift.training.train import train

    cfg = train_config(args)
    try:
        result = _run(train, cfg)
    except TypeError as exc:  # unknown --param for the family
        raise UserError(str(exc)) from None
    _print_scores(result.metrics)
    if result.metrics.get("labels_seen") == 0:
        _print_coverage(result.metrics.get("unlabeled"))
    print(f"\nmodel written to {result.path} ({result.metrics['training_seconds']} s)")
    return 0


def _print_coverage(unlabeled: dict | None) -> None:
    """A zero-shot model's coverage check: each theme's share of the unlabeled comments."""
    if not unlabeled:
        print("zero-shot model: no labels seen; give --unlabeled to see how often each theme is found")
        return
    print(f"zero-shot model: no labels seen; themes found in {unlabeled['comments']} unlabeled comments:")
    for theme, c in unlabeled["themes"].items():
        print(f"  {theme:30s} {c['comments']:6d}  {c['share']:6.1%}")
    if unlabeled["never_found"]:
        print(f"never found: {', '.join(unlabeled['never_found'])} (reword the description or add keywords/examples)")


def _print_scores(metrics: dict) -> None:
    from themesift.training.evaluate import format_metrics

    if metrics.get("dev"):
        print(f"dev ({metrics['data']['dev']['source']}):")
        print(format_metrics(metrics["dev"], per_label=False))
    if "test" in metrics:
        print("\ntest:")
        print(format_metrics(metrics["test"], per_label=False))


def cmd_ensemble(args: Namespace) -> int:
    from themesift.training.ensemble import build_ensemble

    weights = _floats(args.weights, "--weights") if args.weights else None
    routes = {}
    for route in args.route:
        audience, sep, values = route.partition("=")
        if not sep:
            raise UserError(f"--route expects AUDIENCE=W1,W2,..., got {route!r}")
        routes[audience.strip()] = _floats(values, "--route")
    try:
        result = _run(
            build_ensemble,
            args.member,
            args.dev,
            args.output,
            weights=weights,
            routes=routes or None,
            test=args.test,
            force=args.force,
            **_label_flags(args),
        )
    except ValueError as exc:  # weights or routes that do not fit the members: named in the message
        raise UserError(str(exc)) from None
    _print_scores(result.metrics)
    print(f"\nmodel written to {result.path}")
    return 0


def cmd_soup(args: Namespace) -> int:
    from themesift.training.ensemble import build_soup

    try:
        result = _run(
            build_soup,
            args.member,
            args.dev,
            args.output,
            thresholds_from=args.thresholds_from,
            test=args.test,
            force=args.force,
            **_label_flags(args),
        )
    except ValueError as exc:  # members that cannot be averaged: named in the message
        raise UserError(str(exc)) from None
    _print_scores(result.metrics)
    print(f"\nmodel written to {result.path}")
    return 0


def cmd_evaluate(args: Namespace) -> int:
    from themesift.nlp.tables import TableError
    from themesift.serve.predict import load_model
    from themesift.training.data import load_labeled
    from themesift.training.evaluate import (
        evaluate_by,
        evaluate_model,
        format_metrics,
        format_segments,
        format_unknown_themes,
        read_segments,
    )

    _writable(args.json, "--json")  # --report makes its folder, as it always has
    model = _run(load_model, args.model)
    flags = _label_flags(args)
    flags["polarities"] = flags["polarities"] or model.label_space_.polarities
    # read as train reads, with the theme columns the model knows when there is no labels column
    data = _run(load_labeled, args.data, known_themes=model.themes, **flags)
    try:  # the segment values come from the same file, row for row
        segments = read_segments(args.data, args.by, n_rows=len(data)) if args.by else {}
    except TableError as exc:
        raise UserError(f"--by: {exc}") from None
    if args.report or args.compare:
        from themesift.training.report import write_evaluation_report

        other = _run(load_model, args.compare) if args.compare else None
        metrics = _run(
            write_evaluation_report,
            model,
            data,
            args.report,
            other=other,
            names=(args.model, args.compare),
            by=segments,
        )
    elif segments:
        metrics = evaluate_by(model, data.texts, data.label_sets, segments)
    else:
        metrics = evaluate_model(model, data.texts, data.label_sets)
    print(format_metrics(metrics))
    warning = format_unknown_themes(metrics)
    if warning:
        print(warning, file=sys.stderr)
    if "compare" in metrics:
        print(f"\nF1 of {args.model} minus {args.compare}:")
        for level, by_avg in metrics["compare"]["delta"].items():
            for avg, scores in by_avg.items():
                print(f"  {level:<16}{avg:<7}{scores['f1']:+.3f}")
    if segments:
        print(f"\n{format_segments(metrics)}")
    if args.json:
        from themesift.models.artifact import write_json

        write_json(Path(args.json), metrics)
    return 0


def cmd_audit(args: Namespace) -> int:
    from themesift.nlp.table_writer import write_table
    from themesift.training.audit import find_label_issues
    from themesift.training.data import load_labeled

    _writable(args.output, "-o")
    data = _run(load_labeled, args.data, **_label_flags(args))
    issues = _run(
        find_label_issues,
        data,
        family=args.family,
        folds=args.folds,
        params=_params(args.param),
        seed=args.seed,
        min_confidence=args.min_confidence,
        embed=not args.no_embed,
    )
    counts = issues["issue"].value_counts().to_dict()
    print(
        f"{len(issues)} likely label issues in {len(data)} rows ({', '.join(f'{n} {k}' for k, n in counts.items())}); "
        "most likely first:"
    )
    for r in issues.head(10).itertuples():
        print(f"  row {r.row:<6} {r.issue:<8} {r.label:<36} confidence {r.confidence:.2f}  {r.why}")
    _run(write_table, issues, args.output)
    print(f"issues written to {args.output}", file=sys.stderr)
    return 0


def cmd_suggest(args: Namespace) -> int:
    from themesift.nlp.tables import read_table, resolve_text_column
    from themesift.serve.predict import load_model
    from themesift.training.suggest import suggest, write_suggestions

    _writable(args.output, "-o")
    if args.n < 1:
        raise UserError(f"-n must be at least 1, got {args.n}")
    frame = _run(read_table, args.data)
    texts = frame[_run(resolve_text_column, frame.columns, args.text_column)].tolist()
    model = _run(load_model, args.model)
    table = _run(suggest, model, texts, args.n, max_similarity=args.max_similarity)
    themes = table["uncertain_theme"].nunique()
    print(f"{len(table)} comments to label next, over {themes} themes, from {len(texts)} in {args.data}")
    print(_run(write_suggestions, table, model, args.output, args.format), file=sys.stderr)
    return 0


def cmd_cv(args: Namespace) -> int:
    from themesift.training.crossval import cross_validate, format_cv

    result = _run(
        cross_validate,
        args.data,
        family=args.family,
        folds=args.folds,
        params=_params(args.param),
        seed=args.seed,
        **_label_flags(args),
    )
    print(format_cv(result))
    if args.json:
        from themesift.models.artifact import write_json

        write_json(Path(args.json), result)
    return 0


def cmd_report(args: Namespace) -> int:
    from themesift.report import write_report

    extra = None
    if args.by or args.score or args.time:
        from themesift.analysis.report_sections import AnalysisOptions, analysis_sections

        extra = analysis_sections(
            AnalysisOptions(
                score=args.score,
                score_kind=args.score_type,
                time=args.time,
                period=args.period,
                by=args.by,
                min_group_size=args.min_group_size,
            )
        )
    _run(
        write_report,
        args.predictions,
        args.output,
        by=args.by,
        min_group_size=args.min_group_size,
        redact=args.redact,
        text_column=args.text_column,
        tables_path=args.tables,
        title=args.title,
        extra=extra,
    )
    print(f"report written to {args.output}", file=sys.stderr)
    return 0


def cmd_drivers(args: Namespace) -> int:
    from themesift.analysis.predictions import drivers_from_file

    table = _run(
        drivers_from_file,
        args.predictions,
        args.score,
        kind=args.score_type,
        min_count=args.min_count,
        model=args.model,
        text_column=args.text_column,
    )
    attrs = table.attrs
    unit = "NPS points" if args.score_type == "nps" else f"points of {args.score}"
    print(
        f"{attrs['n_scored']} scored comments, mean {attrs['mean_score']:.2f}; impact in {unit}, "
        "95% interval, q = Benjamini-Hochberg"
    )
    _left_out(attrs, f"with a blank or non-numeric {args.score!r}")
    shown = table[table["estimated"]]
    for r in shown.itertuples():
        mark = "*" if r.q_value < 0.05 else " "
        print(
            f"{mark} {r.label:<36} n={r.n:<6} impact {r.impact:+.3f} [{r.ci_low:+.3f}, {r.ci_high:+.3f}]"
            f"  q={r.q_value:.3g}"
        )
    small = table[~table["estimated"]]
    if len(small):
        print(
            f"not estimated (fewer than {args.min_count} scored comments): "
            + ", ".join(f"{r.label} ({r.n})" for r in small.itertuples())
        )
    rounded = ("share", "mean_with", "mean_without", "impact", "ci_low", "ci_high", "score_without", "delta_without")
    _write_result(table, args.output, "drivers", rounded)
    return 0


def cmd_trends(args: Namespace) -> int:
    from themesift.analysis.predictions import trends_from_file

    table = _run(
        trends_from_file,
        args.predictions,
        args.time,
        period=args.period,
        dayfirst=args.dayfirst,
        model=args.model,
        text_column=args.text_column,
    )
    attrs = table.attrs
    counts = ", ".join(f"{p} {n}" for p, n in attrs["comments_per_period"].items())
    print(f"comments per {args.period}: {counts or 'none'}")
    _left_out(attrs, f"with no usable date in {args.time!r}")
    moved = table[table["q_value"] < 0.05].sort_values("q_value")
    if moved.empty:
        print("no significant change (every q >= 0.05)")
    for r in moved.itertuples():
        print(
            f"* {r.label:<36} {r.previous_period} -> {r.period}: {r.previous_share:.1%} -> {r.share:.1%} "
            f"({r.change:+.1%} [{r.ci_low:+.1%}, {r.ci_high:+.1%}], q={r.q_value:.3g})"
        )
    _write_result(table, args.output, "trends", ("share", "previous_share", "change", "ci_low", "ci_high"))
    return 0


def cmd_link(args: Namespace) -> int:
    from themesift.analysis.link import link
    from themesift.analysis.predictions import link_inputs

    if args.lag and args.time is None:
        raise UserError("--lag needs --time (the date column that defines the periods)")
    for path, flag in ((args.output, "-o"), (args.report, "--report")):
        _writable(path, flag)
    employee, customer, info = _run(
        link_inputs,
        args.employee,
        args.customer,
        args.unit,
        time=args.time,
        period=args.period,
        lag=args.lag,
        employee_scores=args.employee_score,
        customer_scores=args.customer_score,
        min_group_size=args.min_group_size,
        model=args.model,
        text_column=args.text_column,
    )
    table = _run(link, employee, customer, min_units=args.min_units)
    table.attrs.update(info)
    small = table.attrs["small_units"]
    what = "unit-periods" if args.time else "units"
    print(
        f"{table.attrs['n_units']} {what} with at least {args.min_group_size} comments on both sides "
        f"(left out as too small: {small['employee']} employee, {small['customer']} customer); "
        "units, not people; correlation, not cause"
    )
    strong = table[table["q_value"] < 0.05]
    if strong.empty:
        print("no significant link (every q >= 0.05)")
    for r in strong.head(15).itertuples():
        print(
            f"* {r.employee_theme:<32} ~ {r.customer_theme:<28} rho {r.rho:+.2f} [{r.ci_low:+.2f}, {r.ci_high:+.2f}]"
            f"  q={r.q_value:.3g}"
        )
    _write_result(table, args.output, "link", ("rho", "ci_low", "ci_high"))
    if args.report:
        from themesift.analysis.pages import write_link_report

        _run(write_link_report, args.report, table, employee, customer, unit=args.unit)
        print(f"report written to {args.report}", file=sys.stderr)
    return 0


def cmd_discover(args: Namespace) -> int:
    from themesift.analysis.predictions import discover_from_file

    topics = args.topics if args.topics == "auto" else _int_flag(args.topics, "--topics")
    for path, flag in ((args.output, "-o"), (args.report, "--report")):
        _writable(path, flag)
    table = _run(
        discover_from_file,
        args.input,
        text_column=args.text_column,
        model=args.model,
        uncovered_only=args.uncovered_only,
        n_topics=topics,
        seed=args.seed,
    )
    scope = "comments no theme covers" if args.uncovered_only else "comments"
    print(f"{table.attrs['comments']} {scope} in {table.attrs['n_topics']} topics")
    for r in table.itertuples():
        covered = f"  themes: {r.themes}" if getattr(r, "themes", "") else ""
        print(f"{r.topic:>3}  {r.size:>5} ({r.share:.0%})  {r.keywords}{covered}")
    _write_result(table, args.output, "topics", ("share", "uncovered_share"))
    if args.report:
        from themesift.analysis.pages import write_topics_report

        _run(write_topics_report, args.report, table, scope=scope)
        print(f"report written to {args.report}", file=sys.stderr)
    return 0


def _int_flag(text: str, flag: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise UserError(f"{flag}: expected a whole number or 'auto', got {text!r}") from None


def cmd_serve(args: Namespace) -> int:
    from themesift.serve.http import ServeConfigError, run_server

    try:
        _run(run_server, model=args.model, host=args.host, port=args.port, workers=args.workers)
    except ServeConfigError as exc:  # a bad --port or THEMESIFT_* variable: one line
        raise UserError(str(exc)) from None
    return 0


def cmd_spark_classify(args: Namespace) -> int:
    from themesift.serve.spark import classify_path

    _run(
        classify_path,
        args.input,
        args.output,
        master=args.master,
        text_col=args.text_column,
        model=args.model,
        audience=args.audience,
        audience_col=args.audience_column,
    )
    return 0


COMMANDS = {
    "predict": cmd_predict,
    "classify": cmd_classify,
    "train": cmd_train,
    "evaluate": cmd_evaluate,
    "cv": cmd_cv,
    "ensemble": cmd_ensemble,
    "soup": cmd_soup,
    "report": cmd_report,
    "serve": cmd_serve,
    "spark-classify": cmd_spark_classify,
    "drivers": cmd_drivers,
    "trends": cmd_trends,
    "link": cmd_link,
    "discover": cmd_discover,
    "audit": cmd_audit,
    "suggest": cmd_suggest,
}
