"""The serving edge in process (`pipeline.serving.server.create_app` on a tiny exported model):
payloads that made MLflow's app answer 500, the body size limit, error replies that quote the
request back, and work for a request nobody waits for any more.

The same app under uvicorn, with real sockets and a real client leaving, is in test_serving.py (slow).
"""
from __future__ import annotations

import asyncio
import json
import threading

import mlflow
import pytest
from starlette.testclient import TestClient

from helpers import EXAMPLES
from pipeline.serving import server

LIMIT = 1_000_000  # the body limit these tests serve with (the default is larger: server.DEFAULT_MAX_BODY_MB)
JSON = {"Content-Type": "application/json"}
GOOD = json.dumps({"inputs": [EXAMPLES[0][0]]}).encode()


@pytest.fixture
def model_path(exported, monkeypatch):
    path = exported[0] / "stance"
    monkeypatch.setenv(server.MODEL_ENV, str(path))
    monkeypatch.setenv(server.MAX_BODY_ENV, str(LIMIT))
    return path


@pytest.fixture
def client(model_path):
    with TestClient(server.create_app(), raise_server_exceptions=False) as test_client:
        yield test_client


def answered(response) -> tuple[int, str]:
    """Status and message of a reply (MLflow's own 415s are plain text)."""
    try:
        return response.status_code, json.loads(response.content).get("message", "")
    except ValueError:
        return response.status_code, response.text


@pytest.mark.parametrize("headers, message", [
    ({}, "no Content-Type"),
    ({"Content-Type": "text/plain"}, "content types"),
    ({"Content-Type": "application/json; charset=latin-1"}, "UTF-8"),
])
def test_a_post_without_or_with_a_wrong_content_type_is_a_415(client, headers, message):
    status, text = answered(client.post("/invocations", content=GOOD, headers=headers))
    assert status == 415 and message in text
    assert client.post("/invocations", content=GOOD, headers=JSON).status_code == 200


def test_an_integer_too_long_to_parse_is_a_400(client):
    body = b'{"inputs": [{"text": "fine", "speaker": ' + b"7" * 5001 + b"}]}"
    status, text = answered(client.post("/invocations", content=body, headers=JSON))
    assert status == 400 and "4300 digits" in text


def test_a_body_over_the_limit_is_a_413(client):
    rows = [{"text": "a quote of fair length " * 20}] * 2_500  # 1.2 MB, every row within the contract
    status, text = answered(client.post("/invocations", content=json.dumps({"inputs": rows}).encode(),
                                        headers=JSON))
    assert status == 413 and f"over the limit of {LIMIT:,} bytes" in text


