"""Classify quotes with the exported stance model: one quote, a JSON Lines batch, or whole articles.

`python -m pipeline.predict --article FILE` ingests and extracts the article, then classifies
every quote; `--text "..."` one quote; `--jsonl FILE` (or `-` for stdin) one request object per
line. Output is JSON Lines, one object per quote (or per speaker with `--by-speaker`), or a
readable table with `--format table`. `--model` takes a folder or `models:/NAME@ALIAS`.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml

from pipeline.config import TargetConfig, load_params, project_root
from pipeline.errors import PipelineError, run_cli
from pipeline.files import parse_jsonl_lines, read_regular_file
from pipeline.records import LABELS
from pipeline.serving.contract import MAX_BATCH_ROWS, REQUEST_FIELDS, parse_request
from pipeline.speakers import speaker_stance

os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

DEFAULT_MODEL = "models/stance"


def quote_rows_of_article(path: Path) -> list[dict[str, Any]]:
    """Every quote of one article file, as output rows awaiting a label."""
    from pipeline.extract import adhoc_config, run
    from pipeline.ingest import read_article_file

    quotes, _ = run(read_article_file(path), adhoc_config())
    return [checked({"article_id": quote.article_id, "speaker": quote.speaker, "speaker_role": quote.speaker_role,
                     "quote": quote.text, "kind": quote.kind, "context": quote.sentence}, path=str(path))
            for quote in quotes]


def rows_of_jsonl(lines: Iterable[str], source: str) -> Iterator[dict[str, Any]]:
    """Request objects, one per non-blank line; `text` may also be called `quote`."""
    for number, data in parse_jsonl_lines(lines, source):
        text = data.get("text", data.get("quote"))
        if not isinstance(text, str) or not text.strip():
            raise PipelineError("missing or empty text", path=source, line=number, field="text")
        yield checked({"article_id": data.get("article_id"), "speaker": data.get("speaker"),
                       "speaker_role": data.get("speaker_role"), "quote": text, "kind": data.get("kind"),
                       "context": data.get("context", data.get("sentence")), "target": data.get("target")},
                      path=source, line=number)


def checked(row: dict[str, Any], path: str | None = None, line: int | None = None,
            option: bool = False) -> dict[str, Any]:
    """The row, if the model takes it (the contract's checks: types, empty text, 20,000 characters
    per field); else one error naming the file and line, or the option (`--text`) it came from."""
    try:
        parse_request(request_of(row, None))
    except PipelineError as error:
        field = f"--{error.field}" if option and error.field else error.field
        raise PipelineError(error.message, path=path, line=line, field=field) from None
    return row


def request_of(row: dict[str, Any], target_name: str | None) -> dict[str, str]:
    """The model's input for an output row: the contract's fields, absent ones left out (`text` never)."""
    values = {"text": row["quote"], "context": row.get("context"), "speaker": row.get("speaker"),
              "speaker_role": row.get("speaker_role"), "target": row.get("target") or target_name}
    return {field: values[field] for field in REQUEST_FIELDS if field == "text" or values.get(field)}


def classify(model: Any, rows: list[dict[str, Any]], target_name: str | None) -> list[dict[str, Any]]:
    """Rows with `label` and `scores`, in batches the model accepts."""
    out = []
    for start in range(0, len(rows), MAX_BATCH_ROWS):
        batch = rows[start:start + MAX_BATCH_ROWS]
        for row, prediction in zip(batch, model.predict([request_of(row, target_name) for row in batch])):
            prediction = prediction if isinstance(prediction, dict) else prediction.model_dump()
            labelled = {key: value for key, value in row.items() if key not in ("context", "target")}
            out.append({**labelled, "label": prediction["label"], "scores": prediction["scores"]})
    return out


def by_speaker(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (article, speaker), in order of first appearance; unresolved speakers grouped as null.

    The stance follows pipeline/speakers.py, each quote weighing the score of its label; `scores`
    are the mean scores over the speaker's quotes.
    """
    groups: dict[tuple[Any, Any], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[(row.get("article_id"), row.get("speaker"))].append(row)
    speakers = []
    for (article_id, speaker), quotes in groups.items():
        stance = speaker_stance((q["label"], q["scores"][q["label"]]) for q in quotes)
        scores = {label: round(sum(q["scores"][label] for q in quotes) / len(quotes), 6) for label in LABELS}
        roles = [q["speaker_role"] for q in quotes if q.get("speaker_role")]
        speakers.append({"article_id": article_id, "speaker": speaker,
                         "speaker_role": Counter(roles).most_common(1)[0][0] if roles else None,
                         "label": stance.label, "scores": scores, "n_quotes": len(quotes),
                         "labels": dict(Counter(q["label"] for q in quotes)),
                         "quotes": [{"quote": q["quote"], "label": q["label"]} for q in quotes]})
    return speakers


def table(rows: Sequence[dict[str, Any]], speakers: bool, width: int = 70) -> str:
    """A fixed-width text table for people: speaker, label, scores, then the quote(s)."""
    def cut(text: str, size: int) -> str:
        text = " ".join(str(text).split())
        return text if len(text) <= size else text[:size - 1] + "…"

    header = ["speaker", "label", *LABELS, "quotes" if speakers else "quote"]
    lines = []
    for row in rows:
        quote = (f"{row['n_quotes']}: " + " | ".join(q["quote"] for q in row["quotes"])) if speakers \
            else row["quote"]
        lines.append([cut(row.get("speaker") or "(unresolved)", 28), row["label"],
                      *[f"{row['scores'][label]:.2f}" for label in LABELS], cut(quote, width)])
    widths = [max(len(header[i]), *(len(line[i]) for line in lines)) if lines else len(header[i])
              for i in range(len(header))]
    render = lambda cells: "  ".join(cell.ljust(width) for cell, width in zip(cells, widths)).rstrip()  # noqa: E731
    return "\n".join([render(header), render(["-" * w for w in widths]), *(render(line) for line in lines)])


def load_target(name: str | None) -> TargetConfig | None:
    """--target: a target id of the project's conf/target/, or a YAML file; None = the configured one."""
    if name is None:
        try:
            return load_params().target if (project_root() / "params.yaml").is_file() else None
        except PipelineError:
            return None
    path = Path(name)
    if not path.is_file():
        try:
            path = project_root() / "conf" / "target" / f"{name}.yaml"
        except PipelineError:
            raise PipelineError(f"unknown target {name!r}: not a file, and no project here", field="--target") \
                from None
    if not path.is_file():
        known = sorted(p.stem for p in path.parent.glob("*.yaml"))
        raise PipelineError(f"unknown target {name!r}: choose one of {', '.join(known)} or give a YAML file",
                            field="--target")
    try:
        return TargetConfig.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except Exception as error:  # pydantic or YAML: either way the file is not a target config
        raise PipelineError(f"not a valid target config: {str(error).splitlines()[0]}", path=path) from None


def load_stance_model(uri: str) -> Any:
    """The exported pyfunc; `models:/...` URIs resolve in the project's MLflow store."""
    import mlflow

    if uri.startswith("models:/"):
        from pipeline import tracking

        mlflow.set_tracking_uri(tracking.tracking_uri(load_params(), project_root()))
    elif not (Path(uri) / "MLmodel").is_file():
        raise PipelineError("no exported model here (no MLmodel file): run `make repro` or pass --model",
                            path=uri, field="--model")
    try:
        return mlflow.pyfunc.load_model(uri)
    except mlflow.exceptions.MlflowException as error:
        raise PipelineError(f"cannot load the model: {str(error).splitlines()[0]}", field="--model") from None


def model_target(model: Any) -> TargetConfig | None:
    python_model = model.unwrap_python_model()
    return getattr(python_model, "target", None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.predict", description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--text", help="one quote")
    source.add_argument("--jsonl", metavar="FILE", help="JSON Lines of {text, context?, speaker?, speaker_role?}; - = stdin")
    source.add_argument("--article", type=Path, metavar="FILE", help="an article file: extract and classify its quotes")
    parser.add_argument("--speaker", help="the speaker of --text")
    parser.add_argument("--by-speaker", action="store_true", help="one line per speaker with the aggregated stance")
    parser.add_argument("--format", choices=("jsonl", "table"), default="jsonl")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="model folder or models:/NAME@ALIAS")
    parser.add_argument("--target", help="target id (conf/target/ID.yaml) or YAML file; default: the configured one")
    args = parser.parse_args(argv)

    model = load_stance_model(args.model)
    target = load_target(args.target) or model_target(model)
    trained_for = model_target(model)
    if getattr(model.unwrap_python_model(), "vote_source", None) and target and trained_for \
            and target.id != trained_for.id:
        raise PipelineError(f"this model reads the labeling functions of {trained_for.id!r}; it cannot judge "
                            f"stance toward {target.id!r}", field="--target")
    if args.text is not None:
        rows = [checked({"article_id": None, "speaker": args.speaker, "speaker_role": None, "quote": args.text,
                         "kind": None}, option=True)]
    elif args.jsonl is not None:
        lines = sys.stdin if args.jsonl == "-" else open_text(Path(args.jsonl))
        rows = list(rows_of_jsonl(lines, "<stdin>" if args.jsonl == "-" else args.jsonl))
    else:
        rows = quote_rows_of_article(args.article)
    results = classify(model, rows, target.name if target else None)
    if args.by_speaker:
        results = by_speaker(results)
    if args.format == "table":
        print(table(results, args.by_speaker))
    else:
        for row in results:
            print(json.dumps(row, ensure_ascii=False))
    return 0


def open_text(path: Path) -> list[str]:
    try:
        return read_regular_file(path).decode("utf-8").splitlines()
    except UnicodeDecodeError as error:
        raise PipelineError(f"not UTF-8 text (byte {error.start})", path=path) from None


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
