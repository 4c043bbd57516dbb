"""What tests share besides fixtures: the project's paths, running commands as a user would, copies of
the project, and paths that are not regular files. Fixtures are in conftest.py."""
from __future__ import annotations

import contextlib
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"
SEED_ARTICLE = REPO_ROOT / "seeds" / "000_85df15e701a7a6da.txt"


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
    return run(make_command("pipeline"), project)


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


# A tiny training set in the seed's vocabulary (the `exported` fixture's model).
EXAMPLES = [
    ({"text": "We will hold the referendum on joining Russia", "speaker": "Anatoly Bibilov"}, "support"),
    ({"text": "Unification with Russia is our strategic goal", "speaker": "Anatoly Bibilov"}, "support"),
    ({"text": "Such a referendum is illegal and has no legal force", "speaker": "David Zalkaliani"}, "oppose"),
    ({"text": "We will never recognize the results of this vote", "speaker": "Ned Price"}, "oppose"),
    ({"text": "No legal steps have been taken on the matter", "speaker": "Dmitry Peskov"}, "neutral"),
    ({"text": "There is no issue of Abkhazia joining Russia", "speaker": "Valery Kvarchia"}, "neutral"),
]


def make_command(target: str, *variables: str) -> list[str]:
    """`make <target>` in a copy of the project with this project's venv, which it never reinstalls (SETUP=no:
    an install from the copy would point the venv's editable `pipeline` at the copy, gone after the test)."""
    return ["make", "--no-print-directory", target, *variables, f"VENV={VENV_BIN.parent}", "SETUP=no"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def make_server(target: str, port_variable: str, cwd: Path, *variables: str) -> Iterator[str]:
    """`make <target>` (a server: `make ui`, `make mlflow-server`) on a free port, up once its /health answers;
    stopped with its workers at the end. Yields its base URL."""
    port = free_port()
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}
    env.pop("MLFLOW_TRACKING_URI", None)
    process = subprocess.Popen(make_command(target, f"{port_variable}={port}", *variables), cwd=cwd, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):  # a hang guard: the server's workers import MLflow, slow on a busy CPU
            try:
                urllib.request.urlopen(f"{url}/health", timeout=2)
                break
            except OSError:
                assert process.poll() is None, f"make {target} exited"
                time.sleep(1)
        else:
            raise AssertionError(f"make {target} did not answer within 5 minutes")
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=20)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # the server's workers, if the parent left them
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
