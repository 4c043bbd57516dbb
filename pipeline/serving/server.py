"""`make serve`: MLflow's own scoring server for the exported model, plus the one check it lacks.

MLflow's server parses the request body itself, and JSON nested deeper than Python's parser
allows (about 1,000 levels) raises RecursionError there, which it answers with a 500. This runs
the same app (`mlflow.pyfunc.scoring_server.init`) behind a small ASGI layer that answers such a
body with a 400 naming the problem before MLflow sees it. Routes, payloads and every other
answer are MLflow's, so `mlflow models serve -m models/stance` remains a drop-in alternative.

    python -m pipeline.serving.server --model models/stance --port 5001 --workers 2
"""
from __future__ import annotations

import argparse
import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from pipeline.errors import PipelineError, run_cli

MODEL_ENV = "STANCE_SERVE_MODEL"
# A body with fewer brackets than this cannot nest deeper than the parser allows: skip the check.
NESTING_CHECK_BRACKETS = 500

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def nesting_error(body: bytes) -> str | None:
    """Why `body` cannot be parsed for being nested too deeply, or None (also for other bad JSON,
    which MLflow answers with a 400 itself)."""
    if body.count(b"[") + body.count(b"{") < NESTING_CHECK_BRACKETS:
        return None
    try:
        json.loads(body)
    except RecursionError:
        return "request body: JSON nested too deeply (more than about 1,000 levels of [ or {)"
    except ValueError:
        pass
    return None


class RejectDeepJson:
    """ASGI middleware: a POST whose JSON body nests too deeply gets a 400, the rest pass through."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        chunks, more = [], True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        problem = nesting_error(body)
        if problem is not None:
            answer = json.dumps({"error_code": "BAD_REQUEST", "message": problem}).encode()
            await send({"type": "http.response.start", "status": 400,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(answer)).encode())]})
            await send({"type": "http.response.body", "body": answer})
            return
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def create_app() -> RejectDeepJson:
    """The app uvicorn runs in each worker: the model named by $STANCE_SERVE_MODEL."""
    import mlflow
    from mlflow.pyfunc.scoring_server import init

    return RejectDeepJson(init(mlflow.pyfunc.load_model(os.environ[MODEL_ENV])))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.serving.server", description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=Path("models/stance"), help="exported model folder")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5001)
    parser.add_argument("--workers", type=int, default=2, help="server processes (each loads the model)")
    args = parser.parse_args(argv)
    if not (args.model / "MLmodel").is_file():
        raise PipelineError("no exported model here (no MLmodel file): run `make repro` first", path=args.model)
    if args.workers < 1:
        raise PipelineError("must be at least 1", field="--workers")
    import uvicorn

    os.environ[MODEL_ENV] = str(args.model.resolve())
    uvicorn.run("pipeline.serving.server:create_app", factory=True, host=args.host, port=args.port,
                workers=args.workers)
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
