"""Audiences: the taxonomy field, the detector, masking, and audience through predict / classify / HTTP."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from themesift.cli import main
from themesift.models.audience import AudienceError, AudienceModel, check_audience, infer_audiences
from themesift.models.taxonomy import load_taxonomy

CUSTOMER = {"staff_service", "product_quality", "price_value", "ease_speed"}


def test_default_taxonomy_declares_both_audiences():
    audiences = load_taxonomy().audiences()
    assert {t for t, a in audiences.items() if a == "customer"} == CUSTOMER
    assert len([a for a in audiences.values() if a == "employee"]) == 14


@pytest.mark.parametrize(
    "body, message",
    [
        ("  - id: a\n    audience: client\n", "audience 'client' is not one of employee, customer"),
        ("  - id: a\n  - id: a\n", "id 'a' is used twice"),
    ],
)
def test_bad_taxonomy_audience_is_one_clear_error(tmp_path, body, message):
    path = tmp_path / "t.yaml"
    path.write_text("version: t\nthemes:\n" + body, "utf-8")
    with pytest.raises(ValueError, match=message):
        load_taxonomy(path)


def test_taxonomy_without_audiences_has_none(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("version: t\nthemes:\n  - id: food\n  - id: service\n", "utf-8")
    assert load_taxonomy(path).audiences() == {}


def test_check_audience_values():
    assert check_audience(" Customer ") == "customer"
    assert check_audience("auto") is None and check_audience("") is None and check_audience(float("nan")) is None
    with pytest.raises(AudienceError, match="'staff' is not one of"):
        check_audience("staff")


def test_infer_audiences_from_labels():
    themes = {"pay": "employee", "price": "customer"}
    assert infer_audiences(
        [["pay:negative"], ["price:positive"], ["pay:negative", "price:negative"], [], ["x:positive"]], themes
    ) == ["employee", "customer", None, None, None]


EMPLOYEE_TEXTS = [
    "my manager never listens to the team",
    "pay rises are rare and colleagues leave",
    "long shifts and no overtime pay",
    "great colleagues and a supportive boss",
    "training for staff is poor",
    "management ignores our workload",
    "I love my job and my team",
    "career growth here is slow",
    "the company cares about its employees",
    "rota changes every week",
]
CUSTOMER_TEXTS = [
    "the delivery arrived late and the box was broken",
    "the app crashes when I pay",
    "friendly cashier and a quick checkout",
    "my refund took three weeks",
    "the hotel room was dirty",
    "great value for the price",
    "the train was cancelled again",
    "customer support never replied",
    "the product stopped working after a week",
    "booking online was easy",
]


@pytest.fixture(scope="module")
def toy_audience() -> AudienceModel:
    texts = EMPLOYEE_TEXTS + CUSTOMER_TEXTS
    return AudienceModel.fit(
        {"pay": "employee", "price": "customer"},
        texts,
        ["employee"] * len(EMPLOYEE_TEXTS) + ["customer"] * len(CUSTOMER_TEXTS),
    )


def test_detector_learns_and_round_trips(toy_audience, tmp_path):
    assert toy_audience.can_detect
    texts = ["my manager and my colleagues", "the delivery and the app"]
    assert toy_audience.resolve(texts, "auto") == ["employee", "customer"]
    toy_audience.save(tmp_path / "aud")
    loaded = AudienceModel.load(tmp_path / "aud")
    assert np.allclose(loaded.customer_probability(texts), toy_audience.customer_probability(texts))
    # an explicit audience, for all or per text (blank = auto), wins over the detector
    assert loaded.resolve(texts, "customer") == ["customer", "customer"]
    assert loaded.resolve(texts, ["customer", None]) == ["customer", "customer"]
    with pytest.raises(AudienceError, match="row 2"):
        loaded.resolve(texts, ["customer", "staff"])


def test_too_little_data_means_no_detector():
    model = AudienceModel.fit({"pay": "employee"}, ["a b", "c d"], ["employee", "customer"])
    assert not model.can_detect
    assert model.resolve(["x"], "auto") == [None]


def test_customer_prior_moves_only_the_bias():
    texts = EMPLOYEE_TEXTS + CUSTOMER_TEXTS
    audiences = ["employee"] * len(EMPLOYEE_TEXTS) + ["customer"] * len(CUSTOMER_TEXTS)
    even = AudienceModel.fit({"pay": "employee"}, texts, audiences, customer_prior=0.5)
    tilted = AudienceModel.fit({"pay": "employee"}, texts, audiences, customer_prior=0.8)
    assert np.allclose(even.coef, tilted.coef)
    assert tilted.bias - even.bias == pytest.approx(np.log(4.0), abs=1e-6)
    odds = lambda p: p / (1 - p)  # noqa: E731
    text = ["the manager and the delivery"]
    assert odds(tilted.customer_probability(text)[0]) == pytest.approx(4 * odds(even.customer_probability(text)[0]))
    with pytest.raises(ValueError, match="customer_prior must be between 0 and 1"):
        AudienceModel.fit({"pay": "employee"}, texts, audiences, customer_prior=1.0)


def test_shipped_detector_on_ex_cx_gold_dev(gold_dev):
    """The default model's detector, as shipped: both audiences of ex-cx-gold dev mostly right."""
    from themesift.serve.predict import default_model_path

    detector = AudienceModel.load(default_model_path() / "audience")
    found = detector.resolve([r["text"] for r in gold_dev], "auto")
    gold = [r["source"].split("-")[0] for r in gold_dev]
    for audience in ("employee", "customer"):
        hits = [f == g for f, g in zip(found, gold) if g == audience]
        assert np.mean(hits) > 0.9, audience


