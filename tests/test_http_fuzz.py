"""Fuzzing /v1/classify on a real uvicorn with the shipped default model: random JSON bodies,
random bytes and random texts (lone surrogates, control and bidi characters included) never
give a 500, and a valid request gets one result per text, in order, equal to in-process predict."""

from __future__ import annotations

import json

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_http import thread_server, wait_ready

from themesift.nlp.table_readers import repair_text
from themesift.serve.http import Limits, create_app
from themesift.serve.predict import load_model, predict

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
ODD_CHARS = ["\ud800", "\udfff", "\ud83d", "\x00", "\r", "\u202e", "\ufeff", "\u00a0", "_x000D_", "=", "é"]
words = st.sampled_from(["pay is low", "my manager listens", "checkout was slow", ". ", "great team!", "  "])
pieces = st.one_of(st.characters(), st.sampled_from(ODD_CHARS), words)
texts = st.lists(pieces, max_size=12).map("".join)
items = st.one_of(texts, texts, texts, st.none(), st.integers(), st.floats(), st.booleans(), st.just([]))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def fuzz_server():
    with thread_server(create_app(load_model(), Limits(max_texts=16), api_key="")) as base:
        wait_ready(base)
        yield base


def post(base: str, body: bytes) -> httpx.Response:
    return httpx.post(f"{base}/v1/classify", content=body, headers={"content-type": "application/json"}, timeout=120)


@FUZZ
@given(
    body=st.one_of(
        json_values,
        st.fixed_dictionaries(
            {"texts": st.lists(json_values, max_size=4)},
            optional={"evidence": json_values, "audience": json_values, "extra": json_values},
        ),
    )
)
def test_random_json_bodies_never_500(fuzz_server, body):
    response = post(fuzz_server, json.dumps(body).encode())  # ascii escapes: lone surrogates travel as \ud800
    assert response.status_code in (200, 400, 413, 422), response.text
    payload = response.json()
    if response.status_code == 200:
        assert len(payload["results"]) == len(body["texts"])
    else:
        assert payload["error"]["code"] and payload["error"]["message"]


@FUZZ
@given(raw=st.binary(max_size=200))
def test_random_bytes_never_500(fuzz_server, raw):
    response = post(fuzz_server, raw)
    assert response.status_code in (200, 400, 422), response.text
    assert "error" in response.json() or "results" in response.json()


@FUZZ
@given(
    batch=st.lists(items, max_size=6),
    evidence=st.booleans(),
    audience=st.sampled_from(["auto", "employee", "customer"]),
)
def test_random_texts_keep_every_item_in_order(fuzz_server, batch, evidence, audience):
    response = post(fuzz_server, json.dumps({"texts": batch, "evidence": evidence, "audience": audience}).encode())
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    expected = predict(batch, load_model(), evidence=evidence, audience=audience)  # predict repairs surrogates
    assert results == expected
    clean = [repair_text(t)[0] if isinstance(t, str) else t for t in batch]  # as predict read them
    for text, result in zip(clean, results):  # evidence offsets point into the text as sent
        for theme in result["themes"]:
            for ev in theme.get("evidence") or []:
                assert text[ev["start"] : ev["end"]].strip() == ev["text"].strip()
