"""What the exported model takes and gives, and the pure steps between a request and a prediction.

Input: rows of the request fields of pipeline/records.py's MODEL_INPUTS (`text` required, the
others optional strings).
Output: per row, `label` and `scores` (one probability per label in LABELS order).
Kept free of MLflow so predict, export and the tests share one definition.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from pipeline.config import LabelingConfig, TargetConfig
from pipeline.errors import PipelineError, excerpt
from pipeline.records import LABELS, MODEL_INPUTS, Quote

MAX_BATCH_ROWS = 10_000  # one request; larger batches are split by the caller
MAX_TEXT_CHARS = 20_000  # a quote with its context; longer input is not a quote
REQUEST_INPUTS = tuple(field for field in MODEL_INPUTS if field.request)
REQUEST_FIELDS: tuple[str, ...] = tuple(field.name for field in REQUEST_INPUTS)

StanceRequest = create_model(
    "StanceRequest", __doc__="One quote to classify.", __config__=ConfigDict(extra="forbid", strict=True),
    **{field.name: (str, ...) if field.required else (str | None, None) for field in REQUEST_INPUTS})


class StancePrediction(BaseModel):
    """The stance of one quote: the most probable label and every label's probability."""

    label: str
    scores: dict[str, float]


def clean_value(value: Any) -> Any:
    """Table cells as request values: NaN/None (pandas' empty cell) is absent."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def request_values(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row's value of each request field, from the first of the field's keys it holds a value under
    (a quote record's `sentence` is the context), None where it holds none."""
    return {field.name: next((row[key] for key in field.keys if row.get(key) is not None), None)
            for field in REQUEST_INPUTS}


def parse_request(row: Mapping[str, Any] | BaseModel) -> StanceRequest:
    """Validate one row; a bad one is an error naming its field (quoting at most a prefix of it)."""
    if isinstance(row, BaseModel):
        row = row.model_dump()
    if not isinstance(row, Mapping):
        raise PipelineError(f"expected an object with a 'text' field, got {type(row).__name__}")
    try:
        request = StanceRequest.model_validate({key: clean_value(value) for key, value in row.items()})
    except ValidationError as error:
        first = error.errors()[0]
        field = excerpt(".".join(str(part) for part in first["loc"]) or "row")
        message = {"missing": "is required", "extra_forbidden": f"is not a known field "
                   f"(known: {', '.join(REQUEST_FIELDS)})"}.get(first["type"], first["msg"].lower())
        raise PipelineError(f"{field} {message}", field=field) from None
    if not request.text.strip():
        raise PipelineError("text is empty", field="text")
    too_long = [name for name in REQUEST_FIELDS if len(getattr(request, name) or "") > MAX_TEXT_CHARS]
    if too_long:
        raise PipelineError(f"{too_long[0]} is longer than {MAX_TEXT_CHARS} characters", field=too_long[0])
    return request


def parse_requests(rows: Iterable[Mapping[str, Any] | BaseModel]) -> list[StanceRequest]:
    """Validate a batch of rows; the first bad row is an error naming its index and field."""
    requests = []
    for index, row in enumerate(rows):
        try:
            requests.append(parse_request(row))
        except PipelineError as error:
            raise PipelineError(f"row {index}: {error.message}", field=error.field) from None
        if len(requests) > MAX_BATCH_ROWS:
            raise PipelineError(f"batch larger than {MAX_BATCH_ROWS} rows: send it in smaller batches")
    return requests


def request_quotes(requests: Sequence[StanceRequest]) -> list[Quote]:
    """Requests as quote records, so the target's labeling functions can vote on them."""
    return [Quote(id=f"request-{index}", article_id="request", text=request.text, kind="direct", cue=None,
                  speaker=request.speaker, speaker_mention=request.speaker, speaker_role=request.speaker_role,
                  start=0, end=len(request.text), sentence=request.context or request.text)
            for index, request in enumerate(requests)]


class VoteSource:
    """The labeling functions of the model's target, for classifiers that read their votes."""

    def __init__(self, target: TargetConfig, labeling: LabelingConfig,
                 reads: Callable[[str], bool] | None = None):
        """Only the functions `reads(name)` accepts are built and run (the classifier's own choice;
        None: all the labeling config lists)."""
        from pipeline.labeling.functions import build_labeling_functions

        self.target = target
        read = [name for name in labeling.functions if reads is None or reads(name)]
        self.functions = build_labeling_functions(target, labeling.model_copy(update={"functions": read}))

    def votes(self, requests: Sequence[StanceRequest]) -> list[dict[str, str | None]]:
        from pipeline.labeling.label_model import vote_matrix, votes_of

        matrix = vote_matrix(self.functions, request_quotes(requests))
        return [votes_of(row, self.functions) for row in matrix]


def model_examples(requests: Sequence[StanceRequest], votes: Sequence[Mapping[str, Any]] | None) -> list[dict]:
    """The dicts a StanceModel reads: the request's fields, plus `votes` when computed."""
    examples = [request.model_dump() for request in requests]
    if votes is not None:
        for example, row_votes in zip(examples, votes):
            example["votes"] = dict(row_votes)
    return examples


def predictions(proba: np.ndarray) -> list[StancePrediction]:
    """One prediction per row of a (n, len(LABELS)) probability matrix."""
    return [StancePrediction(label=LABELS[int(row.argmax())],
                             scores={label: round(float(value), 6) for label, value in zip(LABELS, row)})
            for row in proba]