def test_mask_removes_only_the_other_audiences_themes(toy_audience):
    themes = ("pay", "price", "shared")
    proba = np.full((3, 3, 4), 0.25)
    out = toy_audience.mask(proba, themes, ["employee", "customer", None])
    absent = [1.0, 0.0, 0.0, 0.0]
    assert out[0, 1].tolist() == absent and out[0, 0].tolist() == [0.25] * 4  # employee row: price gone
    assert out[1, 0].tolist() == absent and out[1, 1].tolist() == [0.25] * 4  # customer row: pay gone
    assert (out[:, 2] == 0.25).all() and (out[2] == 0.25).all()  # shared theme, unknown row: untouched
    assert (proba == 0.25).all()  # the input is not changed


def test_corrupt_audience_folder_is_refused(toy_audience, tmp_path):
    toy_audience.save(tmp_path / "aud")
    (tmp_path / "aud" / "vocabulary.json").write_text(json.dumps({"word": ["a"], "char_wb": []}), "utf-8")
    with pytest.raises(ValueError, match="differ in length"):
        AudienceModel.load(tmp_path / "aud")
    (tmp_path / "aud" / "config.json").write_text(json.dumps({"theme_audiences": {"pay": "staff"}}), "utf-8")
    with pytest.raises(ValueError, match="'staff'"):
        AudienceModel.load(tmp_path / "aud")


# -- a small real training run with both audiences (ex-cx-gold train: employee and customer sources) ----------


@pytest.fixture(scope="module")
def mixed_model_dir(tmp_path_factory, gold_train):
    rows = [r for r in gold_train if r["source"].startswith("customer")][:600]
    rows += [r for r in gold_train if r["source"].startswith("employee")][:900]
    frame = pd.DataFrame(
        {
            "text": [r["text"] for r in rows],
            "labels": ["; ".join(r["labels"]) for r in rows],
            "audience": [r["source"].split("-")[0] for r in rows],
        }
    )
    data = tmp_path_factory.mktemp("mixed") / "train.csv"
    frame.to_csv(data, index=False)
    out = data.parent / "model"
    assert (
        main(
            [
                "train",
                "--data",
                str(data),
                "--default-taxonomy",
                "--family",
                "tfidf",
                "--param",
                "max_iter=300",
                "--output",
                str(out),
            ]
        )
        == 0
    )
    return out


def test_training_stores_an_audience_detector(mixed_model_dir, gold_dev):
    from themesift.serve.predict import predict

    metrics = json.loads((mixed_model_dir / "metrics.json").read_text("utf-8"))
    assert metrics["audience"]["detector"] and metrics["audience"]["dev_accuracy"] > 0.8
    rows = [r for r in gold_dev if r["labels"]]
    results = predict([r["text"] for r in rows], mixed_model_dir)
    found = [r["audience"] for r in results]
    gold = [r["source"].split("-")[0] for r in rows]
    assert np.mean([f == g for f, g in zip(found, gold)]) > 0.85
    for result in results:  # auto never mixes the audiences' themes in one comment
        themes = {t["theme"] for t in result["themes"]}
        assert not (themes & CUSTOMER and themes - CUSTOMER)
        assert result["audience"] == ("customer" if themes & CUSTOMER else result["audience"])


def test_customer_audience_never_writes_employee_themes(mixed_model_dir, gold_train):
    from themesift.serve.predict import predict

    employee_texts = [r["text"] for r in gold_train if r["source"].startswith("employee") and r["labels"]][-300:]
    unmasked = predict(employee_texts, mixed_model_dir, audience="employee")
    assert sum(bool(r["labels"]) for r in unmasked) > 100  # the model does find themes in them...
    for result in predict(employee_texts, mixed_model_dir, audience="customer"):
        assert {t["theme"] for t in result["themes"]} <= CUSTOMER  # ...but never an employee theme as customer
        assert result["audience"] == "customer"


