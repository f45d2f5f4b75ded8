"""Loading models: independent objects, a verified ONNX cache in a private folder, no Hub contact,
and a cold start that builds no torch network once the export is cached (issues #19 and #20)."""

from __future__ import annotations

import http.server
import json
import logging
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np
import pytest

import themesift
from themesift.models import onnx_backend
from themesift.models.registry import load_artifact
from themesift.serve.predict import default_model_path, load_model, predict

REPO = Path(__file__).resolve().parents[1]
POISON = REPO.parent / "shared" / "probe" / "scripts" / "make_poison_onnx.py"
PAY = "Pay is well below the market rate and raises are rare."


def _finetune_member(model):
    return next(m for m in model.members_ if m.family == "finetune")


# -- issue #19: load_model() gives an object of one's own -----------------------------------------
def test_load_model_returns_a_fresh_object_that_cannot_change_predict(default_model):
    before = predict([PAY])
    mine = load_model()
    assert mine is not load_model()
    mine.set_thresholds(np.full(len(mine.themes), 1.0))  # nothing passes on this object...
    assert predict([PAY], mine)[0]["labels"] == []
    assert predict([PAY]) == before  # ...but predict() without a model is not affected
    assert themesift.predict([PAY]) == before
    assert "pay_benefits:negative" in before[0]["labels"]


# -- issue #20 row 7: the cache verifies what it runs, in a folder only this user can write ---------
def test_a_file_without_a_matching_digest_is_never_used(tmp_path, caplog):
    good = tmp_path / "k.onnx"
    onnx_backend.publish(good, lambda tmp: tmp.write_bytes(b"exported graph"))
    assert onnx_backend.read_verified(good) == b"exported graph"
    assert (tmp_path / "k.onnx.sha256").read_text().split() == [
        __import__("hashlib").sha256(b"exported graph").hexdigest(),
        "k.onnx",
    ]
    good.write_bytes(b"planted graph")  # same name, other bytes: the digest no longer matches
    with caplog.at_level(logging.WARNING):
        assert onnx_backend.read_verified(good) is None
    assert "does not match its sha256" in caplog.text
    planted = tmp_path / "other.onnx"
    planted.write_bytes(b"planted, no digest")
    assert onnx_backend.read_verified(planted) is None
    assert onnx_backend.read_verified(tmp_path / "absent.onnx") is None
    link = tmp_path / "link.onnx"
    link.symlink_to(good)
    shutil.copy(tmp_path / "k.onnx.sha256", tmp_path / "link.onnx.sha256")
    assert onnx_backend.read_verified(link) is None  # links are not followed
    with pytest.raises(ValueError, match="digest"):
        onnx_backend.OnnxRunner(planted)


