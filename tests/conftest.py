"""Shared fixtures: the project root, ../shared, and an environment with no network access:
the hubs are offline by environment, and a guard fails any test whose process opens a socket
to a non-loopback address (subprocesses get the offline environment only)."""
from __future__ import annotations

import ipaddress
import os
import socket
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

LOOPBACK_NAMES = {"localhost", "ip6-localhost", "ip6-loopback"}


def is_loopback(address) -> bool:
    """True for a local (AF_UNIX) address or an IP socket address on the loopback interface."""
    if not isinstance(address, tuple):
        return True
    host = str(address[0]).split("%")[0]
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: resolving and reaching it is network access


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


REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"
SEED_ARTICLE = REPO_ROOT / "seeds" / "000_85df15e701a7a6da.txt"


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


VENV_BIN = Path(sys.executable).parent


def run(command: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    """Run a command as a user would in the project: the venv's bin first, quiet CI output."""
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}", "CI": "true"}
    env.pop("DVC_ROOT", None)
    env.pop("MLFLOW_TRACKING_URI", None)  # the project's own default store is what is under test
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return done


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
        alongside = subprocess.Popen(["make", "--no-print-directory", "pipeline", f"VENV={VENV_BIN.parent}"],
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


def second_run(project: Path) -> Path:
    """The copy that ran the pipeline alongside `pipeline_project` (see there)."""
    return project.with_name(project.name + ".second")


def project_copy(copy: Path) -> Path:
    """The committed and untracked-but-not-ignored files in `copy`, as a new git repo (a clean state)."""
    copy.mkdir(parents=True, exist_ok=True)
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO_ROOT,
                            capture_output=True, text=True, check=True).stdout.split("\0")
    for name in filter(None, listed):
        source = REPO_ROOT / name
        if source.is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name)
    run(["git", "init", "-q"], copy)
    run(["git", "add", "-A"], copy)
    run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "copy"], copy)
    return copy


def run_pipeline(project: Path) -> subprocess.CompletedProcess:
    return run(["make", "--no-print-directory", "pipeline", f"VENV={VENV_BIN.parent}"], project)


def exported_snapshot(project: Path) -> Path:
    return project.with_name(project.name + ".exported")


def first_run_snapshot(project: Path) -> Path:
    """dvc.lock and reports/*.json as the first run wrote them (later tests change the project)."""
    return project.with_name(project.name + ".first")


def special_files(folder: Path) -> dict[str, str]:
    """One path of each kind that is not a regular file, named like an article, in `folder`:
    {file name: the kind the refusal names}."""
    fifo = folder / "fifo.txt"
    os.mkfifo(fifo)
    (folder / "zero.txt").symlink_to("/dev/zero")
    (folder / "loop.txt").symlink_to(folder / "loop.txt")
    (folder / "gone.txt").symlink_to(folder / "nowhere.txt")
    (folder / "fifo-link.txt").symlink_to(fifo)
    return {"fifo.txt": "a FIFO", "zero.txt": "a character device", "loop.txt": "a symlink loop",
            "gone.txt": "a broken symlink", "fifo-link.txt": "a FIFO"}
