"""The records that stages pass to each other, defined once and validated when read.

Labels are exactly LABELS, in this order everywhere (label ids, score columns, plots).
"""
from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, ValidationError

from pipeline.errors import PipelineError
from pipeline.files import atomic_dir, parse_jsonl_lines, read_jsonl, write_jsonl

if TYPE_CHECKING:
    from pipeline.config import TargetConfig

LABELS: tuple[str, ...] = ("support", "oppose", "neutral")
Label = Literal["support", "oppose", "neutral"]
LABEL2ID: dict[str, int] = {label: index for index, label in enumerate(LABELS)}
# direct: the words in quotation marks; partial: a report quoting some of its words; indirect: a
# report without quotation marks; question: a question or request put to someone ("asked the
# minister whether ...", "urged voters to ..."), whose speaker is the one who asks.
QuoteKind = Literal["direct", "partial", "indirect", "question"]
QUOTE_KINDS: tuple[str, ...] = get_args(QuoteKind)


@dataclass(frozen=True)
class InputField:
    """A field a stance model may read: the one table (MODEL_INPUTS) that `model.inputs`, the model
    string's tags, the REST request contract and the predict rows are derived from.

    `aliases`: other names a record gives it (a quote record calls the context `sentence`);
    `tag`: how the model string marks it; `string_order`: its place in the model string;
    `request`: a REST request carries it (serving computes the votes, a client never sends them);
    `required`: every request and example has it.
    """

    name: str
    tag: str
    string_order: int
    aliases: tuple[str, ...] = ()
    request: bool = True
    required: bool = False

    @property
    def keys(self) -> tuple[str, ...]:
        """Where a record holds the field, its own name first."""
        return (self.name, *self.aliases)


# In request, config and message order. In the model string the short fields come first and the
# quote before its context, so that truncation to a transformer's maximum length cuts the context,
# never the quote or the votes.
MODEL_INPUTS: tuple[InputField, ...] = (
    InputField("text", "[quote]", string_order=4, required=True),
    InputField("context", "[context]", string_order=5, aliases=("sentence",)),
    InputField("speaker", "[speaker]", string_order=1),
    InputField("speaker_role", "[role]", string_order=2),
    InputField("target", "[target]", string_order=0),
    InputField("votes", "[votes]", string_order=3, request=False),
)
INPUT_NAMES: tuple[str, ...] = tuple(field.name for field in MODEL_INPUTS)


class Record(BaseModel):
    """Strict base: unknown fields and wrong types are errors, not silently dropped."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class StrippedText(Record):
    """A piece of boilerplate that ingest removed from the article, kept for auditing."""

    kind: Literal["caption", "dateline", "credit"]
    text: str


class Article(Record):
    """One news article. `body` starts with the headline, because headlines carry
    attributions ("X Says ...") and every quote offset must index one string."""

    id: str
    title: str
    date: str | None = None
    source: str | None = None
    body: str
    sha256: str
    path: str
    stripped: list[StrippedText] = []


class Quote(Record):
    """A reported statement and who made it; `body[start:end]` contains `text`."""

    id: str
    article_id: str
    text: str
    kind: QuoteKind
    cue: str | None
    speaker: str | None
    speaker_mention: str | None
    speaker_role: str | None
    start: int
    end: int
    sentence: str


class LabelledQuote(Quote):
    """A quote with its stance toward the target, from a human (gold) or the label model (weak)."""

    target: str
    label: Label
    label_source: Literal["gold", "weak"]
    confidence: float
    votes: dict[str, Label | None] = {}
    split: Literal["train", "validation", "test"] | None = None  # set by datasets that come pre-split


def normalise_text(text: str) -> str:
    """Fold case, quote marks and white space so trivial re-extraction changes keep the id."""
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"[\u201c\u201d\u201e\u201f\u00ab\u00bb\"]", '"', text)
    text = re.sub(r"[\u2018\u2019\u201a\u201b`]", "'", text)
    return re.sub(r"\s+", " ", text).strip().lower()


def quote_id(article_id: str, text: str) -> str:
    """Stable id: a hash of the article id and the normalised quote text."""
    digest = hashlib.sha256(f"{article_id}\x1f{normalise_text(text)}".encode()).hexdigest()
    return digest[:16]


RecordT = TypeVar("RecordT", bound=Record)


def parse_record(record_type: type[RecordT], data: dict, *, path: str | Path | None = None,
                 line: int | None = None) -> RecordT:
    """Validate one dict as `record_type`, naming the first bad field on failure."""
    try:
        return record_type.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        raise PipelineError(f"invalid {record_type.__name__}: {first['msg']}",
                            path=path, line=line, field=field) from None


def parse_record_line(record_type: type[RecordT], raw: bytes | str, *, path: str | Path,
                      line: int) -> RecordT | None:
    """Line `line` of the JSON Lines file `path` as a record, None when blank: what read_records does
    line by line, for engines that hand numbered lines to workers (the same errors, file and line)."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise PipelineError(f"not UTF-8 text ({error.reason} at byte {error.start} of the line)",
                                path=path, line=line) from None
    for number, data in parse_jsonl_lines([raw], path, first_line=line):
        return parse_record(record_type, data, path=path, line=number)
    return None


