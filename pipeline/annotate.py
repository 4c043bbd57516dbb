"""Annotation round trip: export quotes with weak pre-labels for review, import reviewed labels as gold.

`python -m pipeline.annotate export` writes data/review/<target>.csv and <target>.label-studio.json
(Label Studio tasks with the weak label as a prediction), least certain first.
`python -m pipeline.annotate import FILE` merges a reviewed CSV (its `label` column) or a Label Studio
JSON export into data/annotations/<target>.csv. Unknown labels or quote ids and conflicting duplicates
are errors; an existing gold label changes only with --replace, and each change is printed.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.catalog import QUOTES, Catalog
from pipeline.config import load_params, project_root
from pipeline.errors import PipelineError, run_cli
from pipeline.files import write_csv, write_json
from pipeline.labeling.annotations import (
    Annotation,
    annotation_for,
    check_label,
    deduplicate,
    match_annotations,
    read_annotations,
    write_annotations,
)
from pipeline.labeling.label_model import weak_label
from pipeline.records import LABELS, Label, LabelledQuote, Quote

REVIEW_COLUMNS = ("quote_id", "article_id", "speaker", "text", "sentence", "weak_label", "confidence", "votes",
                  "gold_label", "label", "note")
LABEL_STUDIO_CHOICES = "stance"  # the <Choices name=...> of the labeling config in docs/annotation.md


def review_queue(weak: Sequence[LabelledQuote], gold: dict[str, Label], include_gold: bool) -> list[LabelledQuote]:
    """Quotes to review, least certain first (ties in article order); gold ones only if asked."""
    chosen = [quote for quote in weak if include_gold or quote.id not in gold]
    return sorted(chosen, key=lambda quote: (quote.confidence, quote.article_id, quote.start))


def review_row(quote: LabelledQuote, gold_label: Label | None) -> dict[str, str]:
    votes = "; ".join(f"{name}={vote}" for name, vote in quote.votes.items() if vote)
    return {"quote_id": quote.id, "article_id": quote.article_id, "speaker": quote.speaker or "",
            "text": quote.text, "sentence": quote.sentence, "weak_label": quote.label,
            "confidence": f"{quote.confidence:.4f}", "votes": votes, "gold_label": gold_label or "",
            "label": gold_label or "", "note": ""}


def label_studio_task(quote: LabelledQuote, target_id: str) -> dict:
    """A Label Studio task whose prediction is the weak label, scored by its confidence."""
    return {
        "data": {"quote_id": quote.id, "article_id": quote.article_id, "text": quote.text,
                 "speaker": quote.speaker or "", "sentence": quote.sentence, "target": target_id},
        "predictions": [{
            "model_version": f"weak-{target_id}",
            "score": quote.confidence,
            "result": [{"from_name": LABEL_STUDIO_CHOICES, "to_name": "text", "type": "choices",
                        "value": {"choices": [quote.label]}}],
        }],
    }


@dataclass(frozen=True)
class ReviewedLabel:
    quote_id: str
    label: Label
    note: str
    where: int  # CSV line or Label Studio task number, for error messages


def read_reviewed_csv(path: Path) -> list[ReviewedLabel]:
    """Rows whose `label` the reviewer filled in; blank labels are not yet reviewed."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [column for column in ("quote_id", "label") if column not in (reader.fieldnames or [])]
        if missing:
            raise PipelineError(f"bad header: missing {missing}", path=path, line=1)
        reviewed = []
        for row in reader:
            if not (row.get("label") or "").strip():
                continue
            if not (row.get("quote_id") or "").strip():
                raise PipelineError("empty value", path=path, line=reader.line_num, field="quote_id")
            reviewed.append(ReviewedLabel(row["quote_id"].strip(),
                                          check_label(row["label"], path=path, line=reader.line_num),
                                          (row.get("note") or "").strip(), reader.line_num))
    return reviewed


def read_label_studio(path: Path) -> list[ReviewedLabel]:
    """The latest non-cancelled `stance` choice of each task in a Label Studio JSON export."""
    try:
        tasks = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise PipelineError(f"not valid JSON: {error.msg} at line {error.lineno}", path=path) from None
    if not isinstance(tasks, list):
        raise PipelineError("expected a list of Label Studio tasks", path=path)
    reviewed = []
    for number, task in enumerate(tasks, start=1):
        quote_id = (task.get("data") or {}).get("quote_id") if isinstance(task, dict) else None
        if not quote_id:
            raise PipelineError(f"task {number} has no data.quote_id", path=path, field="data.quote_id")
        choices = [result["value"]["choices"]
                   for annotation in task.get("annotations") or [] if not annotation.get("was_cancelled")
                   for result in annotation.get("result") or []
                   if result.get("from_name") == LABEL_STUDIO_CHOICES and result.get("value", {}).get("choices")]
        if not choices:
            continue
        if len(choices[-1]) != 1:
            raise PipelineError(f"task {number}: expected one stance, got {choices[-1]}", path=path)
        label = choices[-1][0]
        if label not in LABELS:
            raise PipelineError(f"task {number}: unknown label {label!r}: expected one of {', '.join(LABELS)}",
                                path=path, field="annotations.result.value.choices")
        reviewed.append(ReviewedLabel(quote_id, label, "", number))
    return reviewed


