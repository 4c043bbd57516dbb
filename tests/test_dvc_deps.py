"""dvc.yaml's code deps follow the imports: a stage reruns when any pipeline module it runs changes.

A stage that imports a module its deps do not list would be skipped by `dvc repro` after a change
there that alters its output (issue 25: train and evaluate imported split.py without listing it).
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml

from helpers import REPO_ROOT

PACKAGE = "pipeline"


def module_file(name: str) -> Path | None:
    """The file of a `pipeline...` module name (a package's __init__.py), or None for a name in a module."""
    base = REPO_ROOT.joinpath(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def imported_modules(path: Path, name: str) -> set[str]:
    """The pipeline modules `path` imports anywhere in it (inside functions too: lazy imports run as well)."""
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    modules = set()
    for module in found:
        if module == PACKAGE or module.startswith(PACKAGE + "."):
            while module and module_file(module) is None:
                module = module.rpartition(".")[0]
            if module:
                modules.add(module)
    return modules


def closure(entry: str) -> set[Path]:
    """Every pipeline file that running `python -m entry` imports, with the packages on the way."""
    seen: set[str] = set()
    todo = [entry]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        parts = name.split(".")
        todo.extend(".".join(parts[:i]) for i in range(1, len(parts)))  # importing a.b.c runs a and a.b
        todo.extend(imported_modules(module_file(name), name))
    return {module_file(name).relative_to(REPO_ROOT) for name in seen}


def covered(path: Path, deps: list[str]) -> bool:
    return any(path == Path(dep) or Path(dep) in path.parents for dep in deps)


def stage_entries() -> dict[str, tuple[str, list[str]]]:
    stages = yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text())["stages"]
    entries = {}
    for name, stage in stages.items():
        match = re.search(r"-m (pipeline[\w.]*)", stage["cmd"])
        assert match, f"stage {name} does not run a pipeline module: {stage['cmd']}"
        entries[name] = (match.group(1), [str(dep) for dep in stage["deps"]])
    return entries


def test_every_stage_lists_the_pipeline_modules_it_imports():
    missing = {name: sorted(str(path) for path in closure(entry) if not covered(path, deps))
               for name, (entry, deps) in stage_entries().items()}
    assert {name: paths for name, paths in missing.items() if paths} == {}


def test_the_import_reading_follows_lazy_and_relative_imports(tmp_path):
    entry_deps = closure("pipeline.export")
    assert Path("pipeline/records.py") in closure("pipeline.evaluate")  # a top-level import
    assert Path("pipeline/target.py") in closure("pipeline.label")  # imported inside main()
    assert Path("pipeline/ingest.py") in closure("pipeline.predict")  # inside a function
    assert Path("pipeline/__init__.py") in entry_deps
    assert not covered(Path("pipeline/split.py"), ["pipeline/train.py", "pipeline/models"])
    assert covered(Path("pipeline/models/base.py"), ["pipeline/models"])
