"""A labelled dataset (`corpus.kind: labelled`) through the real stages: label takes its rows as gold, split
keeps its own train/test, evaluate reports its official metric and skips the baselines it cannot run."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from helpers import REPO_ROOT, project_copy, run
from pipeline.config import ModelConfig, Params, SplitConfig, compose, dump_params, validate_params
from pipeline.errors import PipelineError
from pipeline.evaluate import cannot_run, evaluate_rows, summary_line
from pipeline.metrics import f_avg, macro_f1
from pipeline.models import build_model, fits_per_target, load_model
from pipeline.records import LabelledQuote, read_records, read_split
from pipeline.tracking import evaluation_metrics, labeling_metrics

# Two targets, SemEval's file layout: training, trial (our `validation`) and test, FAVOR / AGAINST / NONE.
WORDS = {"FAVOR": "great wonderful support love", "AGAINST": "awful terrible reject hate",
         "NONE": "tuesday meeting schedule agenda"}
SPLIT_ROWS = {"train": 6, "validation": 1, "test": 2}


def tiny_rows(split: str) -> list[tuple[str, str, str, str]]:
    """(id, target, text, label) rows: each label's words, per target, a few times."""
    rows = []
    for target in ("Dams", "Ferries"):
        for label, words in WORDS.items():
            for index in range(SPLIT_ROWS[split]):
                rows.append((f"{split}-{target}-{label}-{index}", target,
                             f"{words.split()[index % 4]} {words.split()[(index + 1) % 4]} {target.lower()} {index}",
                             label))
    return rows


