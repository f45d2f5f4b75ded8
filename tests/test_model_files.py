"""Model folders are untrusted input: every hostile folder of the probe (../shared/probe, M64-M76)
is refused with one line naming the file (and the key), never a traceback, a hang or silent NaN.

Each folder is a real artifact (a small tfidf model trained here, or the shipped default model)
with one file broken, as mk_cases.py breaks them."""

import json
import math
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from themesift.cli import main
from themesift.models import artifact
from themesift.models.artifact import ModelFileError
from themesift.models.params import PARAMS, ParamError, check_params, describe
from themesift.models.registry import FAMILIES, family_class, load_artifact, make_model

DEFAULT = Path(__file__).resolve().parents[1] / "themesift" / "default_model"
TEXTS = [
    "The pay is terrible.",
    "Great pay and bonuses!",
    "My manager never listens.",
    "My manager is supportive.",
    "Nothing to add.",
    "Salary is fine, manager is awful.",
] * 5
LABELS = [
    ["pay:negative"],
    ["pay:positive"],
    ["manager:negative"],
    ["manager:positive"],
    [],
    ["pay:positive", "manager:negative"],
] * 5


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    return make_model("tfidf", min_df=1).fit(TEXTS, LABELS).save(tmp_path_factory.mktemp("m") / "tfidf")


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, symlinks=True)
    return dst


def _edit(path: Path, change) -> None:
    data = json.loads(path.read_text("utf-8"))
    change(data)
    path.write_text(json.dumps(data), "utf-8")


def _refused(folder: Path, *needles: str) -> str:
    with pytest.raises(ModelFileError) as info:
        load_artifact(folder)
    message = str(info.value)
    assert "\n" not in message, message
    for needle in needles:
        assert needle in message, message
    return message


def _link(path: Path, target: str) -> None:
    path.unlink()
    os.symlink(target, path)


def _truncate(path: Path, keep) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: keep(len(data))])


def _params(change):
    return lambda d: _edit(d / "config.json", lambda c: change(c["params"]))


