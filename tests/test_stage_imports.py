"""Stages meet only at their entry points (issue 25): each stage has one function over records and configs,
a stage imports nothing else of another stage, and the modules the stages share (tracking, records, ...)
import no stage, so a change inside one stage cannot reach into another."""
from __future__ import annotations

import ast
import importlib
from pathlib import Path

from helpers import REPO_ROOT

# Each stage's entry point: records and typed configs in, records and results out, no file access
# (ingest's input is the article files it is given).
ENTRY_POINTS = {"ingest": "ingest_files", "extract": "extract_stage", "label": "label_stage", "split": "plan_split",
                "train": "fit_candidate", "evaluate": "evaluate_rows", "export": "describe_model",
                "predict": "predict_quotes"}
# Modules that compose stages, as the bench and the tests do: they too may use entry points only.
DRIVERS = {"protocol"}


def stage_imports(path: Path) -> list[tuple[str, str]]:
    """(stage, name) for every name `path` imports from a stage module; name '*' for the module itself."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module == "pipeline":
            found += [(alias.name, "*") for alias in node.names if alias.name in ENTRY_POINTS]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pipeline."):
            stage = node.module.split(".")[1]
            if stage in ENTRY_POINTS and node.module == f"pipeline.{stage}":
                found += [(stage, alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(alias.name.split(".")[1], "*") for alias in node.names
                      if alias.name.split(".")[0] == "pipeline" and alias.name.count(".") == 1
                      and alias.name.split(".")[1] in ENTRY_POINTS]
    return found


def test_a_stage_imports_only_the_entry_points_of_other_stages_and_other_modules_import_no_stage():
    wrong = []
    for path in sorted((REPO_ROOT / "pipeline").rglob("*.py")):
        module = path.relative_to(REPO_ROOT / "pipeline").with_suffix("").as_posix()
        for stage, name in stage_imports(path):
            if stage == module:
                continue
            if (module not in ENTRY_POINTS and module not in DRIVERS) or name != ENTRY_POINTS[stage]:
                wrong.append(f"pipeline/{module}.py imports {name} from pipeline.{stage}")
    assert wrong == []


def test_every_stage_has_its_entry_point_and_a_main():
    for stage, name in ENTRY_POINTS.items():
        module = importlib.import_module(f"pipeline.{stage}")
        assert callable(getattr(module, name)) and callable(module.main), stage
