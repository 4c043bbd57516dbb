"""Where a stage's per-record work runs: `local` (this process) or `ray` (pipeline/ray_engine.py).

A stage hands over a *worker*: a class built once per process, where it loads what it needs (spaCy,
the exported model), then called with numbered lines of a JSON Lines file; it returns one Outcome
per non-blank line, in line order: the line's output, or its error as data. The local engine builds
the worker in the stage's process and gives it every line at once (`file_lines`), so spaCy's
`n_process` and batching work as before; the Ray engine runs the same worker in actors on a cluster
over batches of lines and hands the outcomes back in line order. Same worker, same records, same
order; `outputs` then stops at the first error in one line, or skips and lists it (`on_error: skip`).
"""
from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal, Protocol

from pipeline.config import RayConfig
from pipeline.errors import PipelineError

NumberedLines = Iterable[tuple[int, bytes]]  # (line number from 1, the line's bytes without its newline)


@dataclass(frozen=True)
class Outcome:
    """What a worker made of one line: its output (JSON-able), or the error that stopped it, as data
    (`error_data`) so that it crosses process boundaries unchanged."""

    line: int
    output: Any = None
    error: dict[str, Any] | None = None


class Worker(Protocol):
    def __call__(self, lines: NumberedLines) -> list[Outcome]: ...


def error_data(error: PipelineError) -> dict[str, Any]:
    return {"message": error.message, "path": None if error.path is None else str(error.path),
            "line": error.line, "field": error.field}


def error_of(data: dict[str, Any]) -> PipelineError:
    return PipelineError(data["message"], path=data["path"], line=data["line"], field=data["field"])


def numbered_lines(chunks: Iterable[bytes]) -> Iterator[tuple[int, bytes]]:
    """(line number from 1, the line without its newline) of a file whose bytes arrive in `chunks`: one reading
    of lines for both engines, undecoded (the worker decodes and parses, naming the line in its errors)."""
    number, pending = 0, b""
    for chunk in chunks:
        *complete, pending = (pending + chunk).split(b"\n")
        for raw in complete:
            number += 1
            yield number, raw
    if pending:
        yield number + 1, pending


def file_chunks(handle: BinaryIO, size: int = 1 << 20) -> Iterator[bytes]:
    return iter(lambda: handle.read(size), b"")


def file_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """The local engine's read of `path`: its numbered lines."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise PipelineError("file not found (has the previous stage run?)", path=path) from None
    with handle:
        yield from numbered_lines(file_chunks(handle))


def outputs(outcomes: Iterable[Outcome], on_error: Literal["fail", "skip"] = "fail",
            skipped: list[dict[str, Any]] | None = None) -> Iterator[Any]:
    """The outputs in line order. An error stops the stage (`fail`), or is listed in `skipped` as
    {line, error} and on stderr (`skip`)."""
    for outcome in outcomes:
        if outcome.error is None:
            yield outcome.output
            continue
        error = error_of(outcome.error)
        if on_error == "fail":
            raise error
        if skipped is not None:
            skipped.append({"line": outcome.line, "error": str(error)})
        print(f"  skipped: {error}", file=sys.stderr)


def run(engine: Literal["local", "ray"], path: Path, worker_type: type, worker_args: dict[str, Any], cfg: RayConfig,
        stage: str, worker: Worker | None = None) -> Iterator[Outcome]:
    """The outcomes of the worker over the lines of `path`, in line order, on the chosen engine. The
    local engine uses `worker` when the stage has built one already. Close the iterator
    (contextlib.closing) to stop early: on Ray that stops the job (and a local instance)."""
    if engine == "ray":
        from pipeline.ray_engine import on_ray

        return on_ray(path, worker_type, worker_args, cfg, stage)
    return on_this_process(path, worker or worker_type(**worker_args))


def on_this_process(path: Path, worker: Worker) -> Iterator[Outcome]:
    yield from worker(file_lines(path))