def read_records(path: str | Path, record_type: type[RecordT]) -> Iterator[RecordT]:
    """Read and validate a JSON Lines file of `record_type`."""
    for line, data in read_jsonl(path):
        yield parse_record(record_type, data, path=path, line=line)


def write_records(path: str | Path, records: Iterable[Record]) -> int:
    """Write records as JSON Lines atomically; returns how many."""
    return write_jsonl(path, (record.model_dump(mode="json") for record in records))


# The split stage's output (data/processed/split): the rows every model reads, as a `datasets` DatasetDict
# with the split summary beside it. Written by split, read by train, evaluate and export.
SPLIT_DATA, SPLIT_SUMMARY = "data", "split.json"


def quote_row(quote: LabelledQuote) -> dict[str, Any]:
    """A flat row for `datasets` (votes as JSON text: functions differ between targets)."""
    row = quote.model_dump(mode="json")
    row["votes"] = json.dumps(row["votes"], sort_keys=True)
    return row


def example_from_row(row: dict[str, Any]) -> dict[str, Any]:
    """A split row back into what models read (votes as a dict again)."""
    return {**row, "votes": json.loads(row["votes"]) if isinstance(row.get("votes"), str) else row.get("votes")}


def write_split(folder: Path, train: Sequence[LabelledQuote], folds: Sequence[int], test: Sequence[LabelledQuote],
                summary: dict[str, Any]) -> None:
    """The split into `folder` atomically: train rows with their CV fold, test rows, and the summary."""
    from datasets import Dataset, DatasetDict, disable_progress_bars

    disable_progress_bars()
    train_rows = Dataset.from_list([{**quote_row(q), "fold": fold} for q, fold in zip(train, folds)])
    test_rows = [quote_row(q) for q in test]
    # `datasets` cannot read back an empty split it saved, so a split without test rows saves none.
    splits = DatasetDict({"train": train_rows, **({"test": Dataset.from_list(test_rows)} if test_rows else {})})
    with atomic_dir(folder) as tmp:
        splits.save_to_disk(str(tmp / SPLIT_DATA))
        (tmp / SPLIT_SUMMARY).write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")


def read_split(folder: Path) -> tuple[dict[str, list[dict[str, Any]]], dict[str, Any]]:
    """The train/test rows (as model examples) and the split summary."""
    from datasets import load_from_disk

    if not (folder / SPLIT_SUMMARY).is_file():
        raise PipelineError("split not found (has the split stage run?)", path=folder)
    data = load_from_disk(str(folder / SPLIT_DATA))
    rows = {name: [example_from_row(row) for row in data[name]] if name in data else []
            for name in ("train", "test")}
    return rows, json.loads((folder / SPLIT_SUMMARY).read_text())


def model_examples(rows: list[dict[str, Any]], target: TargetConfig) -> list[dict[str, Any]]:
    """Rows as model inputs: the target's readable name for target-aware models."""
    return [{**row, "target": target.name if row.get("target") == target.id else row.get("target")}
            for row in rows]
