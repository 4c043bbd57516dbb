"""Classify quotes with the exported stance model: the corpus `predict` stage, and ad-hoc calls.

`python -m pipeline.predict --corpus` is the DVC stage: every quote the extract stage found,
classified by models/stance, into reports/predictions.jsonl (one object per quote),
reports/speakers.csv (one row per speaker per article and across the corpus, pipeline/speakers.py)
and reports/stance_report.html (the same, for people who would rather look), all three logged
to the pipeline's MLflow run before they are written.

Ad hoc: `--article` takes files, folders and globs (the parser and the model load once);
`--text "..."` one quote; `--jsonl FILE` (or `-` for stdin) one request object per line. Output is
JSON Lines, one object per quote (or per speaker with `--by-speaker`), or a table with
`--format table`. `--model` takes a folder or `models:/NAME@ALIAS`.
"""
from __future__ import annotations

import argparse
import contextlib
import glob
import json
import os
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from pipeline.catalog import (
    CANDIDATE_MODEL,
    LABELLED,
    PREDICTIONS,
    QUOTES,
    SPEAKERS,
    STANCE_MODEL,
    STANCE_REPORT,
    Catalog,
    written_by,
)
from pipeline.config import PathsConfig, TargetConfig, adhoc_extract_config, load_params, project_root
from pipeline.engines import NumberedLines, Outcome, error_data
from pipeline.errors import PipelineError, run_cli
from pipeline.files import (
    find_article_files,
    parse_jsonl_lines,
    read_regular_file,
    regular_file_stat,
    staged_outputs,
)
from pipeline.records import LABELS, LabelledQuote, Quote, parse_record_line
from pipeline.serving.contract import (
    MAX_BATCH_ROWS,
    MAX_TEXT_CHARS,
    REQUEST_FIELDS,
    REQUEST_INPUTS,
    parse_request,
    request_values,
)
from pipeline.speakers import SPEAKER_COLUMNS, corpus_stances, speaker_rows

os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

DEFAULT_MODEL = str(Catalog(PathsConfig()).relative(STANCE_MODEL))
# One object per quote in reports/predictions.jsonl and in `--article` / `--jsonl` output.
PREDICTION_FIELDS = ("article_id", "id", "speaker", "speaker_role", "text", "kind", "label", "scores")
REQUEST_SHAPE = ", ".join(field.name + ("" if field.required else "?") for field in REQUEST_INPUTS)


def quote_rows(quotes: Iterable[Quote]) -> list[dict[str, Any]]:
    """Extracted quotes as rows awaiting a label, with the request fields they hold (their sentence
    is the model's context)."""
    return [{"article_id": quote.article_id, "id": quote.id, "kind": quote.kind, **request_values(dict(quote))}
            for quote in quotes]


def rows_of_jsonl(lines: Iterable[str], source: str) -> Iterator[dict[str, Any]]:
    """Request objects, one per non-blank line; `text` may also be called `quote`."""
    for number, data in parse_jsonl_lines(lines, source):
        text = data.get("text", data.get("quote"))
        if not isinstance(text, str) or not text.strip():
            raise PipelineError("missing or empty text", path=source, line=number, field="text")
        yield checked({"article_id": data.get("article_id"), "id": data.get("id"), "kind": data.get("kind"),
                       **request_values({**data, "text": text})}, path=source, line=number)


def checked(row: dict[str, Any], path: str | None = None, line: int | None = None,
            option: bool = False) -> dict[str, Any]:
    """The row, if the model takes it (the contract's checks: types, empty text, 20,000 characters
    per field); else one error naming the file and line, or the option (`--text`) it came from."""
    try:
        parse_request(request_of(row, None, max_chars=None))
    except PipelineError as error:
        field = f"--{error.field}" if option and error.field else error.field
        raise PipelineError(error.message, path=path, line=line, field=field) from None
    return row


