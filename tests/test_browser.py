"""What people look at, looked at in headless Chromium: the stance report and the MLflow UI."""
from __future__ import annotations

import csv
import os
import re
import subprocess
import time
from pathlib import Path

import mlflow
import pytest

from browser import rendered_dom
from helpers import VENV_BIN, make_server, project_copy, run_pipeline

pytestmark = pytest.mark.slow


def test_the_stance_report_renders_one_row_per_speaker(pipeline_project):
    with (pipeline_project / "reports" / "speakers.csv").open(encoding="utf-8") as handle:
        corpus = [row["speaker"] for row in csv.DictReader(handle) if row["scope"] == "corpus"]
    dom = rendered_dom((pipeline_project / "reports" / "stance_report.html").as_uri(), wait_ms=2000)
    rows = re.findall(r'<tr class="speaker"><td>(.*?)</td>', dom)
    assert rows == corpus and len(rows) >= 5
    assert "Anatoly Bibilov" in rows and dom.count("<svg") >= 2  # the speaker chart and the camp chart


def page_text(dom: str) -> str:
    """The visible text of a DOM, each element's text between bars: `|macro_f1|0.87|`."""
    text = re.sub(r"<[^>]+>", "|", re.sub(r"<(style|script)\b.*?</\1>", "", dom, flags=re.S))
    return re.sub(r"\|+", "|", text.replace("&nbsp;", " "))


def fresh_shell() -> dict[str, str]:
    """No venv on PATH, nothing activated: the project's bin/ must find its own .venv."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("VIRTUAL_ENV", "DVC_ROOT", "MLFLOW_TRACKING_URI")}
    return {**env, "PATH": "/usr/bin:/bin"}


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> Path:
    """The seed pipeline run twice: `make pipeline`, then a queued experiment with tfidf_svm, queued
    and run from a fresh shell as the README says (`bin/dvc exp run --queue`, `bin/dvc queue start`)."""
    project = project_copy(tmp_path_factory.mktemp("ui") / "project")
    run_pipeline(project)
    (project / ".venv").symlink_to(VENV_BIN.parent)
    for command in (["bin/dvc", "exp", "run", "--queue", "-S", "model=tfidf_svm"], ["bin/dvc", "queue", "start"]):
        done = subprocess.run(command, cwd=project, env=fresh_shell(), capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
    for _ in range(900):  # a hang guard, not a timing: the worker runs the whole pipeline
        status = subprocess.run(["bin/dvc", "queue", "status"], cwd=project, env=fresh_shell(),
                                capture_output=True, text=True).stdout
        if "Queued" not in status and "Running" not in status:
            break
        time.sleep(1)
    assert "Success" in status, status
    return project


@pytest.fixture(scope="module")
def ui(two_runs):
    """`make ui` on a free port, stopped (with its workers) after the module."""
    with make_server("ui", "UI_PORT", two_runs) as url:
        yield url


def test_the_mlflow_ui_opens_on_the_training_runs_with_their_scores_and_plots(two_runs, ui):
    client = mlflow.MlflowClient(f"sqlite:///{two_runs / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("stance-south_ossetia_referendum")
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == 2 and {r.data.params["model.name"] for r in runs} == {"tfidf_logreg", "tfidf_svm"}

    listing = rendered_dom(f"{ui}/#/experiments/{experiment.experiment_id}/runs")
    assert "Training runs" in listing  # a model-training experiment, not the GenAI overview
    for stored in runs:
        assert stored.info.run_name in listing.replace("&nbsp;", " ")
        assert f"{stored.info.run_name.split(' · ')[1]}-train" in listing  # the Dataset column

    for stored in runs:  # each run's page shows its macro-F1
        page = page_text(rendered_dom(f"{ui}/#/experiments/{experiment.experiment_id}/runs/{stored.info.run_id}",
                                      height=3000))
        shown = re.search(r"\|macro_f1\|([0-9.]+)\|", page)
        assert shown and float(shown.group(1)) == pytest.approx(stored.data.metrics["macro_f1"], abs=1e-3)

    plot = rendered_dom(f"{ui}/#/experiments/{experiment.experiment_id}/runs/{runs[0].info.run_id}"
                        "/artifacts/evaluation/confusion.png")
    assert re.search(r'<img[^>]*alt="evaluation/confusion.png"', plot)
