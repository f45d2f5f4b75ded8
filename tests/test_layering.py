"""Data flows one way: nlp → models → report → training / serve / analysis. serve, report and
analysis never import training; nothing below a layer imports it."""

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "nlp": ("themesift.models", "themesift.training", "themesift.serve", "themesift.analysis", "themesift.report"),
    "models": ("themesift.training", "themesift.serve", "themesift.analysis", "themesift.report"),
    "serve": ("themesift.training",),
    "analysis": ("themesift.training",),
    "report": ("themesift.training", "themesift.serve", "themesift.analysis"),
}


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("folder", sorted(FORBIDDEN))
def test_no_import_against_the_flow(folder):
    offenders = [
        f"{py.name} imports {name}"
        for py in sorted((REPO / folder).glob("*.py"))
        for name in _imports(py)
        if name.startswith(FORBIDDEN[folder])
    ]
    assert offenders == []


def test_no_pickle_in_the_shipped_model():
    files = list((REPO / "themesift" / "default_model").rglob("*"))
    assert files and not [f for f in files if f.suffix in (".pkl", ".pickle", ".joblib", ".bin", ".pt")]
