"""Plain scikit-learn: TF-IDF (word 1-2 grams, sublinear tf) + one-vs-rest
LogisticRegression over ``theme:polarity`` labels, predicted at probability >= 0.5."""

from __future__ import annotations

from pathlib import Path

from peers.data import Dataset, label_vocabulary


def train(ds: Dataset, workdir: Path, quick: bool) -> dict:
    import joblib
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MultiLabelBinarizer

    mlb = MultiLabelBinarizer(classes=label_vocabulary(ds))
    y = mlb.fit_transform(ds.fit.labels)
    pipe = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
        OneVsRestClassifier(LogisticRegression(max_iter=1000)),
    )
    pipe.fit(ds.fit.texts, y)
    joblib.dump((pipe, mlb), workdir / "model.joblib")  # a benchmark scratch file, not a themesift artifact
    return {"vectorizer": "word 1-2 grams, min_df 2, sublinear tf", "classifier": "OneVsRest(LogisticRegression)"}


class Predictor:
    def __init__(self, workdir: Path):
        import joblib

        self.pipe, self.mlb = joblib.load(workdir / "model.joblib")

    def predict(self, texts: list[str]) -> list[list[str]]:
        return [sorted(x) for x in self.mlb.inverse_transform(self.pipe.predict(texts))]


def load(workdir: Path, variant: str) -> Predictor:
    return Predictor(workdir)
