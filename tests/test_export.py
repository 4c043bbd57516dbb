"""Export: the alias rule, the request contract, registering versions in a throwaway store, and the
exported folder loading in a fresh Python elsewhere with the same predictions."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import mlflow
import numpy as np
import pytest

from helpers import EXAMPLES, REPO_ROOT, SEED_ARTICLE
from pipeline.config import ModelConfig, load_params
from pipeline.errors import PipelineError
from pipeline.export import (
    CANDIDATE,
    CHAMPION,
    Evaluation,
    choose_alias,
    register,
)
from pipeline.models import build_model, load_model
from pipeline.serving.contract import MAX_BATCH_ROWS, VoteSource, parse_requests
from pipeline.serving.server import Refusal, check_json_body


def test_alias_moves_only_for_a_better_score_on_the_same_evaluation():
    same = dict(protocol="cross_validation", data="abc")
    assert choose_alias(Evaluation(0.5, **same), None, None).alias == CHAMPION
    assert choose_alias(Evaluation(0.6, **same), "1", Evaluation(0.5, **same)).alias == CHAMPION
    tie = choose_alias(Evaluation(0.5, **same), "1", Evaluation(0.5, **same))
    assert tie.alias == CANDIDATE and "does not beat champion v1's 0.5000" in tie.reason
    other = choose_alias(Evaluation(0.9, "holdout", "xyz"), "3", Evaluation(0.5, **same))
    assert other.alias == CANDIDATE and "not comparable with champion v3" in other.reason
    assert choose_alias(Evaluation(0.1, **same), "2", None).alias == CHAMPION
    unevaluated = choose_alias(Evaluation(None, "none", "abc"), None, None)
    assert unevaluated.alias == CANDIDATE and "no gold labels" in unevaluated.reason


@pytest.mark.parametrize("rows, message", [
    ([{"speaker": "x"}], "row 0: text is required"),
    ([{"text": "fine"}, {"text": 5}], "row 1: text input should be a valid string"),
    ([{"text": "x", "mood": "happy"}], "row 0: mood is not a known field"),
    ([{"text": "   "}], "row 0: text is empty"),
    ([{"text": "x" * 20_001}], "row 0: text is longer than 20000 characters"),
    (["just a string"], "row 0: expected an object"),
    ([{"text": "x"}] * (MAX_BATCH_ROWS + 1), f"batch larger than {MAX_BATCH_ROWS} rows"),
])
def test_bad_requests_name_the_row_and_field(rows, message):
    with pytest.raises(PipelineError, match=message):
        parse_requests(rows)


def test_table_cells_that_are_nan_count_as_absent():
    [request] = parse_requests([{"text": "a quote", "speaker": float("nan"), "context": None}])
    assert request.speaker is None and request.context is None


def test_json_nested_past_the_parser_limit_is_refused_before_mlflow():
    with pytest.raises(Refusal, match="nested too deeply"):
        check_json_body(b'{"inputs": ' + b"[" * 50_000 + b"]" * 50_000 + b"}")
    check_json_body(b'{"features": ' + b"[" * 600 + b"]" * 600 + b"}")  # parsable, not rows: MLflow answers
    check_json_body(b'{"inputs": [{"text": "fine"}]}')
    with pytest.raises(Refusal, match="row 0: expected an object"):
        check_json_body(b'{"inputs": ' + b"[" * 600 + b"]" * 600 + b"}")


def test_serving_runs_only_the_labeling_functions_the_model_reads():
    params = load_params(REPO_ROOT / "params.yaml")
    assert "example_similarity" in params.labeling.functions
    ignoring = build_model(ModelConfig(name="tfidf_logreg", inputs=["text", "votes"],
                                       ignore_votes_of=["example_similarity"]), seed=0)
    source = VoteSource(params.target, params.labeling, ignoring.reads_votes_of)
    assert [function.name for function in source.functions] == [
        name for name in params.labeling.functions if name != "example_similarity"]
    [votes] = source.votes(parse_requests([{"text": "Such a referendum is illegal", "speaker": "David Zalkaliani"}]))
    assert "example_similarity" not in votes and votes["speaker_prior"] == "oppose"


def test_exported_folder_holds_its_code_artifacts_and_signature(exported):
    folder, _, files, _ = exported
    stance = folder / "stance"
    assert (stance / "code" / "pipeline" / "models" / "base.py").is_file()
    assert not list((stance / "code").rglob("__pycache__"))
    assert (stance / "artifacts" / "candidate" / "stance_model.json").is_file()
    signature = mlflow.models.get_model_info(str(stance)).signature
    inputs = signature.inputs.to_dict()[0]["properties"]
    assert inputs["text"]["required"] is True
    assert all(inputs[name]["required"] is False for name in ("context", "speaker", "speaker_role", "target"))
    assert not any(path.suffix in (".pkl", ".pickle") for path in stance.rglob("*"))
    assert any(requirement.startswith("skops==") for requirement in files["pip_requirements"])


def test_loaded_in_a_fresh_python_elsewhere_it_predicts_the_same(exported, tmp_path):
    folder, params, _, _ = exported
    requests = [example for example, _ in EXAMPLES] + [{"text": "The date of the vote is not set"}]
    in_memory = load_model(folder / "candidate").predict_proba(
        [{**request, "target": params.target.name} for request in requests])
    script = ("import json, sys, mlflow\n"
              f"model = mlflow.pyfunc.load_model({str(folder / 'stance')!r})\n"
              "requests = json.loads(sys.stdin.read())\n"
              "out = [p.model_dump() for p in model.predict(requests)]\n"
              "print(json.dumps({'predictions': out, 'code': sys.modules['pipeline'].__file__}))\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True,
                          input=json.dumps([{**r, "target": params.target.name} for r in requests]),
                          env={"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "HOME": str(tmp_path),
                               "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false"})
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["code"].startswith(str(folder / "stance" / "code")), "must run the model's own copy of the code"
    scores = np.array([[p["scores"][label] for label in ("support", "oppose", "neutral")]
                       for p in result["predictions"]])
    np.testing.assert_allclose(scores, in_memory, atol=1e-6)
    assert [p["label"] for p in result["predictions"]][:6] == [label for _, label in EXAMPLES]


def test_registering_moves_champion_only_when_better(exported, tmp_path, monkeypatch):
    folder, params, files, example = exported
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    same = dict(protocol="cross_validation", data="d1")
    first = register(params, tmp_path, files, example, Evaluation(0.5, **same), folder / "candidate")
    worse = register(params, tmp_path, files, example, Evaluation(0.4, **same), folder / "candidate")
    better = register(params, tmp_path, files, example, Evaluation(0.7, **same), folder / "candidate")
    assert [(r["version"], r["alias"]) for r in (first, worse, better)] == [
        ("1", CHAMPION), ("2", CANDIDATE), ("3", CHAMPION)]
    client = mlflow.MlflowClient()
    name = first["registered_model"]
    assert name == "stance-south_ossetia_referendum"
    assert client.get_model_version_by_alias(name, CHAMPION).version == 3
    assert client.get_model_version_by_alias(name, CANDIDATE).version == 2
    assert "does not beat champion v1's 0.5000" in client.get_model_version(name, "2").tags["alias_reason"]
    loaded = mlflow.pyfunc.load_model(f"models:/{name}@{CHAMPION}")
    assert loaded.predict([{"text": "We will never recognize the results of this vote",
                            "speaker": "Ned Price"}])[0].label == "oppose"


def predict_lines(capsys, argv):
    from pipeline.predict import main

    assert main(argv) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_predict_text_and_jsonl(exported, tmp_path, capsys, monkeypatch):
    folder = exported[0]
    monkeypatch.chdir(tmp_path)  # outside any project: the model's own target applies
    [one] = predict_lines(capsys, ["--text", "We will never recognize the results of this vote",
                                   "--speaker", "Ned Price", "--model", str(folder / "stance")])
    assert one["label"] == "oppose" and one["speaker"] == "Ned Price"
    assert set(one["scores"]) == {"support", "oppose", "neutral"} and sum(one["scores"].values()) == pytest.approx(1)
    batch = tmp_path / "quotes.jsonl"
    batch.write_text("\n".join(json.dumps({**example, "article_id": "a"}) for example, _ in EXAMPLES) + "\n\n")
    rows = predict_lines(capsys, ["--jsonl", str(batch), "--model", str(folder / "stance")])
    assert [row["label"] for row in rows] == [label for _, label in EXAMPLES]
    speakers = predict_lines(capsys, ["--jsonl", str(batch), "--by-speaker", "--model", str(folder / "stance")])
    corpus = {row["speaker"]: row for row in speakers if row["scope"] == "corpus"}
    assert corpus["Anatoly Bibilov"]["stance"] == "support" and corpus["Anatoly Bibilov"]["quotes"] == 2


def test_predict_quotes_classifies_every_quote_and_a_gold_label_answers_for_its_quote(exported, make_quote):
    from pipeline.predict import load_stance_model, predict_quotes
    from pipeline.records import LabelledQuote

    folder, params, _, _ = exported
    quotes = [make_quote(example["text"], speaker=example["speaker"], start=100 * index)
              for index, (example, _) in enumerate(EXAMPLES)]
    model = load_stance_model(str(folder / "stance"))
    predictions, speakers = predict_quotes(quotes, model, params.target)
    assert [row["label"] for row in predictions] == [label for _, label in EXAMPLES]
    corpus = {row["speaker"]: row for row in speakers if row["scope"] == "corpus"}
    assert corpus["Anatoly Bibilov"]["stance"] == "support" and corpus["Anatoly Bibilov"]["quotes"] == 2
    gold = LabelledQuote(**quotes[0].model_dump(), target=params.target.id, label="neutral", label_source="gold",
                         confidence=1.0)
    predictions, _ = predict_quotes(quotes, model, params.target, labelled={gold.id: gold})
    assert (predictions[0]["stance"], predictions[0]["stance_source"]) == ("neutral", "gold")


@pytest.mark.parametrize("content, message", [
    ('{"text": "fine"}\n{"text": \n', r"quotes.jsonl:2: malformed JSON"),
    ('{"speaker": "x"}\n', r"quotes.jsonl:1 \[text\]: missing or empty text"),
    ('["a list"]\n', r"quotes.jsonl:1: expected a JSON object, got list"),
])
def test_predict_bad_jsonl_is_one_clear_error(exported, tmp_path, capsys, content, message):
    from pipeline.errors import run_cli
    from pipeline.predict import main

    batch = tmp_path / "quotes.jsonl"
    batch.write_text(content)
    assert run_cli(main, ["--jsonl", str(batch), "--model", str(exported[0] / "stance")]) == 2
    captured = capsys.readouterr()
    assert re.search(message, captured.err) and captured.out == ""


def test_predict_with_a_missing_model_or_target_says_so(tmp_path, capsys, monkeypatch):
    from pipeline.errors import run_cli
    from pipeline.predict import load_target, main

    monkeypatch.chdir(tmp_path)
    assert run_cli(main, ["--text", "x", "--model", str(tmp_path / "nowhere")]) == 2
    assert "[--model]: no exported model here (no MLmodel file)" in capsys.readouterr().err
    monkeypatch.chdir(REPO_ROOT)
    with pytest.raises(PipelineError, match="unknown target 'atlantis': choose one of .*south_ossetia_referendum"):
        load_target("atlantis")
    assert load_target("south_ossetia_referendum").id == "south_ossetia_referendum"


@pytest.mark.parametrize("pairs, expected", [
    ([("support", 0.9), ("neutral", 0.9)], "support"),                    # a side beats as much neutral
    ([("support", 0.6), ("neutral", 0.9), ("neutral", 0.9)], "neutral"),  # 0.6 < 0.5 * 1.8
    ([("support", 0.9), ("neutral", 0.9), ("neutral", 0.9)], "support"),  # 0.9 >= 0.5 * 1.8
    ([("support", 0.6), ("oppose", 0.9)], "oppose"),
    ([("support", 0.7), ("oppose", 0.7)], "neutral"),                     # the sides cancel
    ([("neutral", 0.3)], "neutral"),
])
def test_speaker_stance_weighs_confidence_and_discounts_neutral(pairs, expected):
    from pipeline.speakers import speaker_stance

    stance = speaker_stance(pairs)
    assert stance.label == expected and stance.quotes == len(pairs)


def test_predict_article_takes_files_folders_and_globs_and_loads_the_model_once(exported, tmp_path, capsys,
                                                                                monkeypatch):
    import pipeline.predict as predict

    corpus = tmp_path / "articles"
    (corpus / "more").mkdir(parents=True)
    text = SEED_ARTICLE.read_text(encoding="utf-8")
    (corpus / "one.txt").write_text(text, encoding="utf-8")
    (corpus / "more" / "two.txt").write_text(text + "\n\nA second copy.", encoding="utf-8")
    (corpus / "more" / "copy.txt").write_text(text, encoding="utf-8")  # the same text: dropped as a duplicate
    (tmp_path / "three.txt").write_text(text + "\n\nA third copy.", encoding="utf-8")
    loads = []
    real_load = predict.load_stance_model
    monkeypatch.setattr(predict, "load_stance_model", lambda uri: loads.append(uri) or real_load(uri))
    monkeypatch.chdir(tmp_path)
    rows = predict_lines(capsys, ["--article", str(corpus), str(tmp_path / "thr*.txt"),
                                  "--model", str(exported[0] / "stance")])
    assert len(loads) == 1
    assert list(dict.fromkeys(row["article_id"] for row in rows)) == ["copy", "two", "three"]  # sorted per folder
    assert set(rows[0]) == {"article_id", "id", "speaker", "speaker_role", "text", "kind", "label", "scores"}


@pytest.mark.parametrize("spec, message", [
    ("empty", r"empty \[--article\]: no article files \(.txt, .md, .html, .jsonl\) in this folder"),
    ("nothing*.txt", r"nothing\*\.txt \[--article\]: no such file, folder or glob match"),
])
def test_predict_article_on_nothing_is_one_clear_error(tmp_path, spec, message):
    from pipeline.predict import article_paths

    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.csv").write_text("not an article")
    with pytest.raises(PipelineError, match=message):
        article_paths([str(tmp_path / spec)], ["txt", "md", "html", "jsonl"])


def test_a_model_for_another_target_is_refused_unless_it_reads_the_target(exported):
    from pipeline.predict import check_model_target, load_stance_model

    model = load_stance_model(str(exported[0] / "stance"))
    own = exported[1].target
    check_model_target(model, own, field="--target")
    other = own.model_copy(update={"id": "atlantis_2030"})
    with pytest.raises(PipelineError, match=r"trained for target 'south_ossetia_referendum' and it does not read "
                                            r"the target; it cannot judge stance toward 'atlantis_2030'"):
        check_model_target(model, other, field="--target")
