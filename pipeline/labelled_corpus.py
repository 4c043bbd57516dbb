"""Already-labelled stance datasets (CSV/TSV/JSON Lines) as gold LabelledQuote records.

Lets the same split/train/evaluate code run on public benchmarks (SemEval-2016, VAST,
GWSD, Catalonia) as on our own quotes: columns and labels are mapped by config
(`corpus.labelled`, e.g. FAVOR -> support), and the dataset's own train/test split is kept.
Files are read with Hugging Face `datasets`, every column as text, so ids such as tweet
numbers are never mangled into floats.
"""
from __future__ import annotations

import csv
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.config import CorpusConfig, LabelledDatasetConfig
from pipeline.errors import PipelineError
from pipeline.records import LABELS, LabelledQuote


@dataclass
class LabelledCorpus:
    """The records, plus what was left out and why (for the stage summary)."""

    quotes: list[LabelledQuote]
    dropped: Counter = field(default_factory=Counter)


def split_files(config: LabelledDatasetConfig, folder: Path) -> dict[str, Path]:
    named = config.files if config.files is not None else {"all": config.file}
    paths = {split: (folder / name) for split, name in named.items()}
    for path in paths.values():
        if not path.is_file():
            raise PipelineError("labelled dataset file not found", path=path)
    return paths


def header_columns(path: Path, config: LabelledDatasetConfig) -> list[str]:
    """Column names of a CSV/TSV file, so every column can be read as text."""
    try:
        with path.open(encoding=config.encoding, newline="") as handle:
            return next(csv.reader(handle, delimiter="\t" if config.format == "tsv" else ","))
    except (UnicodeDecodeError, LookupError) as error:
        raise PipelineError(f"cannot decode as {config.encoding}: {error}", path=path) from None
    except StopIteration:
        raise PipelineError("empty file", path=path) from None


def read_rows(path: Path, config: LabelledDatasetConfig) -> list[dict[str, Any]]:
    """All rows of one file through `datasets`, with every CSV/TSV column as a string."""
    from datasets import Features, Value, disable_progress_bars, load_dataset

    disable_progress_bars()
    if config.format == "json":
        dataset = load_dataset("json", data_files=str(path), split="train")
    else:
        columns = header_columns(path, config)
        named = [name or f"column_{index}" for index, name in enumerate(columns)]
        dataset = load_dataset("csv", data_files=str(path), split="train", encoding=config.encoding,
                               delimiter="\t" if config.format == "tsv" else ",", column_names=named, skiprows=1,
                               features=Features({name: Value("string") for name in named}),
                               keep_default_na=False, quoting=csv.QUOTE_MINIMAL)
    return list(dataset)


def check_columns(rows: list[dict[str, Any]], config: LabelledDatasetConfig, path: Path) -> None:
    if not rows:
        raise PipelineError("no rows", path=path)
    wanted = {"text_column": config.text_column, "label_column": config.label_column,
              "id_column": config.id_column, "context_column": config.context_column,
              "speaker_column": config.speaker_column, "target_column": config.target_column,
              "split_column": config.split_column,
              **{f"label_score_columns.{label}": column for label, column in config.label_score_columns.items()}}
    for key, column in wanted.items():
        if column is not None and column not in rows[0]:
            raise PipelineError(f"column {column!r} not found; the file has {sorted(rows[0])}", path=path,
                                field=f"corpus.labelled.{key}")


def text_of(value: Any) -> str:
    return "" if value is None else str(value).strip()


def row_label(row: dict[str, Any], config: LabelledDatasetConfig, path: Path, number: int) -> str | None:
    """Our label for a row; None to drop it (unmapped when allowed, or no scores at all)."""
    if config.label_column is not None:
        raw = text_of(row[config.label_column])
        if raw in config.label_map:
            return config.label_map[raw]
        if raw in LABELS and not config.label_map:
            return raw
        if config.drop_unmapped_labels:
            return None
        raise PipelineError(f"label {raw!r} is not in corpus.labelled.label_map {sorted(config.label_map)}",
                            path=path, line=number, field=config.label_column)
    scores = {}
    for label, column in config.label_score_columns.items():
        raw = text_of(row[column])
        if raw:
            try:
                scores[label] = float(raw)
            except ValueError:
                raise PipelineError(f"not a number: {raw!r}", path=path, line=number, field=column) from None
    return max(scores, key=scores.get) if scores else None


def row_split(row: dict[str, Any], file_split: str, config: LabelledDatasetConfig, path: Path, number: int) -> str:
    if config.split_column is None:
        return file_split
    raw = text_of(row[config.split_column])
    if raw not in config.split_map:
        raise PipelineError(f"split value {raw!r} is not in corpus.labelled.split_map {sorted(config.split_map)}",
                            path=path, line=number, field=config.split_column)
    return config.split_map[raw]


def load_labelled_corpus(corpus: CorpusConfig, root: Path) -> LabelledCorpus:
    """Every usable row of the configured dataset as a gold LabelledQuote."""
    config = corpus.labelled
    if config is None:
        raise PipelineError("corpus.kind is not 'labelled'", field="corpus.kind")
    result = LabelledCorpus(quotes=[])
    for file_split, path in split_files(config, (root / corpus.path)).items():
        rows = read_rows(path, config)
        check_columns(rows, config, path)
        for index, row in enumerate(rows):
            number = index + 2 if config.format != "json" else index + 1  # line in the file (after a header)
            text = text_of(row[config.text_column])
            if not text:
                result.dropped["empty text"] += 1
                continue
            label = row_label(row, config, path, number)
            if label is None:
                result.dropped["no usable label"] += 1
                continue
            split = row_split(row, file_split, config, path, number)
            target = text_of(row[config.target_column]) if config.target_column else config.target
            row_id = text_of(row[config.id_column]) if config.id_column else f"{path.name}:{number}"
            quote_hash = hashlib.sha256(f"{corpus.name}\x1f{split}\x1f{row_id}\x1f{text}".encode()).hexdigest()[:16]
            speaker = text_of(row[config.speaker_column]) or None if config.speaker_column else None
            result.quotes.append(LabelledQuote(
                id=quote_hash, article_id=f"{corpus.name}:{row_id}", text=text, kind="direct", cue=None,
                speaker=speaker, speaker_mention=speaker, speaker_role=None, start=0, end=len(text),
                sentence=text_of(row[config.context_column]) if config.context_column else text,
                target=target, label=label, label_source="gold", confidence=1.0, votes={}, split=split))
    if not result.quotes:
        raise PipelineError("no labelled rows left after mapping", path=root / corpus.path)
    return result


def labelled_report(corpus: CorpusConfig, loaded: LabelledCorpus) -> dict[str, Any]:
    """The label stage's report for an already-labelled dataset: every label is gold, from the file;
    counts per split and label, and the rows left out and why. No labeling function voted, so the
    report has no `functions` statistics and no `label_model`."""
    quotes = loaded.quotes
    targets = Counter(quote.target for quote in quotes)
    return {"target": corpus.labelled.target if corpus.labelled.target else f"{len(targets)} targets (per row)",
            "corpus": corpus.name, "source": "labelled dataset", "quotes": len(quotes), "gold": len(quotes),
            "weak": 0, "labels": {label: sum(quote.label == label for quote in quotes) for label in LABELS},
            "splits": {split: {label: sum(q.label == label for q in quotes if q.split == split) for label in LABELS}
                       for split in sorted({quote.split for quote in quotes})},
            "targets": dict(sorted(targets.items())), "dropped": dict(sorted(loaded.dropped.items())),
            "functions": {}, "label_model": None}
