"""Shared fixtures: the project root, ../shared, and an environment with no network access:
the hubs are offline by environment, and a guard fails any test whose process opens a socket
to a non-loopback address (subprocesses get the offline environment only)."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from helpers import (
    EXAMPLES,
    REPO_ROOT,
    SHARED,
    VENV_BIN,
    exported_snapshot,
    first_run_snapshot,
    is_loopback,
    make_command,
    project_copy,
    run_pipeline,
    second_run,
)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch):
    """Fail the test if anything in this process connects a socket off the machine.

    The attempt is refused with an OSError (what an offline machine gives) and recorded, so code
    that catches the error and carries on still fails the test.
    """
    attempts: list[str] = []
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def guard(real):
        def connect(self, address):
            if self.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(address):
                attempts.append(repr(address))
                raise ConnectionRefusedError(f"network access blocked in tests: {address!r}")
            return real(self, address)
        return connect

    monkeypatch.setattr(socket.socket, "connect", guard(real_connect))
    monkeypatch.setattr(socket.socket, "connect_ex", guard(real_connect_ex))
    yield
    if attempts:
        pytest.fail(f"the test tried to reach the network: {', '.join(attempts)}")


@pytest.fixture
def shared() -> Path:
    """../shared beside the project (CI has it too); tests that need it skip without it."""
    if not SHARED.is_dir():
        pytest.skip("../shared is not present")
    return SHARED


@pytest.fixture
def in_repo(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run with the project root as the current folder (stages find params.yaml there)."""
    monkeypatch.chdir(REPO_ROOT)
    monkeypatch.delenv("DVC_ROOT", raising=False)
    return REPO_ROOT


@pytest.fixture
def make_quote():
    """Build a Quote from a text and whatever else a test cares about (id from the text)."""
    from pipeline.records import Quote, quote_id

    def build(text: str, *, article_id: str = "a1", speaker: str | None = None, sentence: str | None = None,
              speaker_mention: str | None = None, speaker_role: str | None = None, start: int = 0) -> Quote:
        return Quote(id=quote_id(article_id, text), article_id=article_id, text=text, kind="direct",
                     cue="said", speaker=speaker, speaker_mention=speaker_mention or speaker,
                     speaker_role=speaker_role, start=start, end=start + len(text),
                     sentence=sentence if sentence is not None else text)

    return build


@pytest.fixture(scope="session")
def pipeline_project(tmp_path_factory) -> Path:
    """The committed and untracked-but-not-ignored files, in a new git repo, after one `make pipeline`.

    Shared by the slow end-to-end, export and serving tests (the pipeline runs once per session);
    `<project>.exported` keeps a copy of models/stance as the first run wrote it, for tests that
    must not see what later tests do to the project.
    """
    copy = project_copy(tmp_path_factory.mktemp("project"))
    # A second clean copy runs alongside on the other core, for the reproducibility test
    # (tests/test_reliability.py): same outputs from another folder, at little extra wall time.
    second = project_copy(second_run(copy))
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}", "CI": "true"}
    env.pop("DVC_ROOT", None)
    env.pop("MLFLOW_TRACKING_URI", None)
    with (second / "run.log").open("w") as log:
        alongside = subprocess.Popen(make_command("pipeline"),
                                     cwd=second, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        first = run_pipeline(copy)
    finally:
        alongside.wait()
    (second / "run.returncode").write_text(str(alongside.returncode))
    copy.joinpath("first_run.log").write_text(first.stdout + first.stderr)
    shutil.copytree(copy / "models" / "stance", exported_snapshot(copy))
    first_run_snapshot(copy).mkdir()
    for name in ("dvc.lock", *(path.relative_to(copy).as_posix() for path in (copy / "reports").glob("*.json"))):
        (first_run_snapshot(copy) / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(copy / name, first_run_snapshot(copy) / name)
    return copy


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A small tfidf_logreg with speaker input, exported as the export stage does."""
    from pipeline.config import ModelConfig, load_params
    from pipeline.export import input_example, model_files, save_exported
    from pipeline.models import build_model

    folder = tmp_path_factory.mktemp("export")
    model = build_model(ModelConfig(name="tfidf_logreg", inputs=["text", "speaker"]), seed=0)
    model.fit([example for example, _ in EXAMPLES], [label for _, label in EXAMPLES])
    model.save(folder / "candidate")
    params = load_params(REPO_ROOT / "params.yaml")
    staging = folder / "staging"
    staging.mkdir()
    files = model_files(params, folder / "candidate", staging)
    example = input_example([{"text": e["text"], "speaker": e["speaker"]} for e, _ in EXAMPLES], params.target.name)
    save_exported(files, example, folder / "stance")
    return folder, params, files, example
