"""MLflow runs land in one store, in the target's experiment, tagged with commit, DVC experiment and data."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import mlflow
import pytest

from helpers import REPO_ROOT
from pipeline.config import load_params
from pipeline.tracking import (
    DATA_VERSIONS,
    data_hashes,
    data_version,
    experiment_name,
    flatten,
    pipeline_run,
    run_name,
    start_run,
    tracking_uri,
)


@pytest.fixture
def params():
    return load_params(REPO_ROOT / "params.yaml")


def test_default_store_is_an_absolute_sqlite_uri(params, monkeypatch, tmp_path):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert tracking_uri(params, tmp_path) == f"sqlite:///{tmp_path.resolve()}/mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:////elsewhere/m.db")
    assert tracking_uri(params, tmp_path) == "sqlite:////elsewhere/m.db"


def test_queued_dvc_experiments_log_into_the_project_store(params, monkeypatch, tmp_path):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    queued = tmp_path / ".dvc" / "tmp" / "exps" / "tmpab12cd"
    queued.mkdir(parents=True)
    assert tracking_uri(params, queued) == f"sqlite:///{tmp_path.resolve()}/mlflow.db"


def test_flatten_nested_config():
    assert flatten({"model": {"name": "x", "params": {"C": 1.0}, "inputs": ["text"]}, "seed": 1, "e": {}}) == {
        "model.name": "x", "model.params.C": "1.0", "model.inputs": '["text"]', "seed": "1", "e": "{}"}


def test_data_hashes_from_dvc_lock(tmp_path):
    (tmp_path / "dvc.lock").write_text(
        "schema: '2.0'\nstages:\n  ingest:\n    cmd: x\n    deps:\n    - path: seeds\n      md5: aaa.dir\n"
        "    outs:\n    - path: data/interim/articles.jsonl\n      md5: bbb\n")
    assert data_hashes(tmp_path) == {"data/interim/articles.jsonl": "bbb", "seeds": "aaa.dir"}


def test_run_is_tagged_and_holds_the_config(params, tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("DVC_EXP_NAME", "brave-otter")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "f.txt").write_text("x")
    subprocess.run(["git", "add", "f.txt"], cwd=tmp_path, check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"], cwd=tmp_path, check=True)
    sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True, text=True).stdout.strip()
    (tmp_path / "dvc.lock").write_text("stages:\n  ingest:\n    outs:\n    - path: data/a.jsonl\n      md5: abc\n")
    with start_run(params, tmp_path, name=run_name(params)) as run:
        mlflow.log_metric("macro_f1", 0.5)
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{tmp_path}/mlflow.db")
    stored = client.get_run(run.info.run_id)
    assert stored.data.tags["git_commit"] == sha
    assert stored.data.tags["dvc_exp_name"] == "brave-otter"
    assert stored.info.run_name == f"{params.model.name} · south_ossetia_referendum · brave-otter"
    # the data hashes are one artifact and one fingerprint tag, not a tag each
    assert stored.data.tags["data_version"] == data_version({"data/a.jsonl": "abc"})
    assert not [tag for tag in stored.data.tags if tag.startswith("data.")]
    assert mlflow.artifacts.load_dict(f"{stored.info.artifact_uri}/{DATA_VERSIONS}") == {"data/a.jsonl": "abc"}
    assert stored.data.params["model.name"] == params.model.name
    assert stored.data.params["target.id"] == "south_ossetia_referendum"
    assert stored.data.metrics["macro_f1"] == 0.5
    experiment = mlflow.MlflowClient(tracking_uri=f"sqlite:///{tmp_path}/mlflow.db").get_experiment(
        stored.info.experiment_id)
    assert experiment.name == experiment_name(params) == "stance-south_ossetia_referendum"
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"  # the UI opens on the runs
    assert Path(tmp_path / "mlflow.db").is_file()
    assert experiment.artifact_location == (tmp_path / "mlruns").as_uri()


def test_pipeline_run_follows_the_candidate_it_was_opened_for(params, tmp_path, monkeypatch):
    """Train opens the run; evaluate/export resume it only for the same model folder, e.g. not when
    DVC restored an older candidate from its run cache while the handoff names a newer run."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    report = {"quotes": 3, "gold": 1, "weak": 2,
              "label_model": {"no_votes": 0, "gold_accuracy": 1.0, "mean_confidence": 0.8},
              "functions": {"cue_oppose": {"coverage": 0.5, "overlaps": 0.5, "conflicts": 0.0, "gold_accuracy": 1.0}}}
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports/labeling.json").write_text(json.dumps(report))
    candidate = tmp_path / "models/candidate"
    candidate.mkdir(parents=True)
    (candidate / "weights.bin").write_bytes(b"model A")
    with pipeline_run(params, tmp_path, candidate) as trained:
        mlflow.log_metric("train_seconds", 1.0)
    with pipeline_run(params, tmp_path, candidate) as evaluated:
        mlflow.log_metric("macro_f1", 0.7)
    assert evaluated.info.run_id == trained.info.run_id
    (candidate / "weights.bin").write_bytes(b"model B, restored by DVC")
    with pipeline_run(params, tmp_path, candidate) as other:
        mlflow.log_metric("macro_f1", 0.4)
    assert other.info.run_id != trained.info.run_id
    swept = params.model_copy(update={"split": params.split.model_copy(update={"cv_folds": 3})})
    with pipeline_run(swept, tmp_path, candidate) as sweep:  # the same model under other settings: a run of its own
        mlflow.log_metric("macro_f1", 0.5)
    assert sweep.info.run_id not in (trained.info.run_id, other.info.run_id)
    client = mlflow.MlflowClient()
    first, second = client.get_run(trained.info.run_id), client.get_run(other.info.run_id)
    assert first.data.metrics["macro_f1"] == 0.7 and first.data.metrics["labeling.label_model.gold_accuracy"] == 1.0
    assert second.data.metrics["macro_f1"] == 0.4 and "labeling.lf.cue_oppose.coverage" in second.data.metrics
    assert second.data.params["model.name"] == params.model.name
    assert [a.path for a in client.list_artifacts(second.info.run_id, "labeling")] == ["labeling/labeling.json"]


def test_a_new_run_of_an_already_evaluated_model_shows_its_evaluation(params, tmp_path, monkeypatch):
    """A fresh clone retrains the same model and DVC skips evaluate (its committed outputs match):
    the new run still carries the figures evaluate wrote for this very model, and only for it."""
    from pipeline.tracking import folder_fingerprint

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    candidate = tmp_path / "models/candidate"
    candidate.mkdir(parents=True)
    (candidate / "weights.bin").write_bytes(b"model A")
    metrics = {"accuracy": 0.9, "macro_f1": 0.8, "macro_f1_ci95_low": 0.7, "macro_f1_ci95_high": 0.9,
               "per_class": {}, "baselines": {"majority": {"macro_f1": 0.2}},
               "candidate": folder_fingerprint(candidate)}
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports/metrics.json").write_text(json.dumps(metrics))
    with pipeline_run(params, tmp_path, candidate) as same:
        pass
    (candidate / "weights.bin").write_bytes(b"model B")
    with pipeline_run(params, tmp_path, candidate) as other:
        pass
    client = mlflow.MlflowClient()
    assert client.get_run(same.info.run_id).data.metrics["macro_f1"] == 0.8
    assert "evaluation/metrics.json" in [a.path for a in client.list_artifacts(same.info.run_id, "evaluation")]
    assert "macro_f1" not in client.get_run(other.info.run_id).data.metrics
