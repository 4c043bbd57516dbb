"""`make serve`: MLflow's own scoring server for the exported model, behind an edge that keeps
every bad request a 4xx, bounds what one request can cost, and stops work nobody waits for.

MLflow's app (`mlflow.pyfunc.scoring_server.init`) runs unchanged behind a small ASGI layer:
- a POST with no Content-Type gets a 415 (MLflow: a 500); other types are MLflow's to answer;
- a body over the size limit (`--max-body-mb`, default 4) gets a 413 and is never parsed nor
  kept: bytes past the limit are received and dropped (up to 64 MB, so that a client that reads
  no answer before it has sent its body sees the 413), and a body declared larger than that, or
  by a client that waits for `100 Continue`, is answered from its Content-Length at once;
- a JSON body is parsed here first. What Python's parser refuses other than as a syntax error
  (nesting deeper than about 1,000 levels, an integer of more than 4,300 digits: both a 500 from
  MLflow), malformed JSON, and rows the model's contract refuses get a 400 naming the problem,
  row and field, quoting at most 40 characters of a value;
- MLflow's own error replies (which quote the whole input back) get every quoted value cut to
  40 characters and the message to about 600;
- the model classifies a batch in chunks of about 100,000 characters (half a second for the
  default model); while MLflow works the edge watches the connection, and when the client leaves,
  or once any answer is sent (MLflow's 504 after its request timeout,
  MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT, default 60 s, leaves its prediction thread running), the
  request is marked abandoned and the work stops before the next chunk. Python cannot stop a
  thread from outside, so one chunk is what a request nobody waits for still costs.
Routes, payloads and good answers are MLflow's, so `mlflow models serve -m models/stance` remains
a drop-in alternative (without these guards).

    python -m pipeline.serving.server --model models/stance --port 5001 --workers 2 --max-body-mb 4
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
import threading
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from pipeline.errors import PipelineError, excerpt, run_cli
from pipeline.serving.contract import parse_requests

MODEL_ENV = "STANCE_SERVE_MODEL"
MAX_BODY_ENV = "STANCE_SERVE_MAX_BODY_BYTES"
# 10,000 quotes with speaker and role (the batch limit) take 1.3 MB; 4 MB of long quotes about 20 s of work.
DEFAULT_MAX_BODY_MB = 4.0
MAX_REPLY_CHARS = 600  # an error message from MLflow longer than this is cut (it quotes the input back)
# A quoted value longer than an excerpt (pipeline.errors.excerpt: 40 characters), in MLflow's error messages.
QUOTED = re.compile(r"'(?:[^'\\\n]|\\.){39,}'" "|" r'"(?:[^"\\\n]|\\.){39,}"')
DRAIN_BYTES = 64 * 2**20  # an oversized body up to this size is received (and dropped) before the 413
# A body this small is checked on the event loop, and is at most one chunk of work (CHUNK_CHARS):
# larger ones are checked in a thread, so that other requests go on, and their connection is watched.
SMALL_BODY_BYTES = 65_536
CHUNK_CHARS = 100_000  # the model classifies a batch in chunks of about this many characters
# Set by the edge for the request being answered; MLflow runs the model in a thread that inherits it.
ABANDONED: ContextVar[threading.Event | None] = ContextVar("stance_request_abandoned", default=None)

logger = logging.getLogger(__name__)

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class Refusal(Exception):
    """A request the edge answers itself: HTTP status, MLflow-style error code, message."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def check_content_type(content_type: str | None) -> bool:
    """True for a JSON body (which the edge checks); a missing type is refused, others go to MLflow."""
    if content_type is None or not content_type.strip():
        raise Refusal(415, "BAD_REQUEST", "request has no Content-Type: send the JSON body as application/json")
    return content_type.split(";")[0].strip().lower() == "application/json"


