"""The ``themesift`` command: a thin layer over library functions, one sub-command each."""

from __future__ import annotations

import argparse
import sys

from themesift import __version__
from themesift.cli_commands import COMMANDS, UserError

EPILOG = "Run 'themesift COMMAND --help' for each command's options."


def _model_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model",
        default=None,
        metavar="DIR",
        help="model directory written by 'themesift train' (default: the shipped ex-cx-1 model)",
    )


AUDIENCE_HELP = (
    "who wrote the comments: auto (default: decided per comment from its wording), employee or "
    "customer; with a known audience the other audience's themes are never output"
)


# The shared input flags: every command that reads a table spells and defaults them the same way.
TEXT_COLUMN_HELP = (
    "column holding the comments (default: detected, as classify does: text/comment/response/"
    "feedback/review or their plurals, in any case, if exactly one)"
)


def _text_column_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--text-column", default=None, metavar="COL", help=TEXT_COLUMN_HELP)


def _input_args(p: argparse.ArgumentParser) -> None:
    """--text-column, --encoding, --sheet: how to read a comments table."""
    _text_column_arg(p)
    p.add_argument("--encoding", default=None, help="text encoding of CSV/TSV/JSONL input (default: detected)")
    p.add_argument("--sheet", default=None, help="Excel sheet name or 0-based index (default: the first)")


def _label_args(p: argparse.ArgumentParser) -> None:
    """--text-column, --labels-column, --label-columns, --polarities: how to read a labeled table."""
    _text_column_arg(p)
    p.add_argument(
        "--labels-column",
        default="labels",
        metavar="COL",
        help="column of labels: a list or a ';'-separated 'theme:polarity' string (default: labels)",
    )
    p.add_argument(
        "--label-columns",
        default=None,
        metavar="A,B,C",
        help="instead, one column per theme holding a polarity or blank (comma-separated names; "
        "default when there is no labels column: the columns named after the model's themes, "
        "or that hold only polarities)",
    )
    p.add_argument(
        "--polarities",
        default=None,
        metavar="P1,P2,...",
        help="allowed polarity values (default: positive,negative,neutral, or the model's; e.g. add conflict)",
    )


def _typed_only(p: argparse.ArgumentParser) -> None:
    """Leave untyped flags out of the namespace, so a --config file's values are not overwritten
    by argparse defaults: the defaults live once, in TrainConfig."""
    for action in p._actions:
        if action.dest != "help":
            action.default = argparse.SUPPRESS


DRIVERS_HELP = """\
For each theme:polarity label: how many scored comments carry it (n, share), the mean score with
and without it, and its impact: the coefficient of one least-squares model of the score on every
label's 0/1 indicator together (so correlated themes do not take each other's credit), with a 95%
interval from heteroskedasticity-robust (HC3) standard errors, its p-value, and the
Benjamini-Hochberg q-value across all labels (read q < 0.05 as significant). score_without and
delta_without are the Thematic-style figures: the mean without the label's comments and how far
the overall mean would move without them. Rows flagged by classify or with a blank or non-numeric
score are left out and counted; labels below --min-count are listed with estimated=False."""


TRENDS_HELP = """\
For each theme:polarity label and period (week, month, quarter, year): the comments in the period,
how many carry the label and its share, and the change in share since the previous period with a
95% interval (Newcombe) and a two-sided score test; q_value is the Benjamini-Hochberg correction
over every label x period comparison (read q < 0.05 as a real change). Dates may be ISO, day- or
month-first with slashes (decided from the data, or --dayfirst/--monthfirst), Excel serial numbers
or datetimes; rows with no usable date, and rows flagged by classify, are left out and counted."""


LINK_HELP = """\
Per unit (store, branch, team: the --unit column both files share), each label's share of the
unit's comments on each side, and the unit mean of any --employee-score/--customer-score column.
For every employee label x customer label: Spearman's rho across the units both sides have, a 95%
percentile bootstrap interval over units (1,000 resamples), the p-value and the Benjamini-Hochberg
q-value over all pairs (read q < 0.05 as a real link). With --time and --lag N, a unit in employee
period t is paired with the same unit in customer period t + N. Units with fewer than
--min-group-size comments on a side are left out and counted; fewer than --min-units shared units
is refused. These are correlations between units, not people, and not causes."""