def test_classify_mixed_file_with_audience_column(mixed_model_dir, tmp_path):
    src = tmp_path / "mixed.csv"
    pd.DataFrame(
        {
            "id": [1, 2, 3, 4],
            "who": ["employee", "customer", "", "boss"],
            "comment": [
                "My manager never recognises my work and the pay is poor.",
                "My manager never recognises my work and the pay is poor.",
                "The food was cold and the waiter was rude.",
                "Great team.",
            ],
        }
    ).to_csv(src, index=False)
    out = tmp_path / "out.csv"
    assert (
        main(
            [
                "classify",
                str(src),
                "-o",
                str(out),
                "--model",
                str(mixed_model_dir),
                "--audience-column",
                "who",
                "--quiet",
            ]
        )
        == 0
    )
    got = pd.read_csv(out, keep_default_na=False)
    assert got["id"].tolist() == [1, 2, 3, 4] and got["who"].tolist() == ["employee", "customer", "", "boss"]
    assert got["audience"].tolist()[:3] == ["employee", "customer", "customer"]
    themes = [{label.split(":")[0] for label in cell.split("; ") if label} for cell in got["themes"]]
    assert themes[0] and not themes[0] & CUSTOMER
    assert themes[1] <= CUSTOMER
    assert "bad audience: 'boss' in column 'who'" in got["error"][3]


