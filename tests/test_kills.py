"""Nothing lost under DVC: stages killed for real (SIGKILL, Ctrl-C) in a copy of a project that has run.

DVC deletes a stage's outputs before running it unless they are `persist`ent; the model people call
and the reports are, and the stages replace them only when complete. A killed run is closed as
KILLED by the next stage, an interrupted registration leaves a version tagged incomplete and
without alias, and a killed writer's temp folders go at the next write.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import mlflow
import psutil
import pytest
import yaml

from helpers import VENV_BIN

pytestmark = pytest.mark.slow


def folder_hash(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + path.read_bytes())
    return digest.hexdigest()


def environment() -> dict[str, str]:
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}", "CI": "true"}
    for name in ("DVC_ROOT", "MLFLOW_TRACKING_URI"):
        env.pop(name, None)
    return env


@pytest.fixture
def project(pipeline_project, tmp_path) -> Path:
    """A copy of the project after its pipeline ran (store, DVC cache and all), set to retrain:
    another model kind, so train, evaluate, export and predict all run again."""
    copy = tmp_path / "project"
    shutil.copytree(pipeline_project, copy, symlinks=True)
    current = yaml.safe_load((copy / "params.yaml").read_text())["model"]["name"]
    other = "tfidf_logreg" if current == "tfidf_svm" else "tfidf_svm"  # whatever earlier tests left
    subprocess.run([str(VENV_BIN / "python"), "-m", "pipeline.config", f"model={other}"], cwd=copy,
                   env=environment(), check=True, capture_output=True)
    return copy


def stage_process(parent: psutil.Process, module: str) -> psutil.Process | None:
    """The Python process running `module`, once there is one. DVC starts the stage as `sh -c 'bin/python
    -m ...'` and bin/python is a shell script (with subshells of its own) that execs Python: killing any
    of those shells would leave the stage to run on."""
    running = []
    for child in parent.children(recursive=True):
        try:
            if "python" in child.name() and module in " ".join(child.cmdline()):
                running.append(child)
        except psutil.NoSuchProcess:
            continue
    parents = set()
    for process in running:
        try:
            parents.add(process.ppid())
        except psutil.NoSuchProcess:
            continue
    innermost = [process for process in running if process.pid not in parents]
    return innermost[0] if innermost else None


def kill_stage_when(project: Path, module: str, ready, sig=signal.SIGKILL, timeout: float = 600):
    """Run `dvc repro`; when `module`'s process is up and `ready(project)` holds, signal that process.

    Returns dvc's result and, from a watcher that looked every 20 ms, whether models/stance was ever
    missing (what `predict --article` and `make serve` would have found) while DVC ran.
    """
    missing = []
    running = threading.Event()
    running.set()

    def watch():
        while running.is_set():
            if not (project / "models" / "stance" / "MLmodel").is_file():
                missing.append(time.monotonic())
            time.sleep(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    dvc = subprocess.Popen([str(VENV_BIN / "dvc"), "repro"], cwd=project, env=environment(),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    parent, deadline = psutil.Process(dvc.pid), time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            stage = stage_process(parent, module)
            if stage is not None and signalled_when_ready(stage, project, ready, sig):
                break
            if dvc.poll() is not None:
                pytest.fail(f"dvc repro ended before {module} could be interrupted:\n{dvc.stdout.read()[-3000:]}")
            time.sleep(0.02)
        else:
            pytest.fail(f"{module} never reached the point to interrupt it")
        output, _ = dvc.communicate(timeout=timeout)
    finally:
        running.clear()
        watcher.join()
        if dvc.poll() is None:
            os.killpg(dvc.pid, signal.SIGKILL)
    return dvc.returncode, output, bool(missing)


def signalled_when_ready(stage: psutil.Process, project: Path, ready, sig) -> bool:
    """Sends `sig` if `ready(project)`, looking while the stage is stopped (SIGSTOP): a quick stage cannot pass the
    point between the look and the signal. A look that fails (the stopped stage holds the store's lock) is retried
    at the next poll."""
    try:
        stage.suspend()
    except psutil.NoSuchProcess:
        return False
    try:
        if not ready(project):
            return False
        stage.send_signal(sig)
        return True
    except mlflow.exceptions.MlflowException as error:  # the store's OperationalError, as MLflow raises it
        if error.error_code != "TEMPORARILY_UNAVAILABLE":
            raise
        return False
    finally:
        with contextlib.suppress(psutil.NoSuchProcess):
            stage.resume()


def building_export(project: Path) -> bool:
    """Export has started writing the new model folder beside the old one."""
    return any((project / "models").glob(".stance.*.tmp"))


@functools.cache
def store_client(project: Path) -> mlflow.MlflowClient:
    """One client per project: opening the SQLite store takes long enough (a schema check) for a quick export
    to finish between the check and the kill."""
    return mlflow.MlflowClient(f"sqlite:///{project / 'mlflow.db'}")


def registering(project: Path) -> bool:
    """Export is building the new model and has the pipeline's MLflow run open (logging the model)."""
    client = store_client(project)  # opened on the first look, before export starts its model folder
    if not building_export(project):
        return False
    run_id = json.loads((project / "reports" / "mlflow_run.json").read_text())["run_id"]
    return client.get_run(run_id).info.status == "RUNNING"


def python(project: Path, code: str) -> subprocess.CompletedProcess:
    """Run a stage (or what a stage does first) in its own process, as DVC would."""
    return subprocess.run([str(VENV_BIN / "python"), "-c", code], cwd=project, env=environment(),
                          capture_output=True, text=True)


def dvc_repro(project: Path, *targets: str) -> None:
    done = subprocess.run([str(VENV_BIN / "dvc"), "repro", *targets], cwd=project, env=environment(),
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def test_a_killed_train_keeps_the_candidate(project):
    before = folder_hash(project / "models" / "candidate")
    code, output, _ = kill_stage_when(project, "pipeline.train", lambda _: True)
    assert code != 0, output
    assert folder_hash(project / "models" / "candidate") == before


def test_a_killed_export_keeps_the_model_and_its_run_is_closed_as_killed(project):
    before_model = folder_hash(project / "models" / "stance")
    before_report = (project / "reports" / "export.json").read_text()
    code, output, ever_missing = kill_stage_when(project, "pipeline.export", registering)
    assert code != 0, output
    assert not ever_missing, "models/stance vanished while DVC retrained and exported"
    assert folder_hash(project / "models" / "stance") == before_model
    assert (project / "reports" / "export.json").read_text() == before_report
    assert list((project / "models").glob(".stance.*.tmp")), "the kill leaves the writer's temp folder"
    killed = json.loads((project / "reports" / "mlflow_run.json").read_text())["run_id"]
    client = mlflow.MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    assert client.get_run(killed).info.status == "RUNNING"  # nobody could end it

    started = python(project, "from pipeline import tracking; from pipeline.config import load_params, project_root;"
                              "tracking.configure(load_params(), project_root())")  # what every stage does first
    assert started.returncode == 0, started.stderr
    assert client.get_run(killed).info.status == "KILLED"

    dvc_repro(project)
    assert not list((project / "models").glob(".stance.*.tmp")), "the next export removes the leftovers"
    assert folder_hash(project / "models" / "stance") != before_model


KILL_AT_COMPLETE = """
import os, signal, mlflow
from pipeline.errors import run_cli
from pipeline.export import COMPLETE, main
real = mlflow.MlflowClient.set_model_version_tag
def tag(self, name, version, key, value):
    if value == COMPLETE:
        os.kill(os.getpid(), signal.SIGKILL)
    return real(self, name, version, key, value)
mlflow.MlflowClient.set_model_version_tag = tag
raise SystemExit(run_cli(main))
"""


def test_a_registration_killed_halfway_leaves_a_version_tagged_incomplete_and_without_alias(project):
    from pipeline.export import INCOMPLETE, STATUS_TAG

    dvc_repro(project, "evaluate")
    before_model = folder_hash(project / "models" / "stance")
    killed = python(project, KILL_AT_COMPLETE)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert folder_hash(project / "models" / "stance") == before_model
    client = mlflow.MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    name = "stance-south_ossetia_referendum"
    def newest_version():  # search results carry no aliases: read the version itself
        found = max(client.search_model_versions(f"name='{name}'"), key=lambda v: int(v.version))
        return client.get_model_version(name, found.version)

    killed = newest_version()
    assert killed.tags[STATUS_TAG] == INCOMPLETE and not killed.aliases

    dvc_repro(project)
    assert not client.get_model_version(name, killed.version).aliases
    latest = newest_version()
    assert int(latest.version) == int(killed.version) + 1 and latest.tags[STATUS_TAG] == "complete"
    assert latest.aliases == ["candidate"]  # macro-F1 below the champion's


INTERRUPT_WHILE_LOGGING = """
import os, signal
import pipeline.evaluate as evaluate
from pipeline.errors import run_cli
def log_to_mlflow(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while the results go to MLflow
evaluate.log_to_mlflow = log_to_mlflow
raise SystemExit(run_cli(evaluate.main))
"""


def test_ctrl_c_while_evaluate_logs_to_mlflow_changes_no_file(project):
    dvc_repro(project, "train")
    names = ("metrics.json", "errors.csv", "plots/confusion.csv", "plots/confusion.png")
    before = {name: (project / "reports" / name).read_bytes() for name in names}
    interrupted = python(project, INTERRUPT_WHILE_LOGGING)
    assert interrupted.returncode == 130 and "left as they were" in interrupted.stderr
    assert {name: (project / "reports" / name).read_bytes() for name in names} == before
    assert not list(project.glob(".reports.*.tmp"))