def request_of(row: dict[str, Any], target_name: str | None, max_chars: int | None = MAX_TEXT_CHARS) -> dict[str, Any]:
    """The model's input for a row: the contract's fields, absent ones left out (`text` never), each
    cut to `max_chars` (an extracted sentence can run longer than the contract takes; a request
    typed by a user is checked uncut instead, see `checked`)."""
    values = {**request_values(row), "target": row.get("target") or target_name}
    return {field: values[field][:max_chars] if max_chars and isinstance(values[field], str) else values[field]
            for field in REQUEST_FIELDS if field == "text" or values.get(field)}


def classify(model: Any, rows: list[dict[str, Any]], target_name: str | None) -> list[dict[str, Any]]:
    """Each row with its `label` and `scores` (PREDICTION_FIELDS), in batches the model accepts."""
    out = []
    for start in range(0, len(rows), MAX_BATCH_ROWS):
        batch = rows[start:start + MAX_BATCH_ROWS]
        for row, prediction in zip(batch, model.predict([request_of(row, target_name) for row in batch])):
            prediction = prediction if isinstance(prediction, dict) else prediction.model_dump()
            out.append({**{field: row.get(field) for field in PREDICTION_FIELDS[:-2]},
                        "label": prediction["label"], "scores": prediction["scores"]})
    return out


def predict_quotes(quotes: Sequence[Quote], model: Any, target: TargetConfig,
                   labelled: Mapping[str, LabelledQuote] | None = None) -> tuple[list[dict[str, Any]],
                                                                            list[dict[str, Any]]]:
    """The stage over records: every quote classified by the exported `model`, and one stance per speaker.
    The corpus stage classifies on its engine instead (PredictWorker, the same `classify`), then calls
    speaker_stances like this."""
    return speaker_stances(classify(model, quote_rows(quotes), target.name), target, labelled)


def speaker_stances(predictions: list[dict[str, Any]], target: TargetConfig,
                    labelled: Mapping[str, LabelledQuote] | None = None) -> tuple[list[dict[str, Any]],
                                                                             list[dict[str, Any]]]:
    """The classified quotes and the speakers' stances from them; with `labelled` (quote id -> its labelled
    quote: predict.corpus_stance `labels`), a quote's gold or voted weak label answers before the model."""
    if labelled is not None:
        predictions = corpus_stances(predictions, labelled)
    return predictions, speaker_rows(predictions, target)


def article_paths(specs: Sequence[str], formats: Sequence[str]) -> list[Path]:
    """Files named by `--article`: files as given, folders searched for article files, globs expanded."""
    paths: list[Path] = []
    for spec in specs:
        matches = [Path(spec)] if Path(spec).exists() else [Path(name) for name in sorted(glob.glob(spec,
                                                                                                   recursive=True))]
        if not matches:
            raise PipelineError("no such file, folder or glob match", path=spec, field="--article")
        for path in matches:
            if not path.is_dir():
                regular_file_stat(path)  # a FIFO or device named outright is refused (in a folder: skipped)
                paths.append(path)
            elif found := find_article_files(path, list(formats)):
                paths.extend(found)
            else:
                raise PipelineError(f"no article files ({', '.join('.' + f for f in formats)}) in this folder",
                                    path=path, field="--article")
    return list(dict.fromkeys(paths))


def quotes_of_articles(specs: Sequence[str]) -> list[Quote]:
    """Read, ingest and extract every article named, parsing them in one batch (one model load)."""
    from pipeline.extract import extract_stage
    from pipeline.ingest import ingest_files

    cfg = adhoc_extract_config()
    ingested = ingest_files(article_paths(specs, ["txt", "md", "html", "jsonl"]))
    for skipped in ingested.skipped:
        print(f"skipped: {skipped['error']}", file=sys.stderr)
    quotes, _ = extract_stage(ingested.articles, cfg.model_copy(update={"progress_min_articles": 2}))
    return quotes


