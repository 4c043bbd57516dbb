"""Gold annotations: `data/annotations/<target>.csv`, reviewed like code.

One row per quote: its id (the key), and for humans the article, speaker and text. Matching a row
to the current quotes goes by id first, then by a close text match within the same article, so
gold labels survive re-extraction with slightly different spans. Bad rows fail loudly.
"""
from __future__ import annotations

import csv
import difflib
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import PipelineError
from pipeline.files import atomic_open
from pipeline.records import LABELS, Label, Quote, normalise_text

COLUMNS: tuple[str, ...] = ("quote_id", "article_id", "label", "speaker", "text", "note")
REQUIRED: tuple[str, ...] = ("quote_id", "article_id", "label", "text")


@dataclass(frozen=True)
class Annotation:
    """One human label; `line` is where it came from, for error messages."""

    quote_id: str
    article_id: str
    label: Label
    text: str
    speaker: str = ""
    note: str = ""
    line: int | None = None


def check_label(value: str, *, path: str | Path | None = None, line: int | None = None) -> Label:
    """The label itself, or an error naming the allowed ones."""
    label = value.strip()
    if label not in LABELS:
        raise PipelineError(f"unknown label {value!r}: expected one of {', '.join(LABELS)}",
                            path=path, line=line, field="label")
    return label  # type: ignore[return-value]


def read_annotations(path: str | Path) -> list[Annotation]:
    """Read and validate an annotation CSV; identical duplicate rows collapse, conflicting ones fail."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise PipelineError("annotation file not found", path=path) from None
    except UnicodeDecodeError as error:
        raise PipelineError(f"not UTF-8 text ({error.reason} at byte {error.start}): save it as UTF-8 CSV",
                            path=path) from None
    if "\x00" in text:
        raise PipelineError("binary file (NUL bytes), not a CSV", path=path)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = reader.fieldnames or []
        missing = [column for column in REQUIRED if column not in header]
        unknown = [column for column in header if column not in COLUMNS]
        if missing or unknown:
            raise PipelineError(f"bad header: missing {missing}, unknown {unknown}; expected {list(COLUMNS)}",
                                path=path, line=1)
        rows = [(reader.line_num, row) for row in reader]
    except csv.Error as error:
        raise PipelineError(f"not a readable CSV file: {error}", path=path, line=reader.line_num) from None
    annotations = []
    for line, row in rows:
        if None in row:
            raise PipelineError("more fields than the header has", path=path, line=line)
        values = {column: (row.get(column) or "").strip() for column in COLUMNS}
        for column in REQUIRED:
            if not values[column]:
                raise PipelineError("empty value", path=path, line=line, field=column)
        annotations.append(Annotation(quote_id=values["quote_id"], article_id=values["article_id"],
                                      label=check_label(values["label"], path=path, line=line),
                                      text=values["text"], speaker=values["speaker"], note=values["note"],
                                      line=line))
    return deduplicate(annotations, source=path)


def deduplicate(annotations: Iterable[Annotation], *, source: str | Path | None = None) -> list[Annotation]:
    """One annotation per quote id: a repeat with the same label is dropped, a different label is an error."""
    first: dict[str, Annotation] = {}
    conflicts = []
    for annotation in annotations:
        seen = first.setdefault(annotation.quote_id, annotation)
        if seen.label != annotation.label:
            conflicts.append(f"{annotation.quote_id}: {seen.label!r} (line {seen.line}) vs "
                             f"{annotation.label!r} (line {annotation.line})")
    if conflicts:
        raise PipelineError(f"conflicting duplicate annotations: {'; '.join(conflicts)}", path=source)
    return list(first.values())


def _similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, normalise_text(a), normalise_text(b), autojunk=False).ratio()


def match_annotations(annotations: Sequence[Annotation], quotes: Sequence[Quote], *, threshold: float,
                      source: str | Path | None = None) -> dict[str, Annotation]:
    """Quote id -> its annotation: by id, else the most similar quote text of the same article
    (similarity >= threshold). Annotations that match no quote are listed in one error."""
    by_id = {quote.id: quote for quote in quotes}
    by_article: dict[str, list[Quote]] = {}
    for quote in quotes:
        by_article.setdefault(quote.article_id, []).append(quote)
    matched: dict[str, Annotation] = {}
    unmatched, conflicts = [], []
    for annotation in annotations:
        quote = by_id.get(annotation.quote_id)
        if quote is None:
            scored = [(_similarity(annotation.text, candidate.text), candidate)
                      for candidate in by_article.get(annotation.article_id, [])]
            score, best = max(scored, key=lambda pair: pair[0], default=(0.0, None))
            quote = best if score >= threshold else None
        if quote is None:
            unmatched.append(f"line {annotation.line} id {annotation.quote_id} ({annotation.article_id}): "
                             f"{annotation.text[:60]!r}")
            continue
        earlier = matched.setdefault(quote.id, annotation)
        if earlier.label != annotation.label:
            conflicts.append(f"quote {quote.id}: {earlier.label!r} (line {earlier.line}) vs "
                             f"{annotation.label!r} (line {annotation.line})")
    if unmatched:
        raise PipelineError(f"{len(unmatched)} annotation(s) match no quote by id or by text in the same "
                            f"article (re-extracted too differently, or the article is gone): "
                            + "; ".join(unmatched), path=source)
    if conflicts:
        raise PipelineError("annotations that match the same quote disagree: " + "; ".join(conflicts),
                            path=source)
    return matched


def annotation_for(quote: Quote, label: Label, note: str = "") -> Annotation:
    """A gold row for a quote, carrying its text and speaker for the human reader."""
    return Annotation(quote_id=quote.id, article_id=quote.article_id, label=label, text=quote.text,
                      speaker=quote.speaker or "", note=note)


def write_annotations(path: str | Path, annotations: Iterable[Annotation],
                      order: Mapping[str, int] | None = None) -> int:
    """Write the CSV atomically, in article order (then `order`, e.g. quote position) for stable diffs."""
    order = order or {}
    rows = sorted(annotations, key=lambda a: (a.article_id, order.get(a.quote_id, 1 << 30), a.text))
    with atomic_open(path) as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for annotation in rows:
            writer.writerow({column: getattr(annotation, column) for column in COLUMNS})
    return len(rows)
