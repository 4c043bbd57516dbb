"""The model the pipeline exports: served over REST (documented payload, every bad payload a 4xx,
the server staying up) and `predict --article` on the seed agreeing with the gold annotations."""
from __future__ import annotations

import csv
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from helpers import REPO_ROOT, SEED_ARTICLE, VENV_BIN, exported_snapshot
from pipeline.serving.contract import MAX_BATCH_ROWS
from pipeline.speakers import speaker_stance

pytestmark = pytest.mark.slow
DOCUMENTED_PAYLOAD = {"inputs": [
    {"text": "Such a referendum will have no legal force", "speaker": "David Zalkaliani",
     "speaker_role": "Georgian Foreign Minister"},
    {"text": "The unification with Russia is our strategic goal", "speaker": "Anatoly Bibilov"},
]}
NAMED_SPEAKERS = ("Anatoly Bibilov", "David Zalkaliani", "Ned Price", "Dmitry Peskov", "Valery Kvarchia")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def post(url: str, body: bytes) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def serving(command: list[str], log: Path):
    """Start a server command on a free loopback port; yields its URL and process id once /ping answers."""
    port = free_port()
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}
    with log.open("w") as handle:
        process = subprocess.Popen([*command, "--host", "127.0.0.1", "--port", str(port)],
                                   stdout=handle, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                with urllib.request.urlopen(f"{url}/ping", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"server did not start:\n{log.read_text()[-3000:]}")
            time.sleep(1)
        yield url, process.pid
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def served(pipeline_project, tmp_path_factory):
    """The exported model served as `make serve` serves it (pipeline.serving.server; one worker here):
    its URL and process id (the only process: uvicorn runs one worker in-process)."""
    yield from serving([str(VENV_BIN / "python"), "-m", "pipeline.serving.server", "--workers", "1",
                        "--model", str(exported_snapshot(pipeline_project))],
                       tmp_path_factory.mktemp("serve") / "serve.log")


@pytest.fixture(scope="module")
def server(served) -> str:
    return served[0]


@pytest.fixture(scope="module")
def mlflow_server(pipeline_project, tmp_path_factory):
    """The same model under plain `mlflow models serve`."""
    for url, _ in serving([str(VENV_BIN / "mlflow"), "models", "serve", "-m",
                           str(exported_snapshot(pipeline_project)), "--env-manager", "local"],
                          tmp_path_factory.mktemp("mlflow-serve") / "serve.log"):
        yield url


def test_documented_payload_gets_a_label_and_scores_per_quote(server):
    status, body = post(f"{server}/invocations", json.dumps(DOCUMENTED_PAYLOAD).encode())
    assert status == 200, body
    predictions = body["predictions"]
    assert [p["label"] for p in predictions] == ["oppose", "support"]
    for prediction in predictions:
        assert set(prediction["scores"]) == {"support", "oppose", "neutral"}
        assert sum(prediction["scores"].values()) == pytest.approx(1, abs=1e-4)


@pytest.mark.parametrize("body, message", [
    (b'{"inputs": [{"text": "unclosed', "valid JSON"),
    (json.dumps({"inputs": [{"speaker": "Ned Price"}]}).encode(), "text"),
    (json.dumps({"inputs": [{"text": 42}]}).encode(), "valid string"),
    (json.dumps({"inputs": [{"text": ["a", "list"]}]}).encode(), "valid string"),
    (json.dumps({"inputs": [{"text": ""}]}).encode(), "text is empty"),
    (json.dumps(["a bare list"]).encode(), "inputs"),
    (json.dumps({"inputs": [{"text": "x"}] * (MAX_BATCH_ROWS + 1)}).encode(), "batch larger than"),
    (json.dumps({"inputs": [{"text": "word " * 5_000}]}).encode(), "longer than"),
    (json.dumps({"inputs": [{"text": "word " * 1_000_000}]}).encode(), "over the limit"),  # a 5 MB body: 413
    (b'{"inputs": ' + b"[" * 500 + b"]" * 500 + b"}", "row 0: expected an object"),
    (b'{"inputs": [{"text": "fine", "speaker": ' + b"7" * 5001 + b"}]}", "too long to parse"),
])
def test_bad_payload_is_a_4xx_with_a_message_and_the_server_stays_up(server, body, message):
    status, answer = post(f"{server}/invocations", body)
    assert 400 <= status < 500, answer
    assert message in answer.get("message", ""), answer
    status, _ = post(f"{server}/invocations", json.dumps(DOCUMENTED_PAYLOAD).encode())
    assert status == 200


def gold_speaker_stances() -> dict[str, str]:
    """Each speaker's stance in the seed's gold annotations, aggregated by the same rule as --by-speaker."""
    quotes: dict[str, list[tuple[str, float]]] = {}
    with (REPO_ROOT / "data/annotations/south_ossetia_referendum.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            quotes.setdefault(row["speaker"], []).append((row["label"], 1.0))
    return {speaker: speaker_stance(pairs).label for speaker, pairs in quotes.items()}


def test_predict_article_by_speaker_matches_the_gold_stances(pipeline_project, tmp_path):
    done = subprocess.run([str(VENV_BIN / "python"), "-m", "pipeline.predict", "--article", str(SEED_ARTICLE),
                           "--by-speaker", "--model", str(exported_snapshot(pipeline_project))],
                          cwd=tmp_path, capture_output=True, text=True,
                          env={**os.environ, "CI": "true", "PYTHONPATH": str(REPO_ROOT)})  # this checkout
    assert done.returncode == 0, done.stderr
    speakers = {row["speaker"]: row for row in map(json.loads, done.stdout.splitlines()) if row["scope"] == "article"}
    gold = gold_speaker_stances()
    assert {speaker: speakers[speaker]["stance"] for speaker in NAMED_SPEAKERS} == {
        speaker: gold[speaker] for speaker in NAMED_SPEAKERS}
    assert gold["Anatoly Bibilov"] == "support" and gold["Ned Price"] == "oppose"
    assert speakers["David Zalkaliani"]["quotes"] >= 3
    assert all(row["article_id"] == SEED_ARTICLE.stem for row in speakers.values())


DEEP_JSON = b'{"inputs": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"


def test_a_post_without_content_type_is_a_415_and_the_server_stays_up(server):
    host, port = server.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=60) as connection:
        connection.sendall(http_request(json.dumps(DOCUMENTED_PAYLOAD).encode(), headers="Connection: close\r\n"))
        answer = read_until_closed(connection)  # headers and body may come in separate packets
    assert answer.startswith(b"HTTP/1.1 415 ") and b"no Content-Type" in answer
    assert post(f"{server}/invocations", json.dumps(DOCUMENTED_PAYLOAD).encode())[0] == 200


def read_until_closed(connection: socket.socket) -> bytes:
    chunks = []
    while chunk := connection.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def http_request(body: bytes, headers: str = "Content-Type: application/json\r\n") -> bytes:
    """A raw POST /invocations (to send no Content-Type, or leave before the answer)."""
    return (f"POST /invocations HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def test_a_51_mb_body_is_a_413_the_client_sees(server):
    """Sent whole before reading, as most clients do, on a connection the server closes after answering."""
    host, port = server.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=60) as connection:
        connection.sendall(http_request(b"[" * (51 * 2**20), "Content-Type: application/json\r\nConnection: close\r\n"))
        status_line = connection.recv(4096).split(b"\r\n")[0]
    assert status_line == b"HTTP/1.1 413 Request Entity Too Large"
    assert post(f"{server}/invocations", json.dumps(DOCUMENTED_PAYLOAD).encode())[0] == 200


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/PID/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_a_client_that_leaves_stops_costing_cpu(served):
    """3.2 MB of valid quotes (about 15 s of work) from a client that leaves after 2 s: the server works
    while the client waits and idles soon after it has gone (before: 100% CPU until the batch was
    done, minutes for a 51 MB batch). Compared as CPU rates, so a busy machine slows both alike."""
    url, pid = served
    words = "we will never accept this vote and the referendum has no legal force under any law".split()
    rows = [{"text": " ".join(words[(index + offset) % len(words)] for offset in range(700)), "speaker": "A B"}
            for index in range(900)]
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(http_request(json.dumps({"inputs": rows}).encode()))
        start = cpu_seconds(pid)
        time.sleep(3)
        busy = cpu_seconds(pid) - start
    time.sleep(1.5)  # the chunk under way when the client left
    start = cpu_seconds(pid)
    time.sleep(3)
    after = cpu_seconds(pid) - start
    assert busy > 0.3 and after < busy / 4, (busy, after)
    assert post(f"{url}/invocations", json.dumps(DOCUMENTED_PAYLOAD).encode())[0] == 200


def test_json_nested_too_deeply_is_a_400_and_the_server_stays_up(server):
    status, answer = post(f"{server}/invocations", DEEP_JSON)
    assert status == 400 and "nested too deeply" in answer["message"]
    assert post(f"{server}/invocations", json.dumps(DOCUMENTED_PAYLOAD).encode())[0] == 200


def test_plain_mlflow_models_serve_gives_the_same_answers(server, mlflow_server):
    """The exported folder needs nothing of ours to be served; only deeply nested JSON differs
    (MLflow's parser raises RecursionError: a 500 there, the server stays up)."""
    payload = json.dumps(DOCUMENTED_PAYLOAD).encode()
    assert post(f"{mlflow_server}/invocations", payload) == post(f"{server}/invocations", payload)
    status, answer = post(f"{mlflow_server}/invocations", json.dumps({"inputs": [{"text": 42}]}).encode())
    assert status == 400 and "valid string" in answer["message"]
    try:
        post(f"{mlflow_server}/invocations", DEEP_JSON)
    except json.JSONDecodeError:  # a plain-text 500 page
        pass
    assert post(f"{mlflow_server}/invocations", payload)[0] == 200