def table(rows: Sequence[dict[str, Any]], speakers: bool, width: int = 70) -> str:
    """A fixed-width text table for people: speaker, label, scores or weights, then the quote."""
    def cut(text: Any, size: int) -> str:
        text = " ".join(str(text).split())
        return text if len(text) <= size else text[:size - 1] + "…"

    if speakers:
        header = ["speaker", "scope", "stance", *LABELS, "quotes", "evidence"]
        lines = [[cut(row["speaker"], 28), row["scope"] if row["scope"] == "corpus" else cut(row["article_id"], 20),
                  row["stance"], *[f"{row[f'weight_{label}']:.2f}" for label in LABELS], str(row["quotes"]),
                  cut(row["evidence"], width)] for row in rows]
    else:
        header = ["speaker", "label", *LABELS, "quote"]
        lines = [[cut(row.get("speaker") or "(unresolved)", 28), row["label"],
                  *[f"{row['scores'][label]:.2f}" for label in LABELS], cut(row["text"], width)] for row in rows]
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
    return getattr(model.unwrap_python_model(), "target", None)


def check_model_target(model: Any, target: TargetConfig | None, field: str) -> None:
    """A model judges stance toward another target than its own only if it reads the target as text
    and no labeling function of its own target (votes)."""
    python_model = model.unwrap_python_model()
    trained_for = model_target(model)
    if target is None or trained_for is None or target.id == trained_for.id:
        return
    if getattr(python_model, "vote_source", None):
        reason = f"it reads the labeling functions of {trained_for.id!r}"
    elif "target" not in getattr(getattr(python_model, "classifier", None), "inputs", ()):
        reason = "it does not read the target"
    else:
        return
    raise PipelineError(f"this model was trained for target {trained_for.id!r} and {reason}; it cannot judge "
                        f"stance toward {target.id!r} (train one with target={target.id})", field=field)


class PredictWorker:
    """The stage's work on numbered lines of quotes.jsonl, on either engine (pipeline/engines.py): the
    model loads once per worker (or is given, when the stage has loaded it); each quote comes out as
    its row of predictions.jsonl, or the error naming its line."""

    def __init__(self, model_uri: str, target_name: str | None, source: str, model: Any = None):
        self.model = model if model is not None else load_stance_model(model_uri)
        self.target_name, self.source = target_name, source

    def __call__(self, lines: NumberedLines) -> list[Outcome]:
        outcomes, pending = [], []
        for number, raw in lines:
            try:
                quote = parse_record_line(Quote, raw, path=self.source, line=number)
            except PipelineError as error:
                outcomes.append(Outcome(number, error=error_data(error)))
                continue
            if quote is not None:
                pending.append((number, quote))
        predictions = classify(self.model, quote_rows(quote for _, quote in pending), self.target_name)
        outcomes.extend(Outcome(number, row) for (number, _), row in zip(pending, predictions))
        return sorted(outcomes, key=lambda outcome: outcome.line)


def skip_labelled_dataset(params: Any, root: Path) -> int:
    """An already-labelled dataset has no extracted quotes and no speakers: the three reports are written
    empty (a header-only CSV, a page saying why), so the stage's outputs keep their shape. The model's
    predictions on the dataset's test split are evaluate's (reports/metrics.json, errors.csv)."""
    from pipeline.stance_report import render_note

    note = (f"corpus {params.corpus.name!r} is an already-labelled dataset: no extracted quotes or speakers to "
            "classify; the model's scores on its test split are in reports/metrics.json")
    with staged_outputs(Catalog(params.paths, root).folder("reports")) as staged:
        PREDICTIONS.write_into(staged, [])
        SPEAKERS.write_into(staged, [], SPEAKER_COLUMNS)
        STANCE_REPORT.write_into(staged, render_note(f"Labelled dataset {params.corpus.name}", note))
    print(f"predict: skipped, {note}", file=sys.stderr)
    return 0