def test_a_file_other_users_can_write_is_never_used(tmp_path):
    path = tmp_path / "k.onnx"
    onnx_backend.publish(path, lambda tmp: tmp.write_bytes(b"graph"))
    assert stat.S_IMODE(path.stat().st_mode) & 0o022 == 0
    os.chmod(path, 0o666)
    assert onnx_backend.read_verified(path) is None


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """tempfile.gettempdir() pointed at a folder of the test's own."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


def _unusable_cache(tmp_path: Path) -> Path:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    return blocker / "cache"  # cannot be created: its parent is a file


def test_fallback_folder_is_created_private(tmp_path, private_tmp):
    got = onnx_backend.usable_cache_dir(_unusable_cache(tmp_path))
    assert got == private_tmp / f"themesift-onnx-{os.getuid()}"
    assert stat.S_IMODE(got.stat().st_mode) == 0o700


def test_a_world_writable_fallback_folder_is_made_private_before_use(tmp_path, private_tmp, caplog):
    squatted = private_tmp / f"themesift-onnx-{os.getuid()}"
    squatted.mkdir()
    os.chmod(squatted, 0o777)
    with caplog.at_level(logging.WARNING):
        got = onnx_backend.usable_cache_dir(_unusable_cache(tmp_path))
    assert got == squatted and stat.S_IMODE(got.stat().st_mode) == 0o700
    assert "making it private" in caplog.text


def test_a_fallback_link_is_refused(tmp_path, private_tmp, caplog):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    (private_tmp / f"themesift-onnx-{os.getuid()}").symlink_to(elsewhere)
    with caplog.at_level(logging.WARNING):
        got = onnx_backend.usable_cache_dir(_unusable_cache(tmp_path))
    assert got.parent == private_tmp and not got.is_symlink() and got.name != f"themesift-onnx-{os.getuid()}"
    assert stat.S_IMODE(got.stat().st_mode) == 0o700
    assert "not this user's own folder" in caplog.text


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="chown to another user needs root")
def test_a_fallback_folder_owned_by_another_user_is_refused(tmp_path, private_tmp):
    squatted = private_tmp / f"themesift-onnx-{os.getuid()}"
    squatted.mkdir(mode=0o700)
    os.chown(squatted, 65534, 65534)  # nobody
    got = onnx_backend.usable_cache_dir(_unusable_cache(tmp_path))
    assert got != squatted and got.stat().st_uid == os.getuid()


def test_a_cache_dir_others_can_write_is_made_private(tmp_path, private_tmp):
    shared = tmp_path / "shared-cache"
    shared.mkdir()
    os.chmod(shared, 0o777)
    assert onnx_backend.usable_cache_dir(shared) == shared
    assert stat.S_IMODE(shared.stat().st_mode) & 0o022 == 0


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="chown to another user needs root")
def test_a_cache_dir_owned_by_another_user_is_not_used(tmp_path, private_tmp):
    theirs = tmp_path / "their-cache"
    theirs.mkdir(mode=0o755)
    os.chown(theirs, 65534, 65534)
    got = onnx_backend.usable_cache_dir(theirs)
    assert got != theirs and got.stat().st_uid == os.getuid()


@pytest.mark.slow
def test_a_planted_export_under_the_default_models_key_is_replaced(default_model, tmp_path, monkeypatch, caplog):
    """The probe's M77: a graph that says pay_benefits:positive for everything, saved under the cache
    key of the shipped model's fine-tuned member, with and without a digest of its own."""
    pytest.importorskip("onnx")
    if not POISON.is_file():
        pytest.skip(f"probe script not found: {POISON}")
    predict([PAY], default_model)  # the real export is in the user's cache now
    key = _finetune_member(default_model).source_key_
    real = onnx_backend.cached_export(key, "onnx")
    assert real is not None
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    onnx_backend.publish(cache / f"{key}.onnx", lambda tmp: tmp.write_bytes(real[1]))  # fp32: no torch export
    int8 = cache / f"{key}.int8.onnx"
    subprocess.run([sys.executable, str(POISON), str(int8)], check=True)
    monkeypatch.setenv(onnx_backend.CACHE_ENV, str(cache))
    monkeypatch.delenv(onnx_backend.BACKEND_ENV, raising=False)
    with caplog.at_level(logging.WARNING):
        [result] = predict([PAY], load_model())
    assert "cannot be verified" in caplog.text
    assert result["labels"] == ["pay_benefits:negative"]
    assert onnx_backend.read_verified(int8) is not None  # re-quantized from the verified fp32 file
    # planted by another user, digest included: a file that is not this user's own is never read
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        subprocess.run([sys.executable, str(POISON), str(int8)], check=True)
        (cache / f"{key}.int8.onnx.sha256").write_text(
            __import__("hashlib").sha256(int8.read_bytes()).hexdigest() + "\n"
        )
        os.chown(int8, 65534, 65534)
        assert onnx_backend.read_verified(int8) is None


