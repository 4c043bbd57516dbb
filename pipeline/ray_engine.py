"""The `ray` engine of pipeline/engines.py: Ray Data reads the file, the stage's worker runs in actors.

Ray Data reads the JSON Lines file on the stage's own node (a read task pinned there, streaming blocks
of numbered lines, unparsed), `map_batches` runs the stage's worker in `workers` actors of one CPU
each anywhere in the cluster (each loads spaCy or the model once; Ray restarts a killed actor and
retries its batch), and the outcomes come back to the stage's process in file order
(`preserve_order`), where the stage writes them. With RAY_ADDRESS set the stage joins that cluster,
after checking within `connect_timeout_s` that something answers there (Ray itself would retry for
minutes); without it, it starts a private local Ray instance (never one that happens to run on this
machine), stopped when the stage ends, Ctrl-C included. The `pipeline` package goes to the workers
with the job (runtime_env py_modules); every node needs the same Python environment, and for
predict the exported model folder at the same path (README "Running at scale").
"""
from __future__ import annotations

import contextlib
import itertools
import json
import logging
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow
import ray
import ray.data
from ray.data.datasource import FileBasedDatasource

from pipeline.config import RayConfig
from pipeline.engines import Outcome, file_chunks, numbered_lines
from pipeline.errors import PipelineError, raise_if_interrupted

BLOCK_BYTES = 256 * 1024  # about 40 articles or 400 quotes


def on_ray(path: Path, worker_type: type, worker_args: dict[str, Any], cfg: RayConfig,
           stage: str) -> Iterator[Outcome]:
    """The outcomes of `worker_type(**worker_args)` over the lines of `path`, computed on Ray, in
    line order. A generator: closing it stops the job and shuts Ray down."""
    if not path.is_file():
        raise PipelineError("file not found (has the previous stage run?)", path=path)
    with ray_session(cfg):
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True
        # Blocks (what one actor takes at a time) of about BLOCK_BYTES of input: by default Ray Data cuts a file
        # into blocks of a MiB or more, so 840 articles (4 MB) were 4 blocks, and a fifth worker had nothing to do.
        context.target_max_block_size = BLOCK_BYTES
        # The read task runs on this node (the node-id label Ray gives every node; Ray Data's `local://` scheme,
        # which did the same, is deprecated from Ray 2.60), so only the stage's machine needs the file; the
        # articles go to the actors through Ray's object store. It takes no CPU, so it never waits behind them.
        lines = ray.data.read_datasource(NumberedLinesDatasource(str(path.resolve()), cfg.batch_size), num_cpus=0,
                                         label_selector={"ray.io/node-id": ray.get_runtime_context().get_node_id()})
        # Ray Data restarts an actor that dies (a killed worker, a lost node) and retries its batch there.
        outcomes = lines.map_batches(RayWorker, fn_constructor_args=(worker_type, worker_args),
                                     batch_size=cfg.batch_size, num_cpus=1,
                                     compute=ray.data.ActorPoolStrategy(size=cfg.workers))
        last = 0
        try:
            for batch in outcomes.iter_batches(batch_size=None, batch_format="numpy"):
                for line, output, error in zip(batch["line"].tolist(), batch["output"].tolist(),
                                               batch["error"].tolist()):
                    last = line
                    yield Outcome(line, json.loads(output), json.loads(error) if error else None)
        except (ray.exceptions.RayError, ray.data.exceptions.UserCodeException) as error:
            raise_if_interrupted()  # Ctrl-C in a terminal reaches Ray's own processes too, which then fail the batch
            raise PipelineError(f"{stage} on Ray: a batch after line {last:,} failed: {last_line(error)}",
                                path=path) from None


def last_line(error: BaseException) -> str:
    """The telling line of a Ray error (its message ends with the original exception)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__


class RayWorker:
    """A stage's worker inside a Ray actor: built once per actor, called per batch of Ray Data columns."""

    def __init__(self, worker_type: type, worker_args: dict[str, Any]):
        self.worker = worker_type(**worker_args)

    def __call__(self, batch: dict[str, Any]) -> dict[str, list]:
        outcomes = self.worker(zip(batch["line"].tolist(), batch["text"].tolist()))
        return {"line": [outcome.line for outcome in outcomes],
                "output": [json.dumps(outcome.output, ensure_ascii=False) for outcome in outcomes],
                "error": [json.dumps(outcome.error) if outcome.error else "" for outcome in outcomes]}