def check_json_body(body: bytes) -> None:
    """Refuse a JSON body that MLflow would answer with a 500 or by quoting it back: unparsable
    JSON, and `inputs` rows that the model's contract refuses."""
    try:
        payload = json.loads(body)
    except RecursionError:
        raise Refusal(400, "BAD_REQUEST", "request body: JSON nested too deeply "
                                          "(more than about 1,000 levels of [ or {)") from None
    except UnicodeDecodeError as error:
        raise Refusal(400, "BAD_REQUEST", f"request body: not UTF-8 ({error.reason} at byte {error.start})") from None
    except json.JSONDecodeError as error:
        raise Refusal(400, "BAD_REQUEST", f"request body: not valid JSON: {error.msg} (line {error.lineno}, "
                                          f"column {error.colno})") from None
    except ValueError as error:  # an integer longer than sys.get_int_max_str_digits()
        raise Refusal(400, "BAD_REQUEST", f"request body: a number too long to parse "
                                          f"({str(error).split(':')[0]})") from None
    if isinstance(payload, dict) and isinstance(payload.get("inputs"), list):
        try:
            parse_requests(payload["inputs"])
        except PipelineError as error:
            raise Refusal(400, "INVALID_PARAMETER_VALUE", str(error)) from None


def shortened(message: str) -> str:
    """An error message with every long quoted value cut to a short prefix, and at most MAX_REPLY_CHARS."""
    message = QUOTED.sub(lambda quoted: excerpt(quoted.group()), message)
    return excerpt(message, MAX_REPLY_CHARS)


def shortened_reply(body: bytes) -> bytes:
    """An error reply (MLflow's JSON or plain text) with its messages shortened."""
    try:
        reply = json.loads(body)
    except ValueError:
        return shortened(body.decode("utf-8", "replace")).encode()
    if not isinstance(reply, dict):
        return shortened(body.decode("utf-8", "replace")).encode()
    return json.dumps({key: shortened(value) if isinstance(value, str) else value
                       for key, value in reply.items()}).encode()


def row_chunks(rows: Sequence[Any], max_chars: int = CHUNK_CHARS) -> Iterator[Sequence[Any]]:
    """Consecutive chunks of a batch, each about `max_chars` characters of string values (at least one row)."""
    start, size = 0, 0
    for end, row in enumerate(rows, start=1):
        size += sum(len(value) for value in row.values() if isinstance(value, str)) if isinstance(row, dict) else 1
        if size >= max_chars:
            yield rows[start:end]
            start, size = end, 0
    if start < len(rows):
        yield rows[start:]


class RequestAbandoned(Exception):
    """Nobody waits for this request's answer any more: its client left, or it was answered already."""


class AbandonableModel:
    """The loaded pyfunc, as MLflow's app calls it: a batch of rows is predicted chunk by chunk, and
    the work stops before the next chunk once the edge marks the request abandoned. Any exported
    model works, whatever version of this project exported it."""

    def __init__(self, model: Any):
        self.model = model

    def __getattr__(self, name: str) -> Any:  # metadata and the rest: the model's own
        return getattr(self.model, name)

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        if not isinstance(data, list):
            return self.model.predict(data, params=params)
        out: list[Any] = []
        for chunk in row_chunks(data):
            abandoned = ABANDONED.get()
            if abandoned is not None and abandoned.is_set():
                logger.warning("request abandoned (its client left or it was answered): stopped after "
                               "%d of %d rows", len(out), len(data))
                raise RequestAbandoned(f"stopped after {len(out)} of {len(data)} rows")
            out.extend(self.model.predict(chunk, params=params))
        return out


