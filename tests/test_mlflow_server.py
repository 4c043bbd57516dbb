"""`make mlflow-server`: a real MLflow tracking server that the pipeline logs to when MLFLOW_TRACKING_URI points
at it, from a plain pipeline run and from a queued DVC experiment alike, registry aliases included."""
from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import mlflow
import pytest

from helpers import REPO_ROOT, VENV_BIN, make_command, make_server, project_copy

pytestmark = pytest.mark.slow

EXPERIMENT = "stance-south_ossetia_referendum"


def environment(tracking_uri: str) -> dict[str, str]:
    """A fresh shell (no venv on PATH: bin/ finds it) with MLFLOW_TRACKING_URI set."""
    env = {key: value for key, value in os.environ.items() if key not in ("VIRTUAL_ENV", "DVC_ROOT")}
    return {**env, "PATH": "/usr/bin:/bin", "CI": "true", "MLFLOW_TRACKING_URI": tracking_uri}


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """`make mlflow-server` on a free port with a store and an artifact root of its own; stopped after the module.
    Yields its URI and its folder."""
    folder = tmp_path_factory.mktemp("mlflow-server")
    with make_server("mlflow-server", "MLFLOW_PORT", REPO_ROOT, f"MLFLOW_BACKEND=sqlite:///{folder / 'mlflow.db'}",
                     f"MLFLOW_ARTIFACTS={folder / 'artifacts'}") as uri:
        yield uri, folder


@pytest.fixture(scope="module")
def two_runs(server, tmp_path_factory) -> Path:
    """The seed pipeline (`make pipeline`), then a queued experiment with tfidf_svm (`bin/dvc exp run --queue`,
    `bin/dvc queue start`), both with MLFLOW_TRACKING_URI pointing at the server."""
    uri, _ = server
    project = project_copy(tmp_path_factory.mktemp("tracked") / "project")
    (project / ".venv").symlink_to(VENV_BIN.parent)
    env = environment(uri)
    for command in (make_command("pipeline"),
                    ["bin/dvc", "exp", "run", "--queue", "-S", "model=tfidf_svm"], ["bin/dvc", "queue", "start"]):
        done = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for _ in range(900):  # a hang guard, not a timing: the worker runs the whole pipeline
        status = subprocess.run(["bin/dvc", "queue", "status"], cwd=project, env=env, capture_output=True,
                                text=True).stdout
        if "Queued" not in status and "Running" not in status:
            break
        time.sleep(1)
    assert "Success" in status, status
    return project


def test_a_pipeline_run_and_a_queued_experiment_log_to_the_server(server, two_runs):
    uri, folder = server
    client = mlflow.MlflowClient(uri)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    runs = client.search_runs([experiment.experiment_id])
    assert sorted(run.data.params["model.name"] for run in runs) == ["tfidf_logreg", "tfidf_svm"]
    queued = next(run for run in runs if run.data.params["model.name"] == "tfidf_svm")
    assert queued.data.tags.get("dvc_exp_name")  # it ran as a DVC experiment, in .dvc/tmp/exps
    for run in runs:
        assert run.info.status == "FINISHED" and "macro_f1" in run.data.metrics
        logged = {item.path for item in client.list_artifacts(run.info.run_id, "predictions")}
        assert logged == {"predictions/predictions.jsonl", "predictions/speakers.csv", "predictions/stance_report.html"}
    # The artifacts went through the server to its artifact root; nothing to a store of the project's own.
    assert list((folder / "artifacts").rglob("stance_report.html"))
    assert not (two_runs / "mlflow.db").exists() and not (two_runs / "mlruns").exists()


def test_the_registry_versions_and_alias_are_on_the_server(server, two_runs):
    uri, _ = server
    client = mlflow.MlflowClient(uri)
    run_ids = {run.info.run_id for run in client.search_runs([client.get_experiment_by_name(EXPERIMENT).experiment_id])}
    versions = client.search_model_versions(f"name='{EXPERIMENT}'")
    assert {version.run_id for version in versions} == run_ids
    champion = client.get_model_version_by_alias(EXPERIMENT, "champion")
    assert champion.run_id in run_ids and champion.tags.get("pipeline_status") == "complete"