class NumberedLinesDatasource(FileBasedDatasource):
    """A file as rows (line, text) in blocks of `lines_per_block`, the text undecoded: the workers parse each
    line and name it in their errors, as the local engine's read does (`numbered_lines`, shared)."""

    def __init__(self, path: str, lines_per_block: int):
        super().__init__(path)
        self.lines_per_block = lines_per_block

    def _read_stream(self, f: pyarrow.NativeFile, path: str) -> Iterator[pyarrow.Table]:
        lines = numbered_lines(file_chunks(f))
        while block := list(itertools.islice(lines, self.lines_per_block)):
            yield lines_table([number for number, _ in block], [text for _, text in block])


def lines_table(numbers: list[int], texts: list[bytes]) -> pyarrow.Table:
    return pyarrow.table({"line": pyarrow.array(numbers, pyarrow.int64()),
                          "text": pyarrow.array(texts, pyarrow.binary())})


@contextlib.contextmanager
def ray_session(cfg: RayConfig) -> Iterator[None]:
    """Ray for one stage run: the cluster at RAY_ADDRESS, else a private local instance of
    `local_cpus` (default `workers`) CPUs; disconnected (a local instance: stopped) on the way out."""
    import pipeline

    address = os.environ.get("RAY_ADDRESS", "").strip()
    if address:
        check_reachable(address, cfg.connect_timeout_s)
    options: dict[str, Any] = {"runtime_env": {"py_modules": [str(Path(pipeline.__file__).parent)]},
                               "logging_level": logging.WARNING}
    if address:
        options["address"] = address
    else:
        options.update(address="local", num_cpus=cfg.local_cpus or cfg.workers, include_dashboard=False)
    try:
        ray.init(**options)
    except ConnectionError as error:
        raise PipelineError(f"cannot join the Ray cluster: {last_line(error)}", field="RAY_ADDRESS") from None
    try:
        yield
    finally:
        ray.shutdown()


def check_reachable(address: str, timeout: float) -> None:
    """Refuse in one line, within `timeout` seconds, a RAY_ADDRESS where nothing answers."""
    if address == "auto":
        return
    if address.startswith("ray://"):
        raise PipelineError("Ray Client addresses (ray://) are not supported: run the stage on a node of the "
                            "cluster with RAY_ADDRESS=<head>:<port> (the address `ray start --head` prints)",
                            field="RAY_ADDRESS")
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise PipelineError(f"{address!r} is not host:port", field="RAY_ADDRESS")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            pass
    except OSError as error:
        reason = "timed out" if isinstance(error, TimeoutError) else (error.strerror or str(error))
        raise PipelineError(f"no Ray cluster answers at {address} ({reason}, waited up to {timeout:g} s): start "
                            "one with `ray start --head`, or unset RAY_ADDRESS for a local Ray instance",
                            field="RAY_ADDRESS") from None


@contextlib.contextmanager
def local_cluster(nodes: int = 2, cpus_per_node: int = 1) -> Iterator[tuple[str, str]]:
    """Ray nodes as separate processes on this machine (`ray.cluster_utils.Cluster`: their own raylets and ports,
    one temp dir), to try or test the multi-node path; yields (the address to give as RAY_ADDRESS, the temp dir,
    which every process of the cluster names on its command line)."""
    from ray._private.utils import get_ray_address_file
    from ray.cluster_utils import Cluster

    # The cluster also writes its address to Ray's default temp dir, whatever temp_dir says, and fails where that
    # dir does not exist yet (a machine that never ran Ray).
    Path(get_ray_address_file(None)).parent.mkdir(parents=True, exist_ok=True)
    temp_dir = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # short: Ray's socket paths live under it
    node = {"num_cpus": cpus_per_node, "temp_dir": temp_dir}
    cluster = Cluster(initialize_head=True, head_node_args={**node, "include_dashboard": False})
    try:
        for _ in range(nodes - 1):
            cluster.add_node(**node)
        yield cluster.address, temp_dir
    finally:
        cluster.shutdown()
        shutil.rmtree(temp_dir, ignore_errors=True)