def write_tiny_dataset(folder: Path) -> dict:
    """The TSV files in `folder` and the `corpus` config that reads them (path relative to the project)."""
    folder.mkdir(parents=True, exist_ok=True)
    for split in SPLIT_ROWS:
        lines = ["ID\tTarget\tTweet\tStance"] + ["\t".join(row) for row in tiny_rows(split)]
        (folder / f"{split}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {"name": "tiny_stance", "kind": "labelled", "path": folder.name,
            "labelled": {"format": "tsv", "files": {split: f"{split}.txt" for split in SPLIT_ROWS},
                         "text_column": "Tweet", "label_column": "Stance", "id_column": "ID",
                         "target_column": "Target",
                         "label_map": {"FAVOR": "support", "AGAINST": "oppose", "NONE": "neutral"},
                         "train_splits": ["train", "validation"], "metric": "f_avg", "per_target": True}}


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A project folder (dvc.yaml, params.yaml) whose corpus is the tiny labelled dataset."""
    corpus = write_tiny_dataset(tmp_path / "tiny_stance")
    params = compose(REPO_ROOT / "conf", ["model=tfidf_svm"])
    params["corpus"] = corpus
    validate_params(params)
    (tmp_path / "params.yaml").write_text(dump_params(params), encoding="utf-8")
    (tmp_path / "dvc.yaml").write_text("stages: {}\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DVC_ROOT", raising=False)
    return tmp_path


def params_of(project: Path) -> Params:
    return validate_params(yaml.safe_load((project / "params.yaml").read_text(encoding="utf-8")))


def test_label_takes_the_gold_labels_of_the_corpus_rows(project):
    from pipeline import label

    assert label.main([]) == 0
    quotes = list(read_records(project / "data/processed/labelled.jsonl", LabelledQuote))
    expected = [(f"tiny_stance:{row_id}", target, text, {"FAVOR": "support", "AGAINST": "oppose",
                                                         "NONE": "neutral"}[stance], split)
                for split in SPLIT_ROWS for row_id, target, text, stance in tiny_rows(split)]
    assert [(q.article_id, q.target, q.text, q.label, q.split) for q in quotes] == expected
    assert {(q.label_source, q.confidence) for q in quotes} == {("gold", 1.0)}
    report = json.loads((project / "reports/labeling.json").read_text())
    assert (report["quotes"], report["gold"], report["weak"], report["label_model"]) == (54, 54, 0, None)
    assert report["splits"]["validation"] == {"support": 2, "oppose": 2, "neutral": 2}
    assert report["targets"] == {"Dams": 27, "Ferries": 27}
    assert labeling_metrics(report) == {"quotes": 54.0, "gold": 54.0, "weak": 0.0}


def gold_quote(split: str, number: int) -> LabelledQuote:
    text = f"quote {number}"
    return LabelledQuote(id=f"q{number}", article_id=f"set:{number}", text=text, kind="direct", cue=None,
                         speaker=None, speaker_mention=None, speaker_role=None, start=0, end=len(text), sentence=text,
                         target="t", label="support", label_source="gold", confidence=1.0, split=split)


def test_split_given_trains_on_the_corpus_train_splits_and_tests_on_its_test_rows():
    from pipeline.split import plan_split

    quotes = [gold_quote(split, number) for number, split in enumerate(["train", "validation", "test", "train"])]
    default = plan_split(quotes, SplitConfig(), seed=0)
    assert (default.protocol, [q.id for q in default.train], [q.id for q in default.test]) == (
        "given", ["q0", "q3"], ["q2"])  # validation rows are kept out of both sides
    with_trial = plan_split(quotes, SplitConfig(), seed=0, train_splits=("train", "validation"))
    assert [q.id for q in with_trial.train] == ["q0", "q1", "q3"] and [q.id for q in with_trial.test] == ["q2"]


def test_f_avg_is_the_mean_of_the_support_and_oppose_f1_on_a_hand_made_example():
    gold = ["support", "support", "oppose", "oppose", "neutral", "neutral"]
    guess = ["support", "oppose", "oppose", "oppose", "neutral", "support"]
    # support: P 1/2, R 1/2 -> F1 0.5; oppose: P 2/3, R 1 -> F1 0.8; neutral (F1 2/3) is left out.
    assert f_avg(gold, guess) == pytest.approx(0.65)
    assert macro_f1(gold, guess) == pytest.approx((0.5 + 0.8 + 2 / 3) / 3)
    assert f_avg(["neutral", "neutral"], ["neutral", "neutral"]) == 0.0  # no stance found: nothing scored


def test_weak_only_cannot_run_without_votes_and_says_why():
    rows = [{"text": "a", "votes": {}}, {"text": "b", "votes": {}}]
    assert "votes" in cannot_run(ModelConfig(name="weak_only"), rows, seed=0)
    assert cannot_run(ModelConfig(name="majority"), rows, seed=0) is None
    assert cannot_run(ModelConfig(name="weak_only"), [{"text": "a", "votes": {"cue_oppose": None}}], 0) is None


def test_a_model_reading_votes_is_refused_on_a_dataset_without_them(project):
    from pipeline.train import check_votes

    params = params_of(project)
    with_votes = params.model_copy(update={"model": ModelConfig(name="tfidf_logreg", inputs=["text", "votes"])})
    with pytest.raises(PipelineError, match="votes.*tiny_stance.*model=tfidf_svm"):
        check_votes(with_votes, [{"text": "a", "votes": {}}])
    check_votes(params, [{"text": "a", "votes": {}}])


def test_a_per_target_model_fits_each_target_on_its_own_rows(tmp_path):
    examples = [{"text": text, "target": target} for _, target, text, _ in tiny_rows("train")]
    labels = [{"FAVOR": "support", "AGAINST": "oppose", "NONE": "neutral"}[row[3]] for row in tiny_rows("train")]
    config = ModelConfig(name="tfidf_svm", params={"C": 0.5})
    model = build_model(config, seed=0, per_target=True).fit(examples, labels)
    assert model.kind == "per_target" and sorted(model.models) == ["Dams", "Ferries"]
    # Each target's model sees its own rows only: majority per target gives each target its own label.
    skewed = build_model(ModelConfig(name="majority"), seed=0, per_target=True).fit(
        [{"text": "x", "target": target} for target in ("Dams",) * 3 + ("Ferries",) * 3],
        ["support", "support", "oppose", "oppose", "oppose", "neutral"])
    assert skewed.predict([{"text": "y", "target": "Dams"}, {"text": "y", "target": "Ferries"}]) == [
        "support", "oppose"]
    loaded = load_model(model.save(tmp_path / "candidate"))
    assert loaded.predict([{"text": "great love dams", "target": "Dams"}]) == ["support"]
    with pytest.raises(PipelineError, match="no model for target 'Bridges'"):
        loaded.predict([{"text": "great", "target": "Bridges"}])
    # A model that reads the target is one model for every target, whatever the protocol.
    assert not fits_per_target(ModelConfig(name="finetune", inputs=["target", "text"]), per_target=True)
    assert build_model(config, seed=0).kind == "tfidf_svm"


def test_evaluate_reports_f_avg_per_target_and_names_the_skipped_baseline(project):
    from pipeline import label, split

    label.main([])
    split.main([])
    params = params_of(project)
    rows, summary = read_split(project / "data/processed/split")
    assert summary["train"]["quotes"] == 42 and summary["test"]["quotes"] == 12  # train + trial, test
    model = build_model(params.model, params.seed, per_target=True)
    model.fit(rows["train"], [row["label"] for row in rows["train"]]).save(project / "models/candidate")
    metrics, evaluated, _ = evaluate_rows(rows, summary, params, load_model(project / "models/candidate"))
    assert (metrics["protocol"], metrics["metric"], metrics["models"], metrics["n"]) == (
        "given", "f_avg", "one per target", 12)
    gold = [row["label"] for row in evaluated]
    predicted = load_model(project / "models/candidate").predict(evaluated)
    assert metrics["f_avg"] == pytest.approx(f_avg(gold, predicted))
    assert metrics["f_avg_ci95_low"] <= metrics["f_avg"] <= metrics["f_avg_ci95_high"]
    assert sorted(metrics["per_target"]) == ["Dams", "Ferries"]
    assert {row["n"] for row in metrics["per_target"].values()} == {6}
    assert set(metrics["baselines"]) == {"majority"} and set(metrics["baselines"]["majority"]) == {"macro_f1", "f_avg"}
    assert "votes" in metrics["skipped_baselines"]["weak_only"]
    flat = evaluation_metrics(metrics)
    assert {"macro_f1", "f_avg", "f_avg_ci95_low", "baseline_majority_f_avg"} <= set(flat)
    assert not any("weak_only" in key for key in flat)
    assert "weak_only skipped" in summary_line(metrics)


@pytest.mark.slow
def test_the_dvc_pipeline_trains_evaluates_and_exports_on_a_labelled_corpus(tmp_path):
    """`dvc exp run -S corpus=<a labelled set> -S model=tfidf_svm`, on a tiny set written into a project copy."""
    project = project_copy(tmp_path / "project")
    corpus = write_tiny_dataset(project / "tiny_stance")
    (project / "conf/corpus/tiny_stance.yaml").write_text(yaml.safe_dump(corpus), encoding="utf-8")
    for command in (["git", "config", "user.name", "t"], ["git", "config", "user.email", "t@t"],
                    ["git", "add", "-A"], ["git", "commit", "-qm", "a tiny labelled corpus"]):
        run(command, project)
    done = run(["dvc", "exp", "run", "-S", "corpus=tiny_stance", "-S", "model=tfidf_svm"], project)
    output = done.stdout + done.stderr
    for stage in ("ingest", "label", "split", "train", "evaluate", "export", "predict"):
        assert f"Running stage '{stage}'" in output
    metrics = json.loads((project / "reports/metrics.json").read_text())
    assert (metrics["metric"], metrics["protocol"], metrics["n"]) == ("f_avg", "given", 12)
    assert 0 <= metrics["f_avg"] <= 1 and "weak_only" in metrics["skipped_baselines"]
    export = json.loads((project / "reports/export.json").read_text())
    assert export["registered_model"] == "stance-tiny_stance" and (project / "models/stance/MLmodel").is_file()
    assert (project / "reports/predictions.jsonl").read_text() == ""
    assert "already-labelled dataset" in (project / "reports/stance_report.html").read_text()
