"""Split, train and evaluate: protocols that never leak an article, honest metrics, one MLflow run."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import mlflow
import pytest
import yaml

from helpers import REPO_ROOT
from pipeline.config import SplitConfig, compose, validate_params
from pipeline.evaluate import error_table, out_of_fold_proba
from pipeline.metrics import bootstrap_macro_f1, classification_metrics
from pipeline.records import LabelledQuote, example_from_row, quote_row, write_records
from pipeline.split import WEAK_ONLY_FOLD, plan_split

FIXTURE = REPO_ROOT / "tests" / "fixtures" / "stance_tiny.jsonl"


def labelled_quotes(articles: int | None = None, weak_every: int = 0) -> list[LabelledQuote]:
    """The tiny stance fixture as labelled quotes; `articles` folds them into that many articles."""
    quotes = []
    for index, line in enumerate(FIXTURE.read_text().splitlines()):
        row = json.loads(line)
        weak = weak_every and index % weak_every == 0
        quotes.append(LabelledQuote(
            id=row["id"], article_id=f"a{index % articles}" if articles else row["article_id"], text=row["text"],
            kind="direct", cue="said", speaker=row["speaker"], speaker_mention=row["speaker"],
            speaker_role=row["speaker_role"], start=0, end=len(row["text"]), sentence=row["sentence"],
            target="dam", label=row["label"], label_source="weak" if weak else "gold",
            confidence=0.7 if weak else 1.0, votes=row["votes"]))
    return quotes


def test_holdout_keeps_articles_apart_and_tests_on_gold_only():
    quotes = labelled_quotes(weak_every=4)
    plan = plan_split(quotes, SplitConfig(test_size=0.3, min_test_articles=2), seed=1)
    assert plan.protocol == "holdout"
    train_articles = {q.article_id for q in plan.train}
    test_articles = {q.article_id for q in plan.test}
    assert train_articles.isdisjoint(test_articles)
    assert all(q.label_source == "gold" for q in plan.test)
    gold = sum(q.label_source == "gold" for q in quotes)
    assert len(plan.test) >= 0.3 * gold
    assert len(test_articles) >= 2


def test_one_article_falls_back_to_cross_validation_with_weak_rows_training_only():
    quotes = labelled_quotes(articles=1, weak_every=5)
    plan = plan_split(quotes, SplitConfig(cv_folds=4), seed=0)
    assert (plan.protocol, plan.n_splits) == ("cross_validation", 4)
    assert all(q.label_source == "gold" for q in plan.test)
    folds = dict(zip((q.id for q in plan.train), plan.folds))
    assert {folds[q.id] for q in plan.train if q.label_source == "weak"} == {WEAK_ONLY_FOLD}
    gold_folds = [folds[q.id] for q in plan.train if q.label_source == "gold"]
    assert sorted(set(gold_folds)) == [0, 1, 2, 3]
    for fold in range(4):  # stratified: every fold holds every label
        assert {q.label for q in plan.train if folds[q.id] == fold} == {"support", "oppose", "neutral"}


def test_cross_validation_needs_two_gold_classes():
    quotes = [q.model_copy(update={"label": "support"}) for q in labelled_quotes(articles=1)]
    with pytest.raises(Exception, match="at least two classes"):
        plan_split(quotes, SplitConfig(), seed=0)


@pytest.mark.parametrize("overrides", [[], ["model=tfidf_svm"]], ids=["default_model", "tfidf_svm"])
def test_cross_validated_probabilities_are_identical_on_rerun(overrides):
    """Same seed, same data: the same out-of-fold probabilities, so the same metrics."""
    plan = plan_split(labelled_quotes(articles=1, weak_every=5), SplitConfig(cv_folds=3), seed=0)
    rows = [example_from_row({**quote_row(q), "fold": fold}) for q, fold in zip(plan.train, plan.folds)]
    config = validate_params(compose(REPO_ROOT / "conf", overrides)).model
    _, first = out_of_fold_proba(rows, config, seed=5)
    _, again = out_of_fold_proba(rows, config, seed=5)
    assert first.tolist() == again.tolist()


def test_metrics_on_known_predictions():
    gold = ["support", "support", "oppose", "neutral"]
    predicted = ["support", "oppose", "oppose", "neutral"]
    metrics = classification_metrics(gold, predicted)
    assert metrics["accuracy"] == 0.75
    assert metrics["per_class"]["support"] == {"precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3),
                                               "support": 2}
    assert metrics["macro_f1"] == pytest.approx((2 / 3 + 2 / 3 + 1) / 3)
    assert metrics["confusion_matrix"]["counts"] == [[1, 1, 0], [0, 1, 0], [0, 0, 1]]
    low, high = bootstrap_macro_f1(gold * 10, predicted * 10, 200, seed=0)
    assert low <= metrics["macro_f1"] <= high


def test_error_table_lists_mistakes_most_confident_first():
    rows = [{"article_id": "a", "speaker": "X", "text": "t1", "label": "support"},
            {"article_id": "a", "speaker": None, "text": "t2", "label": "oppose"},
            {"article_id": "a", "speaker": "Z", "text": "t3", "label": "neutral"}]
    import numpy as np
    proba = np.array([[0.9, 0.05, 0.05], [0.6, 0.3, 0.1], [0.1, 0.8, 0.1]])
    errors = error_table(rows, proba)
    assert [(e["quote"], e["predicted"]) for e in errors] == [("t3", "oppose"), ("t2", "support")]
    assert errors[1]["speaker"] == ""


def make_project(tmp_path: Path, quotes: list[LabelledQuote], model: str = "tfidf_logreg") -> Path:
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    params["model"] = yaml.safe_load((REPO_ROOT / "conf" / "model" / f"{model}.yaml").read_text())
    params["split"]["bootstrap_samples"] = 200
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    write_records(tmp_path / "data/processed/labelled.jsonl", quotes)
    return tmp_path


def run_stages(project: Path, *stages: str) -> None:
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{project}/mlflow.db", "CI": "true"}
    env.pop("DVC_ROOT", None)
    for stage in stages:
        done = subprocess.run([sys.executable, "-m", f"pipeline.{stage}"], cwd=project, env=env,
                              capture_output=True, text=True)
        assert done.returncode == 0, f"{stage}: {done.stderr}"


@pytest.mark.slow
def test_stages_write_metrics_and_one_complete_mlflow_run(tmp_path):
    project = make_project(tmp_path, labelled_quotes(weak_every=4))
    run_stages(project, "split", "train", "evaluate")
    metrics = json.loads((project / "reports/metrics.json").read_text())
    assert metrics["protocol"] == "holdout" and metrics["model"] == "tfidf_logreg"
    assert 0 <= metrics["macro_f1_ci95_low"] <= metrics["macro_f1"] <= metrics["macro_f1_ci95_high"] <= 1
    assert set(metrics["baselines"]) == {"majority", "weak_only"}
    confusion = (project / "reports/plots/confusion.csv").read_text().splitlines()
    assert confusion[0] == "actual,predicted" and len(confusion) == metrics["n"] + 1
    assert (project / "reports/plots/confusion.png").read_bytes()[:4] == b"\x89PNG"
    assert (project / "models/candidate/stance_model.json").is_file()

    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{project}/mlflow.db")
    [run] = client.search_runs([client.get_experiment_by_name("stance-south_ossetia_referendum").experiment_id])
    assert run.data.params["model.name"] == "tfidf_logreg"
    assert run.data.metrics["macro_f1"] == pytest.approx(metrics["macro_f1"])
    assert run.data.metrics["train_examples"] == metrics["train_quotes"]
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "evaluation")}
    assert {"evaluation/metrics.json", "evaluation/errors.csv", "evaluation/confusion.png"} <= artifacts
    assert {a.path for a in client.list_artifacts(run.info.run_id, "candidate_model")} >= {
        "candidate_model/stance_model.json"}


@pytest.mark.slow
def test_cross_validated_metrics_are_identical_on_rerun(tmp_path):
    project = make_project(tmp_path, labelled_quotes(articles=1, weak_every=5), model="tfidf_svm")
    run_stages(project, "split", "train", "evaluate")
    first = (project / "reports/metrics.json").read_text()
    split_first = (project / "data/processed/split/split.json").read_text()
    run_stages(project, "split", "train", "evaluate")
    assert (project / "reports/metrics.json").read_text() == first
    assert (project / "data/processed/split/split.json").read_text() == split_first
    assert json.loads(first)["protocol"] == "cross_validation"


def test_without_gold_everything_trains_on_weak_labels_and_nothing_is_evaluated(tmp_path):
    from pipeline.evaluate import NOT_EVALUATED, unevaluated_metrics
    from pipeline.records import read_split, write_split
    from pipeline.split import summarise

    weak = [quote.model_copy(update={"label_source": "weak", "confidence": 0.6}) for quote in labelled_quotes()]
    plan = plan_split(weak, SplitConfig(), seed=0)
    assert (plan.protocol, len(plan.train), plan.test) == ("none", len(weak), [])
    write_split(tmp_path / "split", plan.train, plan.folds, plan.test, summarise(plan))
    rows, summary = read_split(tmp_path / "split")
    assert len(rows["train"]) == len(weak) and rows["test"] == []
    labeling = {"label_model": {"no_votes": 3, "mean_confidence": 0.6},
                "functions": {"cue_oppose": {"coverage": 0.25}}}
    metrics = unevaluated_metrics(summarise(plan), labeling, "tfidf_logreg")
    assert metrics["macro_f1"] is None and metrics["protocol"] == "none" and metrics["note"] == NOT_EVALUATED
    assert metrics["weak_labels"]["coverage"] == {"cue_oppose": 0.25}
    assert sum(metrics["weak_labels"]["labels"].values()) == len(weak)