def test_classify_refuses_missing_audience_column_in_one_line(mixed_model_dir, tmp_path, capsys):
    src = tmp_path / "in.csv"
    pd.DataFrame({"comment": ["hello there"]}).to_csv(src, index=False)
    code = main(
        [
            "classify",
            str(src),
            "-o",
            str(tmp_path / "o.csv"),
            "--model",
            str(mixed_model_dir),
            "--audience-column",
            "who",
            "--quiet",
        ]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2 and "--audience-column 'who' not found" in err and "\n" not in err


def test_input_audience_column_is_kept_beside_ours(mixed_model_dir, tmp_path):
    src = tmp_path / "in.csv"
    pd.DataFrame({"comment": ["the pay is poor"], "audience": ["customer"]}).to_csv(src, index=False)
    out = tmp_path / "o.csv"
    assert (
        main(
            ["classify", str(src), "-o", str(out), "--model", str(mixed_model_dir), "--audience", "employee", "--quiet"]
        )
        == 0
    )
    got = pd.read_csv(out)
    assert got["audience"].tolist() == ["customer"] and got["themesift_audience"].tolist() == ["employee"]


def test_http_takes_the_audience(mixed_model_dir):
    from fastapi.testclient import TestClient

    from themesift.serve.http import create_app

    text = "My manager never recognises my work and the pay is poor."
    for batch_ms in (0, 5):
        with TestClient(create_app(str(mixed_model_dir), batch_ms=batch_ms)) as client:
            _wait_ready(client)
            body = client.post("/v1/classify", json={"texts": [text, text], "audience": ["employee", "customer"]})
            assert body.status_code == 200, body.text
            first, second = body.json()["results"]
            assert (first["audience"], second["audience"]) == ("employee", "customer")
            assert not {t["theme"] for t in second["themes"]} - CUSTOMER
            assert client.post("/v1/classify", json={"texts": [text], "audience": "staff"}).status_code == 422
            bad = client.post("/v1/classify", json={"texts": [text], "audience": ["employee", "customer"]})
            assert bad.status_code == 422 and bad.json()["error"]["code"] == "audience_mismatch"


def _wait_ready(client, seconds: float = 60) -> None:
    import time

    deadline = time.time() + seconds
    while client.get("/readyz").status_code != 200:
        assert time.time() < deadline, "model never became ready"
        time.sleep(0.1)


# -- an ensemble routed by audience ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def employee_model_dir(tmp_path_factory, gold_train):
    """Trained on employee comments only: theme audiences, but no detector (one audience seen)."""
    from themesift.training.train import TrainConfig, train

    rows = [r for r in gold_train if r["source"].startswith("employee")][:800]
    data = tmp_path_factory.mktemp("employee") / "train.jsonl"
    data.write_text("".join(json.dumps({"text": r["text"], "labels": r["labels"]}) + "\n" for r in rows), "utf-8")
    result = train(
        TrainConfig(data=str(data), output=str(data.parent / "model"), default_taxonomy=True, params={"max_iter": 300})
    )
    assert result.model.audience_ is not None and not result.model.audience_.can_detect
    return result.path


def test_routed_ensemble_sends_each_audience_to_its_members(mixed_model_dir, employee_model_dir, gold_dev, tmp_path):
    from themesift.models.ensemble import EnsembleClassifier
    from themesift.models.registry import load_artifact

    employee_member, customer_member = load_artifact(employee_model_dir), load_artifact(mixed_model_dir)
    seen: dict[str, list] = {"employee": [], "customer": []}
    for name, member in (("employee", employee_member), ("customer", customer_member)):
        original = member.predict_proba
        member.predict_proba = lambda texts, audience="auto", _o=original, _n=name: (
            seen[_n].append(list(texts)) or _o(texts, audience)
        )
    model = EnsembleClassifier.from_members(
        [customer_member, employee_member], routes={"employee": [0, 1], "customer": [1, 0]}
    )
    assert model.audience_ is customer_member.audience_  # the member with a detector lends its audiences
    texts = [r["text"] for r in gold_dev[:40]]
    who = ["employee", "customer"] * 20
    proba = model.predict_proba(texts, audience=who)
    assert seen["employee"] == [texts[0::2]] and seen["customer"] == [texts[1::2]]  # one encoder per comment
    mask = customer_member.audience_.mask
    expected_e = mask(employee_member.predict_proba(texts[0::2], audience=None), model.themes, who[0::2])
    expected_c = customer_member.predict_proba(texts[1::2], audience="customer")
    assert np.allclose(proba[0::2], expected_e) and np.allclose(proba[1::2], expected_c)
    # unknown audience (audience=None): every member, default weights
    both = 0.5 * employee_member.predict_proba(texts, None) + 0.5 * customer_member.predict_proba(texts, None)
    assert np.allclose(model.predict_proba(texts, audience=None), both)

    saved = model.save(tmp_path / "routed")
    assert (saved / "audience").is_dir() and not (saved / "member_0" / "audience").exists()  # one copy
    again = load_artifact(saved)
    assert again.routes == {"employee": [0, 1], "customer": [1, 0]}
    assert np.allclose(again.predict_proba(texts, audience=who), proba)


@pytest.mark.parametrize(
    "routes, message",
    [
        ({"staff": [1, 0]}, "routes are for employee, customer"),
        ({"employee": [1, 0, 1]}, "one per member"),
        ({"customer": [0, -1]}, "non-negative"),
        ({"customer": [0, 0]}, "not all zero"),
    ],
)
def test_bad_routes_are_refused(mixed_model_dir, routes, message):
    from themesift.models.ensemble import EnsembleClassifier
    from themesift.models.registry import load_artifact

    member = load_artifact(mixed_model_dir)
    with pytest.raises(ValueError, match=message):
        EnsembleClassifier.from_members([member, member], routes=routes)


def test_cli_ensemble_route_flags(mixed_model_dir, employee_model_dir, tmp_path, capsys):
    dev = tmp_path / "dev.csv"
    pd.DataFrame(
        {
            "text": ["the pay is poor", "the app is slow", "my manager is great", "great price"],
            "labels": [
                "pay_benefits:negative",
                "ease_speed:negative",
                "manager_support:positive",
                "price_value:positive",
            ],
        }
    ).to_csv(dev, index=False)
    out = tmp_path / "routed"
    assert (
        main(
            [
                "ensemble",
                "--member",
                str(employee_model_dir),
                "--member",
                str(mixed_model_dir),
                "--dev",
                str(dev),
                "--route",
                "employee=1,0",
                "--route",
                "customer=0,1",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    assert json.loads((out / "config.json").read_text("utf-8"))["params"]["routes"] == {
        "employee": [1.0, 0.0],
        "customer": [0.0, 1.0],
    }
    assert (out / "audience" / "vocabulary.json").is_file()  # the member that can detect lends its detector
    capsys.readouterr()
    assert (
        main(
            [
                "ensemble",
                "--member",
                str(employee_model_dir),
                "--member",
                str(mixed_model_dir),
                "--dev",
                str(dev),
                "--route",
                "employee=1,x",
                "-o",
                str(tmp_path / "bad"),
            ]
        )
        == 2
    )
    assert "--route expects comma-separated numbers" in capsys.readouterr().err


def test_classify_audience_customer_writes_no_employee_theme(mixed_model_dir, gold_train, tmp_path):
    texts = [r["text"] for r in gold_train if r["source"].startswith("employee") and r["labels"]][:200]
    src = tmp_path / "employees.jsonl"
    src.write_text("".join(json.dumps({"comment": t}) + "\n" for t in texts), "utf-8")
    for layout in ("default", "long"):
        out = tmp_path / f"out-{layout}.csv"
        assert (
            main(
                [
                    "classify",
                    str(src),
                    "-o",
                    str(out),
                    "--model",
                    str(mixed_model_dir),
                    "--audience",
                    "customer",
                    "--layout",
                    layout,
                    "--quiet",
                    "--no-language-check",
                ]
            )
            == 0
        )
        got = pd.read_csv(out, keep_default_na=False)
        assert set(got["audience"]) == {"customer"}
        column = "themes" if layout == "default" else "theme"
        found = {label.split(":")[0] for cell in got[column] for label in cell.split("; ") if label}
        assert found and found <= CUSTOMER