def predict_corpus(params: Any, root: Path) -> int:
    """The DVC stage: the corpus's quotes -> the three reports, recorded in MLflow before written."""
    import mlflow

    from pipeline import engines, tracking
    from pipeline.stance_report import render_report

    if params.corpus.kind == "labelled":
        return skip_labelled_dataset(params, root)
    catalog = Catalog(params.paths, root)
    model_dir = str(catalog.path(STANCE_MODEL))
    model = load_stance_model(model_dir)
    check_model_target(model, params.target, field="target")
    source = catalog.path(QUOTES)
    worker_args = {"model_uri": model_dir, "target_name": params.target.name, "source": str(source)}
    local = PredictWorker(**worker_args, model=model) if params.predict.engine == "local" else None
    with contextlib.closing(engines.run(params.predict.engine, source, PredictWorker, worker_args, params.predict.ray,
                                        "predict", worker=local)) as outcomes:
        predictions = list(engines.outputs(outcomes))
    labelled = ({quote.id: quote for quote in catalog.read(LABELLED)}
                if params.predict.corpus_stance == "labels" else None)
    predictions, speakers = speaker_stances(predictions, params.target, labelled)
    with staged_outputs(catalog.folder("reports")) as staged:
        PREDICTIONS.write_into(staged, predictions)
        SPEAKERS.write_into(staged, speakers, SPEAKER_COLUMNS)
        STANCE_REPORT.write_into(staged, render_report(params.target, speakers, predictions))
        with tracking.pipeline_run(params, root, catalog.path(CANDIDATE_MODEL)):
            for artifact in written_by("predict"):
                mlflow.log_artifact(str(staged / artifact.name), artifact_path="predictions")
            mlflow.log_metrics({"predicted_quotes": float(len(predictions)),
                                **{f"speakers_{label}": float(sum(1 for row in speakers if row["scope"] == "corpus"
                                                                  and row["stance"] == label)) for label in LABELS}})
    corpus = [row for row in speakers if row["scope"] == "corpus"]
    counts = ", ".join(f"{sum(row['stance'] == label for row in corpus)} {label}" for label in LABELS)
    print(f"predict: {len(predictions)} quotes, {len(corpus)} speakers ({counts}) -> "
          f"{', '.join(str(catalog.relative(artifact)) for artifact in written_by('predict'))}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.predict", description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--corpus", action="store_true",
                        help="the DVC stage: classify the extracted corpus into reports/ "
                             "(predictions, speakers, report)")
    source.add_argument("--text", help="one quote")
    source.add_argument("--jsonl", metavar="FILE",
                        help=f"JSON Lines of {{{REQUEST_SHAPE}}}; - = stdin")
    source.add_argument("--article", nargs="+", metavar="PATH",
                        help="article files, folders of them, or globs: extract and classify their quotes")
    parser.add_argument("--speaker", help="the speaker of --text")
    parser.add_argument("--by-speaker", action="store_true",
                        help="one line per speaker (per article and across all articles) with the aggregated stance")
    parser.add_argument("--format", choices=("jsonl", "table"), default="jsonl")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="model folder or models:/NAME@ALIAS")
    parser.add_argument("--target", help="target id (conf/target/ID.yaml) or YAML file; default: the configured one")
    args = parser.parse_args(argv)
    if args.corpus:
        return predict_corpus(load_params(), project_root())

    model = load_stance_model(args.model)
    target = load_target(args.target) or model_target(model)
    check_model_target(model, target, field="--target")
    if args.text is not None:
        rows = [checked({"speaker": args.speaker, "text": args.text}, option=True)]
    elif args.jsonl is not None:
        lines = sys.stdin if args.jsonl == "-" else open_text(Path(args.jsonl))
        rows = list(rows_of_jsonl(lines, "<stdin>" if args.jsonl == "-" else args.jsonl))
    else:
        rows = quote_rows(quotes_of_articles(args.article))
    results = classify(model, rows, target.name if target else None)
    if args.by_speaker:
        results = speaker_rows(results, target)
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