def asgi_request(body: bytes, headers: dict[str, str], leave_after: float | None = None):
    """An ASGI scope, the list of messages the app sends, receive() and send() for a client that
    sends `body` and then waits for the reply, or leaves `leave_after` seconds after sending (None: it stays)."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": "/invocations", "raw_path": b"/invocations", "query_string": b"",
             "root_path": "", "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 5001),
             "headers": [(name.lower().encode(), value.encode()) for name, value in headers.items()]}
    sent: list[dict] = []
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict:
        if pending:
            return pending.pop(0)
        waited = 0.0
        while leave_after is None or waited < leave_after:  # as uvicorn: disconnect once the reply is sent
            if any(message["type"] == "http.response.body" and not message.get("more_body") for message in sent):
                break
            await asyncio.sleep(0.01)
            waited += 0.01
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    return scope, sent, receive, send


@pytest.mark.parametrize("declared, expect, chunks_read", [
    (51 * 2**20, "100-continue", 0),    # the client waits for the go-ahead: answered at once
    (51 * 2**20, None, 51),             # received and dropped, so a client that sends first sees the 413
    (200 * 2**20, None, 0),             # more than server.DRAIN_BYTES: answered at once
])
def test_a_body_over_the_limit_is_a_413_and_never_kept_nor_parsed(model_path, exported, monkeypatch,
                                                                 declared, expect, chunks_read):
    scored = count_scored_rows(exported, monkeypatch)
    headers = {"Content-Type": "application/json", "Content-Length": str(declared),
               **({"Expect": expect} if expect else {})}
    scope, sent, _, send = asgi_request(b"", headers)
    chunk, read = b"[" * 2**20, [0]

    async def receive() -> dict:
        read[0] += 1
        return {"type": "http.request", "body": chunk, "more_body": read[0] * len(chunk) < declared}

    asyncio.run(server.create_app()(scope, receive, send))
    assert (sent[0]["status"], read[0], scored[0]) == (413, chunks_read, 0)
    assert f"request body is {declared:,} bytes or more, over the limit of {LIMIT:,} bytes" in sent[1]["body"].decode()


@pytest.mark.parametrize("body", [
    json.dumps({"inputs": [{"text": "x" * 300_000}]}).encode(),                   # over the 20,000 characters
    json.dumps({"inputs": [{"text": "fine", "speaker": ["y" * 300_000]}]}).encode(),  # a wrong type
    json.dumps({"inputs": [{"text": "fine", "z" * 300_000: "an unknown field"}]}).encode(),
    b'{"inputs": [{"text": "unclosed ' + b"w" * 300_000,                           # malformed JSON
    b'{"inputs": [{"text": "not UTF-8 \xff' + b"v" * 300_000 + b'"}]}',
    json.dumps({"inputs": {"text": ["u" * 300_000]}}).encode(),                    # columns, not rows
])
def test_error_replies_quote_at_most_a_short_prefix_of_the_input(client, body):
    response = client.post("/invocations", content=body, headers=JSON)
    assert 400 <= response.status_code < 500 and len(response.content) < 1_000, response.content[:2000]


def test_work_for_a_request_whose_client_left_is_abandoned(exported, model_path, monkeypatch):
    """A client that sends a large batch and leaves: the rows after the next chunk are never classified."""
    scored = count_scored_rows(exported, monkeypatch)
    rows = [{**example, "text": f"{example['text']} ({index})"}
            for index, (example, _) in enumerate(EXAMPLES * 1_000)]  # 6,000 rows, 0.5 MB
    scope, _, receive, send = asgi_request(json.dumps({"inputs": rows}).encode(), JSON, leave_after=0)
    asyncio.run(run_then_wait(server.create_app(), scope, receive, send))
    assert 0 <= scored[0] <= len(rows) // 2


def test_work_for_a_request_that_timed_out_is_abandoned(exported, model_path, monkeypatch):
    """MLflow's request timeout answers 504 but leaves the prediction thread running: it stops too."""
    scored = count_scored_rows(exported, monkeypatch, seconds_per_call=0.2)
    monkeypatch.setenv("MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT", "1")
    rows = [{"text": "a quote of fair length " * 40}] * 1_000  # 0.9 MB: several chunks of 0.2 s or more
    scope, sent, receive, send = asgi_request(json.dumps({"inputs": rows}).encode(), JSON)
    asyncio.run(run_then_wait(server.create_app(), scope, receive, send, wait=2.0))
    assert sent[0]["status"] == 504
    assert scored[0] < len(rows)


def count_scored_rows(exported, monkeypatch, seconds_per_call: float = 0.0) -> list[int]:
    """Count the rows the classifier scores (in any thread), each call taking at least `seconds_per_call`."""
    classifier_class = type(mlflow.pyfunc.load_model(str(exported[0] / "stance")).unwrap_python_model().classifier)
    real = classifier_class.predict_proba
    scored, lock = [0], threading.Lock()

    def predict_proba(self, examples):
        threading.Event().wait(seconds_per_call)
        with lock:
            scored[0] += len(examples)
        return real(self, examples)

    monkeypatch.setattr(classifier_class, "predict_proba", predict_proba)
    return scored


async def run_then_wait(app, scope, receive, send, wait: float = 1.5) -> None:
    """Serve one request, then let any thread still working on it run on for `wait` seconds."""
    await app(scope, receive, send)
    await asyncio.sleep(wait)