def read_reviewed(path: Path) -> list[ReviewedLabel]:
    if not path.is_file():
        raise PipelineError("file not found", path=path)
    if path.suffix == ".csv":
        return read_reviewed_csv(path)
    if path.suffix == ".json":
        return read_label_studio(path)
    raise PipelineError("expected a reviewed .csv or a Label Studio .json export", path=path)


@dataclass(frozen=True)
class Merge:
    annotations: list[Annotation]
    added: list[str]
    unchanged: list[str]
    replaced: list[tuple[str, Label, Label]]


def merge_reviewed(existing: dict[str, Annotation], reviewed: Sequence[ReviewedLabel], quotes: Sequence[Quote],
                   *, replace: bool, source: Path | str | None = None) -> Merge:
    """New gold annotations: `existing` (keyed by current quote id) plus the reviewed labels.

    Reviewed labels for unknown quote ids, conflicting duplicates in the review, and changes to an
    existing gold label without `replace` are errors; nothing is overwritten silently.
    """
    by_id = {quote.id: quote for quote in quotes}
    unknown = [f"{item.quote_id} ({'line' if str(source).endswith('.csv') else 'task'} {item.where})"
               for item in reviewed if item.quote_id not in by_id]
    if unknown:
        raise PipelineError(f"{len(unknown)} reviewed label(s) name no current quote: {', '.join(unknown)}",
                            path=source)
    unique = deduplicate((Annotation(quote_id=item.quote_id, article_id=by_id[item.quote_id].article_id,
                                     label=item.label, text=by_id[item.quote_id].text, note=item.note,
                                     line=item.where) for item in reviewed), source=source)
    merged = {quote_id: annotation_for(by_id[quote_id], annotation.label, annotation.note)
              for quote_id, annotation in existing.items()}
    added, unchanged, replaced, refused = [], [], [], []
    for item in unique:
        before = merged.get(item.quote_id)
        if before is not None and before.label == item.label:
            unchanged.append(item.quote_id)
            continue
        if before is not None and not replace:
            refused.append(f"{item.quote_id}: gold {before.label!r}, reviewed {item.label!r}")
            continue
        if before is not None:
            replaced.append((item.quote_id, before.label, item.label))
        else:
            added.append(item.quote_id)
        merged[item.quote_id] = annotation_for(by_id[item.quote_id], item.label, item.note or
                                               (before.note if before else ""))
    if refused:
        raise PipelineError(f"{len(refused)} reviewed label(s) differ from the gold label (use --replace to "
                            f"change them): {'; '.join(refused)}", path=source)
    return Merge(list(merged.values()), added, unchanged, replaced)


def export(args, params, catalog: Catalog, quotes: list[Quote], gold: dict[str, Annotation]) -> None:
    weak, _, _ = weak_label(quotes, params.target, params.labeling)
    gold_labels = {quote_id: annotation.label for quote_id, annotation in gold.items()}
    queue = review_queue(weak, gold_labels, args.all)
    out = args.out or catalog.folder("review")
    csv_path, json_path = out / f"{params.target.id}.csv", out / f"{params.target.id}.label-studio.json"
    write_csv(csv_path, [review_row(quote, gold_labels.get(quote.id)) for quote in queue], REVIEW_COLUMNS)
    write_json(json_path, [label_studio_task(quote, params.target.id) for quote in queue])
    print(f"annotate: {len(queue)} quotes to review, least certain first -> {csv_path}, {json_path}",
          file=sys.stderr)


def import_reviewed(args, quotes: list[Quote], gold: dict[str, Annotation],
                    annotations_path: Path) -> None:
    merge = merge_reviewed(gold, read_reviewed(args.file), quotes, replace=args.replace, source=args.file)
    write_annotations(annotations_path, merge.annotations, order={quote.id: quote.start for quote in quotes})
    for quote_id, before, after in merge.replaced:
        print(f"  replaced {quote_id}: {before} -> {after}", file=sys.stderr)
    print(f"annotate: {len(merge.added)} added, {len(merge.unchanged)} unchanged, {len(merge.replaced)} replaced "
          f"-> {annotations_path}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.annotate", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    export_parser = commands.add_parser("export", help="write quotes with weak pre-labels for review")
    export_parser.add_argument("--out", type=Path, help="folder for the review files (default: paths.review)")
    export_parser.add_argument("--all", action="store_true", help="also quotes that already have a gold label")
    import_parser = commands.add_parser("import", help="merge reviewed labels into the gold annotations")
    import_parser.add_argument("file", type=Path, help="a reviewed CSV or a Label Studio JSON export")
    import_parser.add_argument("--replace", action="store_true", help="allow changing existing gold labels")
    args = parser.parse_args(argv)
    params = load_params()
    catalog = Catalog(params.paths, project_root())
    quotes = list(catalog.read(QUOTES))
    annotations_path = catalog.annotations(params.target.id)
    gold = (match_annotations(read_annotations(annotations_path), quotes,
                              threshold=params.labeling.annotation_match_threshold, source=annotations_path)
            if annotations_path.is_file() else {})
    if args.command == "export":
        export(args, params, catalog, quotes, gold)
    else:
        import_reviewed(args, quotes, gold, annotations_path)
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