# -- issue #20 row 14: a hub id never makes the loader contact the Hub ------------------------------
class _FakeHub(http.server.BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_GET(self):  # noqa: N802
        self.seen.append(f"GET {self.path}")
        self.send_response(404)
        self.end_headers()

    do_HEAD = do_GET  # noqa: N815

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_hub():
    _FakeHub.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FakeHub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _FakeHub.seen
    server.shutdown()


def _hub_model(tmp_path: Path) -> Path:
    folder = tmp_path / "hubid-model"
    shutil.copytree(default_model_path() / "member_0", folder)
    config = json.loads((folder / "config.json").read_text("utf-8"))
    config["params"]["base_model"] = "attacker-org/evil-model"
    (folder / "config.json").write_text(json.dumps(config), "utf-8")
    return folder


def test_a_hub_base_model_is_not_downloaded_and_the_error_says_how_to_allow_it(tmp_path, fake_hub):
    url, seen = fake_hub
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    env.update(HF_ENDPOINT=url, HF_HUB_DISABLE_TELEMETRY="1", HF_HOME=str(tmp_path / "hf"))
    env.pop("THEMESIFT_ALLOW_DOWNLOADS", None)
    cli = Path(sys.executable).with_name("themesift")
    proc = subprocess.run(
        [str(cli), "predict", "--model", str(_hub_model(tmp_path)), "Pay is bad"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "attacker-org/evil-model" in lines[0] and "THEMESIFT_ALLOW_DOWNLOADS=1" in lines[0]
    assert "config.json" in lines[0]
    assert seen == []  # not one request reached the (fake) Hub


def test_hub_ids_resolve_from_the_local_cache_only(tmp_path, monkeypatch):
    from themesift.models import encoder

    monkeypatch.delenv(encoder.ALLOW_DOWNLOADS_ENV, raising=False)
    with pytest.raises(encoder.BaseModelNotFound, match="THEMESIFT_ALLOW_DOWNLOADS=1"):
        encoder.resolve_base_model("attacker-org/evil-model")
    monkeypatch.setenv(encoder.ALLOW_DOWNLOADS_ENV, "1")
    assert encoder.resolve_base_model("attacker-org/evil-model") == "attacker-org/evil-model"
    assert Path(encoder.resolve_base_model("all-MiniLM-L6-v2")).is_dir()


# -- issue #19 item 2: a warm cache starts without torch ---------------------------------------------
def test_text_tokenizer_gives_the_transformers_ids(gold_dev):
    from transformers import AutoTokenizer

    from themesift.models.encoder import TextTokenizer, resolve_base_model

    folder = resolve_base_model("all-MiniLM-L6-v2")
    ours, theirs = TextTokenizer(folder), AutoTokenizer.from_pretrained(folder)
    texts = [r["text"] for r in gold_dev[:300]] + ["Café  naïve — “quotes” 😀", " ".join(["word"] * 400), "x"]
    for kwargs in ({"truncation": True, "max_length": 256}, {"truncation": True, "max_length": 32}, {}):
        assert ours(texts, **kwargs)["input_ids"] == theirs(texts, **kwargs)["input_ids"]
    assert ours.pad_token_id == theirs.pad_token_id
    assert ours.model_max_length == theirs.model_max_length
    assert ours("one text")["input_ids"] == theirs("one text")["input_ids"]


def test_warm_cache_predict_imports_no_torch(default_model):
    predict(["warm the cache"], default_model)
    code = (
        "import sys, json, themesift; r = themesift.predict(['Pay is low']); "
        "print(json.dumps([r[0]['labels'], [m for m in ('torch', 'transformers', 'peft') if m in sys.modules]]))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert proc.returncode == 0, proc.stderr
    labels, heavy = json.loads(proc.stdout.strip().splitlines()[-1])
    assert heavy == []
    assert labels == [label for r in predict(["Pay is low"]) for label in r["labels"]]


@pytest.mark.slow
def test_warm_start_gives_the_old_paths_probabilities(default_model, gold_dev, tmp_path, monkeypatch):
    """On 300 dev comments: the network-free path equals the old one (torch network built, transformers'
    tokenizer, exported by the weights' key, as before) within 1e-5 in probability."""
    monkeypatch.delenv(onnx_backend.BACKEND_ENV, raising=False)
    texts = [r["text"] for r in gold_dev[:300]]
    warm = load_model()
    member = _finetune_member(warm)
    assert "network_" not in member.__dict__ and "weights_bytes_" in member.__dict__  # no torch network built
    got = warm.predict_proba(texts)
    old = load_model()
    old_member = _finetune_member(old)
    old_member.network_  # noqa: B018 - built as the old code always did (sets transformers' tokenizer too)
    assert type(old_member.tokenizer_).__name__ != "TextTokenizer"
    old_member.source_key_, old_member._onnx_ = None, None  # the old cache key: a digest of the torch weights
    expected = old.predict_proba(texts)
    assert not np.shares_memory(got, expected)
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=0)
    assert warm.predict(texts) == old.predict(texts)


# -- issue #19 item 4: removed knobs ----------------------------------------------------------------
def test_removed_knobs_load_at_their_neutral_value_and_are_refused_otherwise(tmp_path):
    from themesift.models.artifact import ModelFileError
    from themesift.models.finetune import FinetuneClassifier

    assert not {"theme_pairs", "ema"} & set(FinetuneClassifier._param_names())
    folder = tmp_path / "member"
    shutil.copytree(default_model_path() / "member_0", folder)
    config = json.loads((folder / "config.json").read_text("utf-8"))
    assert config["params"]["theme_pairs"] is False and config["params"]["ema"] == 0.0  # as shipped
    assert "theme_pairs" not in load_artifact(folder).get_params()
    for key, value in (("theme_pairs", True), ("ema", 0.99)):
        (folder / "config.json").write_text(json.dumps({**config, "params": {**config["params"], key: value}}))
        with pytest.raises(ModelFileError, match=f"'{key}' was removed") as caught:
            load_artifact(folder)
        assert "\n" not in str(caught.value) and "config.json" in str(caught.value)
