"""Targets: scaffold a new contested question, and check the target configs of conf/target/.

`python -m pipeline.target new ID` writes conf/target/ID.yaml with every field present and
commented, valid as written, so `dvc exp run -S target=ID -S corpus.path=DIR` runs at once (on
weak labels; camps, cues and examples make them better). `check` validates every target file
and names the file and field of the first problem; `list` prints the known targets.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from string import Template

import yaml
from pydantic import ValidationError

from pipeline.config import TargetConfig, project_root
from pipeline.errors import PipelineError, run_cli
from pipeline.files import atomic_open

TEMPLATE = Path(__file__).with_name("target_template.yaml")
ID_PATTERN = re.compile(r"^[a-z0-9_]+$")
GENERAL_TERMS = ["referendum", "vote", "ballot", "plebiscite"]


def target_dir(root: Path) -> Path:
    return root / "conf" / "target"


def scaffold(target_id: str, name: str | None = None, description: str | None = None,
             terms: list[str] | None = None, subject: list[str] | None = None) -> str:
    """The YAML text of a new target: the commented template, filled so that it validates."""
    if not ID_PATTERN.match(target_id):
        raise PipelineError(f"{target_id!r} is not a target id: use lower-case letters, digits and _",
                            field="ID")
    name = name or target_id.replace("_", " ").capitalize()
    description = description or (f"{name}. support = for holding the vote or for its proposed outcome; "
                                  "oppose = against the vote, its legitimacy or its outcome; "
                                  "neutral = no side, procedure, or another question.")
    text = Template(TEMPLATE.read_text(encoding="utf-8")).substitute(
        id=target_id, name=json.dumps(name, ensure_ascii=False), description=" ".join(description.split()),
        terms=json.dumps(terms or GENERAL_TERMS, ensure_ascii=False),
        subject=json.dumps(subject or [name], ensure_ascii=False))
    read_target(text, source=f"conf/target/{target_id}.yaml")  # the template itself must stay valid
    return text


def read_target(text: str, source: str | Path, expected_id: str | None = None) -> TargetConfig:
    """Parse and validate one target file; a problem is one error naming the file, line or field."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise PipelineError(f"not valid YAML: {problem}", path=source,
                            line=mark.line + 1 if mark else None) from None
    if not isinstance(data, dict):
        raise PipelineError("a target file holds a mapping of fields (id, name, description, ...)", path=source)
    try:
        target = TargetConfig.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        message = "unknown field" if first["type"] == "extra_forbidden" else first["msg"]
        raise PipelineError(message, path=source, field=field) from None
    if expected_id is not None and target.id != expected_id:
        raise PipelineError(f"id {target.id!r} differs from the file name: a target's id is its file name "
                            f"({expected_id!r})", path=source, field="id")
    return target


def check_targets(folder: Path) -> list[TargetConfig]:
    """Every conf/target/*.yaml, validated, each id equal to its file name."""
    return [read_target(path.read_text(encoding="utf-8"), path, expected_id=path.stem)
            for path in sorted(folder.glob("*.yaml"))]


def check_selected(folder: Path, target_id: str) -> None:
    """The selected target's file exists, validates and carries its own name as id; a file named
    otherwise that claims this id (a copied file whose id was not changed) is the error to name."""
    for path in sorted(folder.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        if path.stem == target_id or re.search(rf"^id:\s*['\"]?{re.escape(target_id)}['\"]?\s*(#.*)?$", text, re.M):
            read_target(text, path, expected_id=path.stem)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.target", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    new = commands.add_parser("new", help="write conf/target/ID.yaml, every field present and commented")
    new.add_argument("id", help="the target id: lower-case letters, digits and _ (also the file name)")
    new.add_argument("--name", help="a readable name (default: from the id)")
    new.add_argument("--description", help="one paragraph on the question (default: the guideline's labels)")
    new.add_argument("--terms", nargs="+", metavar="TERM", help=f"words naming the question (default: "
                                                                  f"{' '.join(GENERAL_TERMS)})")
    new.add_argument("--subject", nargs="+", metavar="NAME", help="names of what the question is about "
                                                                   "(default: the name)")
    new.add_argument("--force", action="store_true", help="overwrite an existing file")
    commands.add_parser("check", help="validate every conf/target/*.yaml")
    commands.add_parser("list", help="the known target ids and names")
    args = parser.parse_args(argv)
    folder = target_dir(project_root())
    if args.command == "new":
        path = folder / f"{args.id}.yaml"
        if path.exists() and not args.force:
            raise PipelineError("exists already: edit it, or pass --force to start it again", path=path)
        text = scaffold(args.id, args.name, args.description, args.terms, args.subject)
        with atomic_open(path) as handle:
            handle.write(text)
        relative = path.relative_to(folder.parent.parent)
        print(f"wrote {relative}: fill in the description, camps (affiliations), cues and examples; then\n"
              f"  bin/dvc exp run -S target={args.id} -S corpus.path=<folder of articles>", file=sys.stderr)
        return 0
    targets = check_targets(folder)
    if args.command == "list":
        for target in targets:
            print(f"{target.id}\t{target.name}")
    else:
        print(f"{len(targets)} target files valid in {folder}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
