"""The DVC pipeline end to end, in a fresh copy of the project (as a clean clone would be)."""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import mlflow
import pytest
import yaml

from helpers import REPO_ROOT, make_command, run

pytestmark = pytest.mark.slow
VENV_BIN = Path(sys.executable).parent


def stages_run(output: str) -> set[str]:
    return set(re.findall(r"Running stage '([^']+)'", output))


def stages_using(key: str) -> set[str]:
    """Stages of dvc.yaml whose params hold `key`: they list it, a key under it, or a section it is in."""
    stages = yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text())["stages"]
    return {name for name, stage in stages.items()
            if any(str(p) == key or str(p).startswith(key + ".") or key.startswith(str(p) + ".")
                   for p in stage.get("params", []))}


@pytest.fixture(scope="module")
def project(pipeline_project) -> Path:
    return pipeline_project


def stages_unchanged(output: str) -> set[str]:
    return set(re.findall(r"Stage '([^']+)' didn't change, skipping", output))


def test_repro_runs_every_stage_on_the_committed_params(project):
    """A clean clone has no data, models or predictions: those stages run. The committed reports of
    evaluate (git-tracked metrics) stay when train reproduces the committed candidate bit for bit."""
    stages = set(yaml.safe_load((project / "dvc.yaml").read_text())["stages"])
    log = (project / "first_run.log").read_text()
    ran, unchanged = stages_run(log), stages_unchanged(log)
    assert ran | unchanged == stages and not ran & unchanged
    assert {"ingest", "extract", "label", "split", "train", "export", "predict"} <= ran
    assert (project / "data/interim/articles.jsonl").is_file()
    for metrics in yaml.safe_load((project / "dvc.yaml").read_text()).get("metrics", []):
        assert (project / metrics).is_file()


def mlflow_runs(project: Path) -> list:
    """The pipeline runs (train + evaluate) in the project's store, oldest first."""
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{project}/mlflow.db")
    experiment = client.get_experiment_by_name("stance-south_ossetia_referendum")
    runs = client.search_runs([experiment.experiment_id], order_by=["attributes.start_time ASC"])
    return [run for run in runs if "macro_f1" in run.data.metrics]


def test_repro_logs_one_complete_mlflow_run(project, tmp_path):
    [run] = mlflow_runs(project)
    metrics = json.loads((project / "reports/metrics.json").read_text())
    params = yaml.safe_load((project / "params.yaml").read_text())
    assert run.data.params["model.name"] == params["model"]["name"]
    assert run.data.params["target.id"] == "south_ossetia_referendum"
    assert run.data.metrics["macro_f1"] == pytest.approx(metrics["macro_f1"])
    assert run.data.tags["git_commit"] and run.data.tags["data_version"]
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{project}/mlflow.db")
    versions = Path(client.download_artifacts(run.info.run_id, "data_versions.json", str(tmp_path)))
    assert "data/processed/labelled.jsonl" in json.loads(versions.read_text())
    assert {"evaluation/confusion.png", "evaluation/errors.csv", "evaluation/metrics.json"} <= {
        artifact.path for artifact in client.list_artifacts(run.info.run_id, "evaluation")}


def test_second_repro_is_a_no_op(project):
    again = run(make_command("pipeline"), project)
    assert stages_run(again.stdout + again.stderr) == set()
    assert run(["dvc", "status"], project).stdout.strip().endswith("Data and pipelines are up to date.")


def test_editing_conf_reruns_exactly_the_stages_that_use_it(project):
    corpus = project / "conf/corpus/seeds.yaml"
    corpus.write_text(corpus.read_text().replace("on_error: fail", "on_error: skip"))
    done = run(make_command("pipeline"), project)
    assert stages_using("corpus.on_error") == {"ingest"}
    assert stages_run(done.stdout + done.stderr) == {"ingest"}, "same articles: nothing downstream may rerun"
    assert yaml.safe_load((project / "params.yaml").read_text())["corpus"]["on_error"] == "skip"


def test_dvc_exp_run_applies_a_model_override(project):
    run(["git", "add", "-A"], project)
    run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "after repro"], project)
    run(["git", "config", "user.name", "t"], project)
    run(["git", "config", "user.email", "t@t"], project)
    before = len(mlflow_runs(project))
    run(["dvc", "exp", "run", "-S", "model=tfidf_svm"], project)
    params = yaml.safe_load((project / "params.yaml").read_text())
    assert params["model"]["name"] == "tfidf_svm"
    shown = run(["dvc", "exp", "show", "--csv"], project).stdout
    assert "tfidf_svm" in shown and "macro_f1" in shown.splitlines()[0]
    runs = mlflow_runs(project)
    assert len(runs) == before + 1
    assert runs[-1].data.params["model.name"] == "tfidf_svm" and runs[-1].data.tags["dvc_exp_name"]
    assert json.loads((project / "reports/metrics.json").read_text())["model"] == "tfidf_svm"
