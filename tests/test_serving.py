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

from conftest import REPO_ROOT, SEED_ARTICLE, VENV_BIN, exported_snapshot
from pipeline.speakers import speaker_stance
from pipeline.serving.contract import MAX_BATCH_ROWS

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
    """Start a server command on a free loopback port; yields its URL once /ping answers."""
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
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def server(pipeline_project, tmp_path_factory):
    """The exported model served as `make serve` serves it (pipeline.serving.server; one worker here)."""
    yield from serving([str(VENV_BIN / "python"), "-m", "pipeline.serving.server", "--workers", "1",
                        "--model", str(exported_snapshot(pipeline_project))],
                       tmp_path_factory.mktemp("serve") / "serve.log")


@pytest.fixture(scope="module")
def mlflow_server(pipeline_project, tmp_path_factory):
    """The same model under plain `mlflow models serve`."""
    yield from serving([str(VENV_BIN / "mlflow"), "models", "serve", "-m", str(exported_snapshot(pipeline_project)),
                        "--env-manager", "local"], tmp_path_factory.mktemp("mlflow-serve") / "serve.log")


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
    (json.dumps({"inputs": [{"text": "word " * 1_000_000}]}).encode(), "longer than"),  # a 5 MB body
    (b'{"inputs": ' + b"[" * 500 + b"]" * 500 + b"}", "Failed to predict"),
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
                          cwd=tmp_path, capture_output=True, text=True, env={**os.environ, "CI": "true"})
    assert done.returncode == 0, done.stderr
    speakers = {row["speaker"]: row for row in map(json.loads, done.stdout.splitlines()) if row["scope"] == "article"}
    gold = gold_speaker_stances()
    assert {speaker: speakers[speaker]["stance"] for speaker in NAMED_SPEAKERS} == {
        speaker: gold[speaker] for speaker in NAMED_SPEAKERS}
    assert gold["Anatoly Bibilov"] == "support" and gold["Ned Price"] == "oppose"
    assert speakers["David Zalkaliani"]["quotes"] >= 3
    assert all(row["article_id"] == SEED_ARTICLE.stem for row in speakers.values())


DEEP_JSON = b'{"inputs": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"


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