CASES = {  # M68, M66, row 13, row 17: name → (break the folder, file the message names, key/words it names)
    "weights_truncated": (
        lambda d: _truncate(d / "weights.safetensors", lambda n: n // 2),
        "weights.safetensors",
        "not a valid safetensors",
    ),
    "weights_header_only": (
        lambda d: _truncate(d / "weights.safetensors", lambda n: 100),
        "weights.safetensors",
        "not a valid safetensors",
    ),
    "weights_empty": (
        lambda d: _truncate(d / "weights.safetensors", lambda n: 0),
        "weights.safetensors",
        "not a valid safetensors",
    ),
    "weights_passwd": (
        lambda d: _link(d / "weights.safetensors", "/etc/passwd"),
        "weights.safetensors",
        "outside the model folder",
    ),
    "weights_devzero": (lambda d: _link(d / "weights.safetensors", "/dev/zero"), "weights.safetensors", "outside"),
    "weights_dir": (
        lambda d: ((d / "weights.safetensors").unlink(), (d / "weights.safetensors").mkdir()),
        "weights.safetensors",
        "not a regular file",
    ),
    "weights_missing": (lambda d: (d / "weights.safetensors").unlink(), "weights.safetensors", "no such file"),
    "weights_nan": (lambda d: _nan_weights(d / "weights.safetensors"), "weights.safetensors", "NaN"),
    "weights_wrong_shape": (
        lambda d: _edit(d / "vocabulary.json", lambda v: v.append("zzz")),
        "weights.safetensors",
        "'idf'",
    ),
    "labels_devzero": (lambda d: _link(d / "labels.json", "/dev/zero"), "labels.json", "outside the model folder"),
    "labels_passwd": (lambda d: _link(d / "labels.json", "/etc/passwd"), "labels.json", "outside"),
    "labels_fifo": (
        lambda d: ((d / "labels.json").unlink(), os.mkfifo(d / "labels.json")),
        "labels.json",
        "not a regular file",
    ),
    "labels_huge_file": (lambda d: os.truncate(d / "labels.json", artifact.MAX_JSON_BYTES + 1), "labels.json", "limit"),
    "labels_missing": (lambda d: (d / "labels.json").unlink(), "labels.json", "no such file"),
    "labels_not_json": (lambda d: (d / "labels.json").write_text("{themes", "utf-8"), "labels.json", "not valid JSON"),
    "labels_200k_themes": (
        lambda d: _edit(d / "labels.json", lambda lj: lj.update(themes=[f"t{i}" for i in range(200_000)])),
        "labels.json",
        "'themes'",
    ),
    "labels_dup": (
        lambda d: _edit(d / "labels.json", lambda lj: lj.update(themes=[lj["themes"][0]] * 2)),
        "labels.json",
        "twice",
    ),
    "vocab_passwd": (lambda d: _link(d / "vocabulary.json", "/etc/passwd"), "vocabulary.json", "outside"),
    "config_not_json": (
        lambda d: (d / "config.json").write_text("{not json", "utf-8"),
        "config.json",
        "not valid JSON",
    ),
    "config_list": (lambda d: (d / "config.json").write_text("[1, 2]", "utf-8"), "config.json", "JSON object"),
    "config_fifo": (
        lambda d: ((d / "config.json").unlink(), os.mkfifo(d / "config.json")),
        "config.json",
        "not a regular file",
    ),
    "family_unknown": (
        lambda d: _edit(d / "config.json", lambda c: c.update(family="xgboost")),
        "config.json",
        "'xgboost'",
    ),
    "family_missing": (lambda d: _edit(d / "config.json", lambda c: c.pop("family")), "config.json", "'family'"),
    "family_mismatch": (
        lambda d: _edit(d / "config.json", lambda c: c.update(family="finetune")),
        "config.json",
        "'ngram_max'",
    ),
    "params_unknown": (_params(lambda p: p.update(evil="x")), "config.json", "'evil'"),
    "params_null": (
        lambda d: _edit(d / "config.json", lambda c: c.update(params=None)),
        "config.json",
        "parameters must be an object",
    ),
    "format_999": (
        lambda d: _edit(d / "config.json", lambda c: c.update(format_version=999)),
        "config.json",
        "format version 999",
    ),
    "ngram_max_1e9": (_params(lambda p: p.update(ngram_max=10**9)), "config.json", "'ngram_max'", "from 1 to 6"),
    "ngram_max_1e308": (_params(lambda p: p.update(ngram_max=1e308)), "config.json", "'ngram_max'"),
    "C_nan": (_params(lambda p: p.update(C=math.nan)), "config.json", "'C'"),
    "thresholds_negative": (
        lambda d: _edit(d / "thresholds.json", lambda t: t.update({k: -1 for k in t})),
        "thresholds.json",
        "above 0 and at most 1",
    ),
    "thresholds_over_one": (
        lambda d: _edit(d / "thresholds.json", lambda t: t.update(pay=1.5)),
        "thresholds.json",
        "'pay'",
    ),
    "thresholds_nan": (
        lambda d: (d / "thresholds.json").write_text('{"pay": NaN}', "utf-8"),
        "thresholds.json",
        "'pay'",
    ),
    "thresholds_text": (
        lambda d: (d / "thresholds.json").write_text('{"pay": "high"}', "utf-8"),
        "thresholds.json",
        "'high'",
    ),
    "thresholds_unknown_theme": (
        lambda d: _edit(d / "thresholds.json", lambda t: t.update(bogus=0.5)),
        "thresholds.json",
        "bogus",
    ),
}


def _nan_weights(path: Path) -> None:
    from safetensors.numpy import load_file, save_file

    tensors = load_file(str(path))
    tensors["coef"][0, 0] = np.nan
    save_file(tensors, str(path))


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_broken_tfidf_folder_is_one_line_naming_the_file(small, tmp_path, case):
    breaks, file, *words = CASES[case]
    folder = _copy(small, tmp_path / case)
    breaks(folder)
    _refused(folder, str(folder / file), *words)


def test_the_cli_prints_a_broken_folder_as_one_line(small, tmp_path, capsys):
    folder = _copy(small, tmp_path / "bad")
    _link(folder / "labels.json", "/dev/zero")
    assert main(["predict", "--model", str(folder), "The pay is terrible."]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "labels.json" in err and "Traceback" not in err, err


def test_a_link_inside_the_folder_and_an_intact_copy_still_load(small, tmp_path):
    folder = _copy(small, tmp_path / "ok")
    (folder / "labels.json").rename(folder / "labels-v1.json")
    os.symlink("labels-v1.json", folder / "labels.json")
    model = load_artifact(folder)
    assert model.predict(["The pay is terrible."]) == load_artifact(small).predict(["The pay is terrible."])


def _tfidf_ensemble(small: Path, folder: Path) -> Path:
    member = load_artifact(small)
    from themesift.models.ensemble import EnsembleClassifier

    return EnsembleClassifier.from_members([member, member]).save(folder)


@pytest.mark.parametrize("target", [".", "..", "self"])
def test_an_ensemble_member_linked_back_is_refused_not_recursed(small, tmp_path, target):
    folder = _tfidf_ensemble(small, tmp_path / "ens")
    shutil.rmtree(folder / "member_1")
    os.symlink(str(folder / "member_1") if target == "self" else target, folder / "member_1")
    _refused(folder, str(folder / "member_1"), "cannot be followed" if target == "self" else "loop")


def test_two_ensembles_linking_to_each_other_are_refused(small, tmp_path):
    a, b = _tfidf_ensemble(small, tmp_path / "a"), _tfidf_ensemble(small, tmp_path / "b")
    shutil.rmtree(a / "member_1")
    os.symlink(b, a / "member_1")
    _edit(a / "config.json", lambda c: c["params"]["members"].__setitem__(1, {"family": "ensemble"}))
    shutil.rmtree(b / "member_1")
    os.symlink(a, b / "member_1")
    _edit(b / "config.json", lambda c: c["params"]["members"].__setitem__(1, {"family": "ensemble"}))
    _refused(a, "loop")


@pytest.mark.parametrize(
    "weights, words",
    [
        ([1e308, 1e308], "'weights'"),
        ([math.nan, 1.0], "'weights'"),
        ([math.inf, 1.0], "'weights'"),
        ([-1, 2], "'weights'"),
        ([0, 0], "not all 0"),
        ([1.0], "one per member"),
    ],
)
def test_ensemble_weights_out_of_range_are_refused(small, tmp_path, weights, words):
    folder = _tfidf_ensemble(small, tmp_path / "ens")
    (folder / "config.json").write_text(
        (folder / "config.json").read_text("utf-8").replace('"weights": null', f'"weights": {json.dumps(weights)}'),
        "utf-8",
    )
    _refused(folder, str(folder / "config.json"), words)


def test_ensemble_with_a_million_members_is_refused_at_once(small, tmp_path):
    folder = _tfidf_ensemble(small, tmp_path / "ens")
    _params(lambda p: p.update(members=[{"family": "tfidf"}] * 10**6))(folder)
    _refused(folder, "'members'", "1 to 32")


@pytest.fixture(scope="module")
def default_copy(tmp_path_factory) -> Path:
    """The shipped model, copied so that its members can be broken one at a time."""
    return _copy(DEFAULT, tmp_path_factory.mktemp("default") / "model")


@pytest.mark.parametrize(
    "key, value",
    [
        ("lora_alpha", 1e308),
        ("lora_r", -1),
        ("infer_batch_size", 0),
        ("max_length", 10**9),
        ("theme_pairs", True),
        ("pooling", "max"),
    ],
)
def test_default_models_finetune_member_with_hostile_params_is_refused(default_copy, tmp_path, key, value):
    folder = _copy(default_copy / "member_0", tmp_path / "ft")
    _params(lambda p: p.update({key: value}))(folder)
    _refused(folder, str(folder / "config.json"), repr(key))


@pytest.mark.parametrize(
    "key, value, words",
    [
        ("max_length", 1024, "limit of 512 tokens"),
        ("lora_r", 0, "could not be loaded"),
        ("base_model", "/etc", "could not be loaded"),
    ],
)
def test_default_models_finetune_member_params_that_do_not_fit_its_weights(default_copy, tmp_path, key, value, words):
    """In range, but not for these weights or this base model (M71): refused at load, not mid-predict."""
    folder = _copy(default_copy / "member_0", tmp_path / "ft")
    _params(lambda p: p.update({key: value}))(folder)
    _refused(folder, str(folder), words)


def test_default_model_ensemble_weights_1e308_are_refused(default_copy, tmp_path):
    folder = tmp_path / "ens"
    folder.mkdir()
    for item in default_copy.iterdir():  # the 20 MB of members linked, not copied
        (folder / item.name).symlink_to(item) if item.is_dir() else shutil.copy(item, folder)
    _params(lambda p: p.update(weights=[1e308, 1e308]))(folder)
    _refused(folder, "config.json", "'weights'")


def test_default_model_loads_and_predicts_as_its_own_resaved_copy(default_model, tmp_path):
    """The checks change nothing for the shipped model: its files pass them, its parameters and
    thresholds are those of its files, and a re-saved copy (which must pass them again) predicts alike."""
    config = json.loads((DEFAULT / "config.json").read_text("utf-8"))
    assert default_model.weights == config["params"]["weights"]
    thresholds = json.loads((DEFAULT / "thresholds.json").read_text("utf-8"))
    assert dict(zip(default_model.themes, default_model.thresholds_.tolist())) == thresholds
    texts = [
        line.strip()
        for line in (Path(__file__).resolve().parents[1] / "examples" / "comments.csv")
        .read_text("utf-8")
        .splitlines()[1:]
        if line.strip()
    ]
    default_model.save(tmp_path / "again")
    again = load_artifact(tmp_path / "again")
    np.testing.assert_array_equal(again.predict_proba(texts), default_model.predict_proba(texts))
    assert again.predict(texts) == default_model.predict(texts)


# -- the parameter tables (issue #19 item 4) ---------------------------------------------------


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_each_family_table_matches_its_constructor(family):
    """One row per constructor argument with the constructor's default (retired rows: read only)."""
    import inspect

    sig = inspect.signature(family_class(family).__init__)
    args = {k: p.default for k, p in sig.parameters.items() if k != "self"}
    rows = PARAMS[family]
    assert set(args) - {k for k, r in rows.items() if r.retired} == {k for k, r in rows.items() if not r.retired}
    for key, default in args.items():
        expected = rows[key].default
        assert (list(map(dict, default)) == list(expected)) if key == "members" else default == expected, key
        assert rows[key].doc
        check_params(family, {key: default})  # the default is within its own range


def test_the_tables_choices_are_those_of_the_runtimes():
    from themesift.models import finetune_network, onnx_backend
    from themesift.models.params import BACKENDS, POOLINGS

    assert (None, *onnx_backend.BACKENDS) == BACKENDS and POOLINGS == finetune_network.POOLINGS


@pytest.mark.parametrize(
    "family, key, value",
    [
        ("tfidf", "ngram_max", 10**9),
        ("tfidf", "ngram_max", 2.5),
        ("tfidf", "min_df", True),
        ("tfidf", "C", -1),
        ("finetune", "lora_alpha", 1e308),
        ("finetune", "epochs", 0),
        ("finetune", "lr", math.inf),
        ("finetune", "backend", "cuda"),
        ("embed", "batch_size", "64"),
        ("ensemble", "weights", [1e308, 1e308]),
        ("ensemble", "routes", {"boss": [1, 1]}),
    ],
)
def test_make_model_refuses_out_of_range_values_naming_key_and_range(family, key, value):
    with pytest.raises(ParamError) as info:
        make_model(family, **{key: value})
    message = str(info.value)
    assert repr(key) in message and describe(PARAMS[family][key]) in message and "\n" not in message


def test_set_params_and_fit_check_values_too():
    model = make_model("tfidf")
    with pytest.raises(ParamError, match="'ngram_max'"):
        model.set_params(ngram_max=0)
    assert model.ngram_max == 2  # unchanged
    model.ngram_max = 10**9  # a constructor and an attribute only store: fit checks before any work
    with pytest.raises(ParamError, match="'ngram_max'"):
        model.fit(TEXTS, LABELS)
    with pytest.raises(ValueError, match="above 0 and at most 1"):
        make_model("tfidf", min_df=1).fit(TEXTS, LABELS).set_thresholds({"pay": -1})


def test_train_param_errors_are_one_line_naming_key_and_range(tmp_path, capsys):
    data = tmp_path / "train.jsonl"
    data.write_text("".join(json.dumps({"text": t, "labels": lab}) + "\n" for t, lab in zip(TEXTS, LABELS)), "utf-8")
    code = main(
        ["train", "--data", str(data), "--family", "tfidf", "--output", str(tmp_path / "m"), "--param", "ngram_max=1e9"]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.count("\n") == 0, err
    assert "'ngram_max'" in err and "from 1 to 6" in err, err
    assert not (tmp_path / "m").exists()


def test_a_broken_audience_folder_names_its_file(default_copy, tmp_path):
    folder = tmp_path / "ens"
    folder.mkdir()
    for item in default_copy.iterdir():
        if item.name == "audience":
            _copy(item, folder / "audience")
        elif item.is_dir():
            (folder / item.name).symlink_to(item)
        else:
            shutil.copy(item, folder)
    _link(folder / "audience" / "vocabulary.json", "/dev/zero")
    _refused(folder, str(folder / "audience" / "vocabulary.json"), "outside")


@pytest.mark.parametrize(
    "content, words",
    [(None, "not a regular file"), ("themes: [unclosed", "not valid YAML"), ("themes: 3", "non-empty 'themes' list")],
)
def test_a_taxonomy_file_that_is_a_device_or_not_yaml_is_one_line(tmp_path, content, words):
    from themesift.models.taxonomy import load_taxonomy

    path = tmp_path / "themes.yaml"
    if content is None:
        os.symlink("/dev/zero", path)  # a user's own file may live anywhere, but must be a file
    else:
        path.write_text(content, "utf-8")
    with pytest.raises(ModelFileError) as info:
        load_taxonomy(path)
    assert str(path) in str(info.value) and words in str(info.value) and "\n" not in str(info.value)


def test_ensemble_command_refuses_weights_1e308_in_one_line(small, tmp_path, capsys):
    dev = tmp_path / "dev.jsonl"
    dev.write_text("".join(json.dumps({"text": t, "labels": lab}) + "\n" for t, lab in zip(TEXTS, LABELS)), "utf-8")
    code = main(
        [
            "ensemble",
            "--member",
            str(small),
            "--member",
            str(small),
            "--dev",
            str(dev),
            "--weights",
            "1e308,1e308",
            "--output",
            str(tmp_path / "ens"),
        ]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.count("\n") == 0 and "'weights'" in err and "1e+06" in err, err
    assert not (tmp_path / "ens").exists()


def test_int8_tfidf_coefficients_load_and_a_bad_scale_is_refused(small, tmp_path):
    """The shipped TF-IDF member stores int8 coefficients (benchmarks/quantize_tfidf.py)."""
    import sys

    from safetensors.numpy import load_file, save_file

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from quantize_tfidf import quantized

    folder = _copy(small, tmp_path / "int8")
    weights = folder / "weights.safetensors"
    save_file(quantized(load_file(str(weights))), str(weights))
    loaded, exact = load_artifact(folder), load_artifact(small)
    np.testing.assert_allclose(loaded.predict_proba(TEXTS), exact.predict_proba(TEXTS), atol=0.02)
    tensors = load_file(str(weights))
    tensors["coef_scale"] = tensors["coef_scale"][:-1]
    save_file(tensors, str(weights))
    _refused(folder, str(weights), "coef_scale")