def reply(status: int, code: str, message: str) -> list[dict[str, Any]]:
    """The ASGI messages of a JSON error reply in MLflow's format."""
    body = json.dumps({"error_code": code, "message": message}).encode()
    return [{"type": "http.response.start", "status": status,
             "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]},
            {"type": "http.response.body", "body": body}]


class ServingEdge:
    """ASGI middleware in front of MLflow's app: see the module docstring. GETs pass straight through."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], max_body_bytes: int):
        self.app, self.max_body_bytes = app, max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        headers = {name.lower(): value.decode("latin-1") for name, value in scope.get("headers", [])}
        try:
            is_json = check_content_type(headers.get(b"content-type"))
            declared = headers.get(b"content-length", "").strip()
            if declared.isdigit() and int(declared) > self.max_body_bytes and (
                    int(declared) > DRAIN_BYTES or headers.get(b"expect", "").lower() == "100-continue"):
                raise self.too_large(int(declared))  # answered at once: the client is waiting, or must lose
            body = await self.read_body(receive)
            if body is None:  # the client left while sending
                return
            if is_json and len(body) > SMALL_BODY_BYTES:  # 10,000 rows take 0.2 s: not on the event loop
                await asyncio.to_thread(check_json_body, body)
            elif is_json:
                check_json_body(body)
        except Refusal as refusal:
            for message in reply(refusal.status, refusal.code, refusal.message):
                await send(message)
            return
        await self.answer(scope, body, receive, send)

    def too_large(self, size: int) -> Refusal:
        return Refusal(413, "REQUEST_LIMIT_EXCEEDED", f"request body is {size:,} bytes or more, over the limit "
                       f"of {self.max_body_bytes:,} bytes (--max-body-mb): send smaller batches")

    async def read_body(self, receive: Receive) -> bytes | None:
        """The whole body, or None if the client left. Past the limit the rest is received and dropped,
        unparsed and unkept, and then answered with a 413: most clients read no answer before they
        have sent their body, and the server closes a `Connection: close` request as soon as it has
        answered, so an earlier 413 would reach them as a reset connection. Past DRAIN_BYTES, the
        413 goes at once."""
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk, more = message.get("body", b""), message.get("more_body", False)
            size += len(chunk)
            if size <= self.max_body_bytes:
                chunks.append(chunk)
            elif size > DRAIN_BYTES:
                raise self.too_large(size)
        if size > self.max_body_bytes:
            raise self.too_large(size)
        return b"".join(chunks)

    async def answer(self, scope: Scope, body: bytes, receive: Receive, send: Send) -> None:
        """Let MLflow answer, marking the request abandoned when the client leaves or an answer is sent.
        A small body is at most one chunk of work, with nothing to abandon: its connection is not watched."""
        abandoned, gone = threading.Event(), asyncio.Event()

        async def watch() -> None:  # the only reader of the connection from here on
            while (await receive())["type"] != "http.disconnect":
                pass
            abandoned.set()
            gone.set()

        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            if watcher is None:
                return await receive()
            await gone.wait()
            return {"type": "http.disconnect"}

        error_start: dict[str, Any] | None = None
        error_body: list[bytes] = []

        async def send_shortened(message: dict[str, Any]) -> None:
            nonlocal error_start
            if message["type"] == "http.response.start" and message["status"] >= 400:
                error_start = message
                return
            if error_start is None or message["type"] != "http.response.body":
                await send(message)
                return
            error_body.append(message.get("body", b""))
            if not message.get("more_body", False):
                short = shortened_reply(b"".join(error_body))
                headers = [(name, value) for name, value in error_start.get("headers", [])
                           if name.lower() != b"content-length"]
                await send({**error_start, "headers": [*headers, (b"content-length", str(len(short)).encode())]})
                await send({"type": "http.response.body", "body": short})

        watcher = asyncio.create_task(watch()) if len(body) > SMALL_BODY_BYTES else None
        token = ABANDONED.set(abandoned)
        try:
            await self.app(scope, replay, send_shortened)
        finally:
            abandoned.set()  # answered (or failed): any work still running for it is for nobody
            ABANDONED.reset(token)
            if watcher is not None:
                watcher.cancel()


def create_app() -> ServingEdge:
    """The app uvicorn runs in each worker: the model named by $STANCE_SERVE_MODEL behind the edge."""
    import mlflow
    from mlflow.pyfunc.scoring_server import init

    max_body_bytes = int(os.environ.get(MAX_BODY_ENV, DEFAULT_MAX_BODY_MB * 2**20))
    return ServingEdge(init(AbandonableModel(mlflow.pyfunc.load_model(os.environ[MODEL_ENV]))), max_body_bytes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.serving.server", description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=Path("models/stance"), help="exported model folder")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5001)
    parser.add_argument("--workers", type=int, default=2, help="server processes (each loads the model)")
    parser.add_argument("--max-body-mb", type=float, default=DEFAULT_MAX_BODY_MB,
                        help="larger request bodies get a 413, unread (MB = 2**20 bytes)")
    args = parser.parse_args(argv)
    if not (args.model / "MLmodel").is_file():
        raise PipelineError("no exported model here (no MLmodel file): run `make repro` first", path=args.model)
    if args.workers < 1:
        raise PipelineError("must be at least 1", field="--workers")
    if args.max_body_mb <= 0:
        raise PipelineError("must be more than 0", field="--max-body-mb")
    import uvicorn

    os.environ[MODEL_ENV] = str(args.model.resolve())
    os.environ[MAX_BODY_ENV] = str(int(args.max_body_mb * 2**20))
    uvicorn.run("pipeline.serving.server:create_app", factory=True, host=args.host, port=args.port,
                workers=args.workers)
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
