"""The cells of `python -m bench.stance_quality`, one (set, row) result each, kept in docs/bench/stance_quality/.

Why a cache of its own rather than the DVC or MLflow record: a cell is no pipeline run (no stage writes it; the
bench fits in-process on sets read in place from ../shared), the full table costs hours on a CPU (the finetune
cells and grids), and the report must reassemble from a fresh clone, where mlflow.db (git-ignored) is not. So
each cell is a small JSON committed beside the report and reused only when its key matches: the set, the row,
the model's whole config, a hash of the exact train and test rows, the seed, and for a tuned row its grid and
dev fraction (its config then leaves out the params the grid sets: every grid point overrides them). A tuned
cell's dev scores are checkpointed beside it until it is written: a finetune grid takes over an hour.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.config import ModelConfig
from pipeline.files import write_json


@dataclass
class Result:
    """One row of a set's table; `metric` is the set's official one on its printed scale (F_avg x100)."""

    name: str
    inputs: Sequence[str]
    models: str
    train_n: int
    metric: float
    metrics: dict[str, Any]
    ci: tuple[float, float]
    fit_s: float
    bound: str = ""
    computed: str = ""


def cell_key(set_name: str, row: str, config: ModelConfig, per_target: bool, train: list[dict],
             test: list[dict], seed: int, grid: dict[str, list[Any]] | None = None,
             dev_fraction: float | None = None) -> dict[str, Any]:
    """What a cached cell must match to be reused (see the module's docstring)."""
    rows = hashlib.sha256("\x1f".join(row["id"] for row in train + [{"id": "|"}] + test).encode()).hexdigest()
    dumped = config.model_dump(mode="json")
    key = {"set": set_name, "name": row, "per_target": per_target, "rows": rows, "seed": seed}
    if grid is None:
        return {**key, "config": dumped}
    params = {name: value for name, value in dumped["params"].items() if name not in grid}
    return {**key, "config": {**dumped, "params": params}, "grid": grid, "dev_fraction": dev_fraction}


class CellCache:
    """Cells and dev checkpoints in `folder`, or none kept when `folder` is None."""

    def __init__(self, folder: Path | None):
        self.folder = folder

    def path(self, set_name: str, row: str, suffix: str = "") -> Path | None:
        return None if self.folder is None else self.folder / f"{set_name}.{row}{suffix}.json"

    def read(self, key: dict[str, Any], suffix: str = "") -> dict[str, Any] | None:
        """The saved content of the cell (or its checkpoint) with this key, None if absent or for another key."""
        path = self.path(key["set"], key["name"], suffix)
        if path is None or not path.is_file():
            return None
        saved = json.loads(path.read_text(encoding="utf-8"))
        return saved if saved["key"] == json.loads(json.dumps(key)) else None

    def result(self, key: dict[str, Any]) -> Result | None:
        saved = self.read(key)
        return None if saved is None else Result(**saved["result"])

    def write(self, key: dict[str, Any], result: Result) -> None:
        """Keep the cell; its dev checkpoint goes (the cell holds every dev score)."""
        path = self.path(key["set"], key["name"])
        if path is not None:
            write_json(path, {"key": key, "result": dataclasses.asdict(result)})
            self.path(key["set"], key["name"], ".dev").unlink(missing_ok=True)

    def dev_scores(self, key: dict[str, Any]) -> dict[str, dict[str, float]]:
        saved = self.read(key, ".dev")
        return {} if saved is None else saved["points"]

    def save_dev_scores(self, key: dict[str, Any], scores: dict[str, dict[str, float]]) -> None:
        path = self.path(key["set"], key["name"], ".dev")
        if path is not None:
            write_json(path, {"key": key, "points": scores})
