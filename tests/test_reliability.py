"""Reruns, interruptions and the DVC remote, on a second clean copy of the project.

The session's `pipeline_project` ran the pipeline from a clean copy while another clean copy,
in another folder, ran it alongside: both must record the same data hashes in dvc.lock and
the same metrics. The same copy is then interrupted mid-stage and pushed to and pulled
from its DVC remote. (The network guard is in conftest.py; `is_loopback` is checked here.)
"""
from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import VENV_BIN, first_run_snapshot, is_loopback, run, second_run

CACHED_OUTPUTS = ("data/interim/articles.jsonl", "data/interim/quotes.jsonl", "data/processed/labelled.jsonl",
                  "data/processed/split", "models/candidate", "models/stance")


def test_network_guard_allows_loopback_only():
    assert is_loopback(("127.0.0.1", 5000)) and is_loopback(("::1", 80, 0, 0)) and is_loopback(("localhost", 1))
    assert is_loopback("/tmp/some.sock")
    assert not is_loopback(("93.184.216.34", 443)) and not is_loopback(("huggingface.co", 443))


@pytest.fixture(scope="module")
def second_project(pipeline_project) -> Path:
    """The other clean copy (another folder) that ran `make pipeline` alongside the first."""
    copy = second_run(pipeline_project)
    assert (copy / "run.returncode").read_text() == "0", (copy / "run.log").read_text()[-3000:]
    return copy


def hashes(root: Path, folders=("data", "models", "reports")) -> dict[str, str]:
    return {path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for folder in folders for path in sorted((root / folder).rglob("*")) if path.is_file()}


@pytest.mark.slow
def test_two_runs_from_a_clean_state_give_the_same_hashes_and_metrics(pipeline_project, second_project):
    first = first_run_snapshot(pipeline_project)
    lock = (first / "dvc.lock").read_text()
    assert (second_project / "dvc.lock").read_text() == lock
    for report in sorted((first / "reports").glob("*.json")):
        if f"path: reports/{report.name}" not in lock:
            continue  # not a DVC output (reports/mlflow_run.json hands the run id from stage to stage)
        assert (second_project / "reports" / report.name).read_text() == report.read_text(), report.name


def interrupt(command: list[str], project: Path, after: float) -> subprocess.CompletedProcess:
    """Start `command`, send SIGINT to its process group (Ctrl-C) after `after` seconds."""
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}", "CI": "true"}
    env.pop("DVC_ROOT", None)
    env.pop("MLFLOW_TRACKING_URI", None)
    process = subprocess.Popen(command, cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)
    time.sleep(after)
    assert process.poll() is None, "the stage finished before it could be interrupted"
    os.killpg(process.pid, signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


@pytest.mark.slow
def test_sigint_mid_stage_keeps_outputs_and_the_next_repro_recovers(second_project):
    before = hashes(second_project)
    done = interrupt([sys.executable, "-m", "pipeline.label"], second_project, after=3)
    assert done.returncode in (130, -signal.SIGINT) and "interrupted" in done.stderr, done.stderr
    assert hashes(second_project) == before
    assert not [path for path in second_project.rglob(".*.tmp")]

    # Through DVC, which removes a stage's outputs before running it: the next repro restores them.
    done = interrupt(["dvc", "repro", "--force", "--single-item", "label"], second_project, after=6)
    assert done.returncode != 0
    run(["dvc", "repro"], second_project)
    assert "up to date" in run(["dvc", "status"], second_project).stdout
    assert hashes(second_project) == before


@pytest.mark.slow
def test_dvc_push_then_pull_into_an_empty_cache_gives_the_same_data(second_project, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(second_project, project, symlinks=True)
    before = hashes(project, ("data", "models"))
    run(["dvc", "push"], project)
    assert any((project / "dvc-storage").rglob("*")), "the local remote (.dvc/config) got nothing"
    shutil.rmtree(project / ".dvc" / "cache")
    for output in CACHED_OUTPUTS:
        path = project / output
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    run(["dvc", "pull"], project)
    assert hashes(project, ("data", "models")) == before
    assert "up to date" in run(["dvc", "status"], project).stdout


@pytest.mark.slow
def test_serve_load_smoke(pipeline_project):
    """python -m bench.serve_load on a tiny slice: its own server, good and bad requests, without and with the
    abuse mix beside them, a table, exit 0."""
    from helpers import exported_snapshot

    done = run([sys.executable, "-m", "bench.serve_load", "--quick", "--bad-every", "3",
                "--model", str(exported_snapshot(pipeline_project))], pipeline_project, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    [header] = [line for line in done.stdout.splitlines() if line.startswith("| workers |")]
    names = [cell.strip() for cell in header.strip("|").split("|")]
    rows = {cells["abuse"]: cells for line in done.stdout.splitlines() if line.startswith("| 1 |")
            for cells in [dict(zip(names, (cell.strip() for cell in line.strip("|").split("|"))))]}
    for cells in rows.values():
        assert (cells["requests"], cells["good failed"], cells["bad rejected (4xx)"], cells["bad not rejected"],
                cells["abuse not answered as expected"]) == ("40", "0", "13", "0", "0"), cells
        assert float(cells["/ping req/s"]) > 0
    assert (rows["none"]["abuse sent"], int(rows["the mix"]["abuse sent"]) >= 8) == ("0", True)