DISCOVER_HELP = """\
Embeds each comment with the shipped encoder, groups the comments with k-means (fixed seed, so
the same input gives the same topics), and describes each topic: size and share, key phrases
(class-based TF-IDF), the three comments nearest its centre, and the existing themes its comments
carry with their shares. --uncovered-only keeps the comments no theme covers (emerging themes).
With --topics auto, the number of topics is the best cosine silhouette among 5 to 25."""


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="themesift", description=__doc__.splitlines()[0] if __doc__ else None, epilog=EPILOG
    )
    parser.add_argument("--version", action="version", version=f"themesift {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "predict",
        help="classify texts given on the command line; prints JSON",
        description="Classify each TEXT and print one JSON result per text, in order.",
    )
    p.add_argument("texts", nargs="+", metavar="TEXT")
    _model_arg(p)
    p.add_argument("--evidence", action="store_true", help="add the sentences that carry each theme, with offsets")
    p.add_argument("--audience", default="auto", choices=("auto", "employee", "customer"), help=AUDIENCE_HELP)

    p = sub.add_parser(
        "classify",
        help="classify a CSV/TSV/JSONL/Parquet/Excel file, keeping every row",
        description="Read INPUT in chunks, classify its text column and write OUTPUT with every "
        "input row and column in order, plus themes, scores, error and warning columns. "
        "The output format follows OUTPUT's extension.",
    )
    p.add_argument("input", metavar="INPUT")
    p.add_argument("-o", "--output", required=True, metavar="OUTPUT")
    _input_args(p)
    _model_arg(p)
    p.add_argument(
        "--layout",
        choices=("default", "wide", "long"),
        default="default",
        help="default: themes list per row; wide: plus one column per theme holding its polarity; "
        "long: one row per theme mention (row, theme, polarity, score, evidence) for BI tools",
    )
    p.add_argument(
        "--evidence", action="store_true", help="add the sentences that carry each theme (long layout: always)"
    )
    p.add_argument(
        "--redact", action="store_true", help="mask e-mails, phone numbers, URLs and person names in every text written"
    )
    p.add_argument("--delimiter", default=None, help="CSV delimiter (default: sniffed among , ; tab |)")
    p.add_argument("--chunk-size", type=int, default=2000, help="rows read and written per chunk (default 2000)")
    p.add_argument("--max-chars", type=int, default=20000, help="longer texts are cut and flagged (default 20000)")
    p.add_argument("--no-language-check", action="store_true", help="do not flag comments that are not English")
    p.add_argument("--audience", default="auto", choices=("auto", "employee", "customer"), help=AUDIENCE_HELP)
    p.add_argument(
        "--audience-column",
        default=None,
        metavar="COL",
        help="for mixed files: a column holding each row's audience (employee/customer; blank: "
        "--audience); a bad value flags that row. The audience used is written to an 'audience' "
        "column ('themesift_audience' if the input has one)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = sub.add_parser(
        "train",
        help="train a model on labeled data and write an artifact directory",
        description="Train FAMILY on DATA, tune per-theme thresholds on --dev (or a seeded, "
        "stratified slice of DATA), score, and write the model directory. With --family zeroshot, "
        "build a model from --taxonomy alone (each theme's name, description and optional keywords "
        "and examples), with no labeled data.",
    )
    p.add_argument("--data", help="training file (CSV/TSV/JSONL/Parquet/Excel); required unless in --config")
    p.add_argument(
        "--dev", default=None, help="dev file for early stopping and thresholds (default: split from --data)"
    )
    p.add_argument("--test", default=None, help="optional test file, scored once after training")
    p.add_argument(
        "--family",
        choices=("tfidf", "embed", "finetune", "zeroshot"),
        help="model family (default: tfidf); zeroshot builds a model from --taxonomy alone, no --data",
    )
    p.add_argument(
        "--unlabeled",
        default=None,
        metavar="FILE",
        help="with --family zeroshot: your comments (any classify format, --text-column), to report in the "
        "model card how often each theme is found and which never are",
    )
    p.add_argument("--output", "-o", metavar="DIR", help="model directory to write; required unless in --config")
    p.add_argument(
        "--force",
        action="store_true",
        help="replace --output even if it exists and is not a themesift model (default: refuse)",
    )
    _label_args(p)
    p.add_argument("--taxonomy", default=None, metavar="YAML", help="themes file; labels outside it are errors")
    p.add_argument("--default-taxonomy", action="store_true", help="use the packaged ex-cx-1 taxonomy")
    p.add_argument(
        "--audience-column",
        default=None,
        metavar="COL",
        help="column of each row's audience (employee/customer) for the audience detector, when the "
        "taxonomy's themes declare audiences (default: 'audience' if present, else implied by "
        "rows whose labels all belong to one audience)",
    )
    p.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="COLUMN=VALUE",
        help="leave out of --data and --dev the rows where COLUMN holds VALUE, e.g. "
        "--exclude source=customer-spotify-twitter-support for a source whose licence does not fit "
        "(repeatable)",
    )
    p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="family parameter, e.g. --param epochs=3 --param lora_r=16 (repeatable; merged over the "
        "config's params; every family's table: python -m themesift.models.params)",
    )
    p.add_argument(
        "--config",
        default=None,
        metavar="JSON",
        help="a JSON file of TrainConfig settings (data, output, family, params, ...); a flag overrides "
        "only the setting it names, and only when typed",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--dev-size", type=float, default=0.1, help="share of --data held out when no --dev (default 0.1)")
    p.add_argument(
        "--refit",
        action="store_true",
        help="after thresholds are tuned on dev, train again on data + dev and keep those thresholds "
        "(no early stopping: every epoch runs; the dev scores shown are the first model's)",
    )
    _typed_only(p)

    p = sub.add_parser(
        "ensemble",
        help="average trained models into one, thresholds tuned on dev",
        description="Combine trained model directories (same themes) into one artifact that "
        "averages their probabilities; per-theme thresholds are tuned on --dev.",
    )
    p.add_argument("--member", action="append", required=True, metavar="DIR", help="a trained model (repeat)")
    p.add_argument("--weights", default=None, metavar="W1,W2", help="member weights (default: equal)")
    p.add_argument(
        "--route",
        action="append",
        default=[],
        metavar="AUDIENCE=W1,W2",
        help="member weights for one audience, e.g. --route employee=1,0,1 --route customer=0,1,1: "
        "each comment is scored by its audience's members only (a weight of 0 skips that member), "
        "so an encoder tuned for employees and one tuned for customers cost one encoder per "
        "comment; comments of unknown audience use --weights (repeatable)",
    )
    p.add_argument("--dev", required=True, help="labeled dev file for the thresholds")
    p.add_argument("--test", default=None, help="optional test file, scored once")
    p.add_argument("--output", "-o", required=True, metavar="DIR")
    p.add_argument(
        "--force",
        action="store_true",
        help="replace --output even if it exists and is not a themesift model (default: refuse)",
    )
    _label_args(p)

    p = sub.add_parser(
        "soup",
        help="average the weights of finetune runs into one model, thresholds tuned on dev",
        description="Average finetune models trained with one --param init_seed=K and different "
        "--seed into ONE model (a weight soup: the mean of their weights, run at one "
        "model's cost); per-theme thresholds are tuned on --dev. Members trained with "
        "--refit have seen dev: give --thresholds-from the soup of the same runs "
        "trained without it instead.",
    )
    p.add_argument("--member", action="append", required=True, metavar="DIR", help="a trained finetune model (repeat)")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--dev", help="labeled dev file for the thresholds")
    where.add_argument(
        "--thresholds-from",
        default=None,
        metavar="DIR",
        help="keep this model's thresholds and report its dev scores (for members refit on dev)",
    )
    p.add_argument("--test", default=None, help="optional test file, scored once")
    p.add_argument("--output", "-o", required=True, metavar="DIR")
    p.add_argument(
        "--force",
        action="store_true",
        help="replace --output even if it exists and is not a themesift model (default: refuse)",
    )
    _label_args(p)

    p = sub.add_parser(
        "evaluate",
        help="score a model on labeled data, overall and per segment",
        description="Micro/macro precision, recall and F1 for themes and theme:polarity, per label; "
        "with --by COLUMN, also per value of a column of DATA (e.g. source, industry).",
    )
    p.add_argument("--model", default="default", metavar="DIR|default")
    p.add_argument("--data", required=True)
    _label_args(p)
    p.add_argument(
        "--by",
        action="append",
        default=[],
        metavar="COLUMN",
        help="also score each value of this column of DATA separately, blanks as '(blank)'; one "
        'table each, in --json under "by" and in --report (repeatable)',
    )
    p.add_argument("--json", default=None, metavar="OUT", help="write the metrics as JSON")
    p.add_argument("--report", default=None, metavar="HTML", help="write a self-contained HTML report")
    p.add_argument("--compare", default=None, metavar="DIR", help="second model to compare side by side")

    p = sub.add_parser(
        "cv",
        help="k-fold cross-validation with multi-label stratified folds",
        description="Train FAMILY on each fold and report mean and spread of the scores.",
    )
    p.add_argument("--data", required=True)
    p.add_argument("--family", default="tfidf", choices=("tfidf", "embed", "finetune"))
    p.add_argument("--folds", type=int, default=5)
    _label_args(p)
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", default=None, metavar="OUT")

    p = sub.add_parser(
        "audit",
        help="rank likely label errors in a labeled file, with the suggested label and why",
        description="Score every row with a model that never saw it (k-fold, as 'themesift cv') and list "
        "the labels it disagrees with: a theme it is sure of but the row lacks (missing), a labeled theme it "
        "does not see (extra), another polarity (polarity). confidence = 1 - p(label as written) / the "
        "average p the model gives rows with that same label (confident learning, as cleanlab), so rare "
        "labels are not flagged everywhere; most likely first. The data is not changed.",
    )
    p.add_argument("--data", required=True)
    p.add_argument("-o", "--output", required=True, metavar="TABLE", help="the issues (.csv/.xlsx/.jsonl/...)")
    p.add_argument("--family", default="tfidf", choices=("tfidf", "embed", "finetune"))
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--min-confidence", type=float, default=0.5, help="list issues at least this likely (default 0.5)")
    p.add_argument(
        "--no-embed", action="store_true", help="the family alone: no second opinion from frozen MiniLM embeddings"
    )
    _label_args(p)
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--seed", type=int, default=0)

    p = sub.add_parser(
        "suggest",
        help="which comments to label next: uncertain, spread over the themes, no near-duplicates",
        description="Scores each comment of --data by how close the model's score for each theme is to that theme's "
        "threshold, picks the most uncertain comment for every theme in turn (so rare themes get their share), "
        "skips near-duplicates (word TF-IDF cosine >= --max-similarity) and writes them with the model's labels "
        "as a starting point: a table, Label Studio tasks (the default when -o ends in .json; the labeling config is "
        "written beside it as OUTPUT.config.xml), or with --format argilla a folder that rg.Dataset.from_disk(OUTPUT) "
        "loads into Argilla with its settings. 'themesift train' reads Label Studio's JSON export and Argilla's "
        "exported records (dataset.records.to_json(FILE), or a dataset.to_disk folder) back.",
    )
    _model_arg(p)
    p.add_argument("--data", required=True, metavar="POOL", help="unlabeled comments (any table format)")
    p.add_argument("-n", type=int, default=100, help="comments to suggest (default 100)")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="a table, .json for Label Studio, or a folder")
    p.add_argument(
        "--format",
        choices=("csv", "label-studio", "argilla"),
        default=None,
        help="csv (a CSV table whatever the suffix), label-studio, or argilla (a new or empty folder); "
        "default: label-studio for .json, else a table in the suffix's format",
    )
    p.add_argument("--max-similarity", type=float, default=0.8, help="near-duplicate cosine (default 0.8)")
    _text_column_arg(p)

    p = sub.add_parser(
        "report",
        help="HTML report with charts (and tables) from a 'classify' output",
        description="One self-contained HTML file: theme volume and polarity, volume × net "
        "sentiment, heatmaps by group, example comments; small groups suppressed (with the next smallest, "
        "so none can be worked out from the total). With --by, --score or --time it also opens with an "
        "executive summary and adds each group against the rest (share difference, score test, "
        "Benjamini-Hochberg q), what moves the score (as 'themesift drivers') and the change over time "
        "(as 'themesift trends'); every finding with its 95%% interval.",
    )
    p.add_argument("predictions", metavar="PREDICTIONS")
    p.add_argument("-o", "--output", required=True, metavar="HTML")
    p.add_argument("--by", action="append", default=[], metavar="COLUMN", help="group column (repeatable)")
    p.add_argument("--min-group-size", type=int, default=5, help="hide groups smaller than this (default 5)")
    p.add_argument("--score", default=None, metavar="COL", help="a score column: add what moves it (drivers)")
    p.add_argument("--score-type", choices=("mean", "nps"), default="mean", help="as for 'themesift drivers'")
    p.add_argument("--time", default=None, metavar="COL", help="a date column: add the change over time")
    p.add_argument("--period", choices=("week", "month", "quarter", "year"), default="quarter")
    p.add_argument("--redact", action="store_true", help="mask personal data in example comments")
    p.add_argument("--tables", default=None, metavar="PATH", help="also write the tables: a folder of CSVs or an .xlsx")
    _text_column_arg(p)
    p.add_argument("--title", default="Comment themes")

    p = sub.add_parser(
        "drivers",
        help="which themes move a score (rating, NPS, CSAT), with 95%% intervals",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=DRIVERS_HELP,
    )
    p.add_argument("predictions", metavar="INPUT", help="a 'themesift classify' output, or a raw export")
    p.add_argument("--score", required=True, metavar="COL", help="the score column (e.g. rating, csat, ltr)")
    p.add_argument(
        "--score-type",
        choices=("mean", "nps"),
        default="mean",
        help="mean: the score as is (ratings, CSAT); nps: 0-10 likelihood to recommend as NPS points",
    )
    p.add_argument(
        "--min-count",
        type=_positive_int,
        default=30,
        metavar="N",
        help="labels on fewer scored comments are listed, not estimated (default 30)",
    )
    _text_column_arg(p)
    _model_arg(p)
    p.add_argument("-o", "--output", default=None, metavar="TABLE", help="write the table (.csv/.xlsx/.parquet/...)")

    p = sub.add_parser(
        "trends",
        help="each theme's share per period and its change, with tests",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=TRENDS_HELP,
    )
    p.add_argument("predictions", metavar="INPUT", help="a 'themesift classify' output, or a raw export")
    p.add_argument("--time", required=True, metavar="COL", help="the date column")
    p.add_argument("--period", choices=("week", "month", "quarter", "year"), default="month")
    order = p.add_mutually_exclusive_group()
    order.add_argument(
        "--dayfirst",
        dest="dayfirst",
        action="store_const",
        const=True,
        default=None,
        help="read 03/04/2026 as 3 April (default: decided from the data when it can be)",
    )
    order.add_argument(
        "--monthfirst", dest="dayfirst", action="store_const", const=False, help="read 03/04/2026 as 4 March"
    )
    _text_column_arg(p)
    _model_arg(p)
    p.add_argument("-o", "--output", default=None, metavar="TABLE", help="write the table (.csv/.xlsx/.parquet/...)")

    p = sub.add_parser(
        "link",
        help="employee themes against customer themes across units (stores, teams)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=LINK_HELP,
    )
    p.add_argument("employee", metavar="EMPLOYEE", help="employee comments: a classify output or a raw export")
    p.add_argument("customer", metavar="CUSTOMER", help="customer comments: a classify output or a raw export")
    p.add_argument("--unit", required=True, metavar="COL", help="the column both files share (store, branch, team)")
    p.add_argument("--time", default=None, metavar="COL", help="a date column in both files: pair unit-periods")
    p.add_argument("--period", choices=("week", "month", "quarter", "year"), default="quarter")
    p.add_argument(
        "--lag",
        type=int,
        default=0,
        metavar="N",
        help="with --time: employee period t against customer period t + N (default 0)",
    )
    p.add_argument(
        "--employee-score",
        action="append",
        default=[],
        metavar="COL",
        help="a numeric employee column (e.g. enps) to link as a unit mean (repeatable)",
    )
    p.add_argument(
        "--customer-score",
        action="append",
        default=[],
        metavar="COL",
        help="a numeric customer column (e.g. csat) to link as a unit mean (repeatable)",
    )
    p.add_argument(
        "--min-units", type=_positive_int, default=10, metavar="N", help="refuse with fewer shared units (default 10)"
    )
    p.add_argument(
        "--min-group-size",
        type=_positive_int,
        default=5,
        metavar="N",
        help="units with fewer comments on a side are left out (default 5)",
    )
    _text_column_arg(p)
    _model_arg(p)
    p.add_argument(
        "--report",
        default=None,
        metavar="HTML",
        help="also write a self-contained HTML page: heatmap, the strongest pairs by unit, caveats",
    )
    p.add_argument("-o", "--output", default=None, metavar="TABLE", help="write the table (.csv/.xlsx/.parquet/...)")

    p = sub.add_parser(
        "discover",
        help="group comments into topics by meaning: what the themes may miss",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=DISCOVER_HELP,
    )
    p.add_argument("input", metavar="INPUT", help="a 'themesift classify' output, or a raw export (classified first)")
    p.add_argument("--uncovered-only", action="store_true", help="only the comments no theme covers")
    p.add_argument("--topics", default="auto", metavar="N|auto", help="number of topics (default: auto)")
    p.add_argument("--seed", type=int, default=0, help="the same input and seed give the same topics")
    p.add_argument(
        "--report",
        default=None,
        metavar="HTML",
        help="also write a self-contained HTML page: topic sizes, key phrases, examples",
    )
    _text_column_arg(p)
    _model_arg(p)
    p.add_argument("-o", "--output", default=None, metavar="TABLE", help="write the table (.csv/.xlsx/.parquet/...)")

    p = sub.add_parser(
        "serve",
        help="HTTP API over predict (FastAPI + uvicorn)",
        description="POST /v1/classify, GET /v1/model, /healthz, /readyz; endpoints at /docs, "
        "schema at /openapi.json. API key, limits and timeouts come from THEMESIFT_* "
        "environment variables (THEMESIFT_API_KEY, THEMESIFT_MAX_TEXTS, ...; see the "
        "README's HTTP section).",
    )
    _model_arg(p)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1)

    p = sub.add_parser(
        "spark-classify",
        help="classify Parquet/CSV folders on Spark",
        description="Classify with Spark (pip install 'themesift[spark]'; Java 17).",
    )
    p.add_argument("input", metavar="INPUT")
    p.add_argument("-o", "--output", required=True, metavar="OUTPUT")
    p.add_argument("--master", default="local[2]")
    _text_column_arg(p)
    p.add_argument("--audience", default="auto", choices=("auto", "employee", "customer"), help=AUDIENCE_HELP)
    p.add_argument("--audience-column", default=None, metavar="COL", help="a column holding each row's audience")
    _model_arg(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args) or 0
    except UserError as exc:
        print(f"themesift {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
