"""One table of input fields (pipeline/records.py MODEL_INPUTS): the config's `model.inputs` Literal,
the model string's tags and keys, the REST request contract, the exported input example and the
predict rows are all derived from it, so a new field is one row there."""
from __future__ import annotations

import io
from typing import get_args

import pytest

from pipeline.config import ModelConfig
from pipeline.errors import PipelineError
from pipeline.export import input_example
from pipeline.models.base import FIELD_KEYS, FIELD_TAGS, INPUT_FIELDS, build_input
from pipeline.predict import PREDICTION_FIELDS, quote_rows, request_of, rows_of_jsonl
from pipeline.records import MODEL_INPUTS, Quote
from pipeline.serving.contract import REQUEST_FIELDS, StanceRequest, parse_request

NAMES = tuple(field.name for field in MODEL_INPUTS)
REQUESTED = tuple(field.name for field in MODEL_INPUTS if field.request)


def test_the_config_literal_and_the_model_fields_are_the_tables():
    [literal] = get_args(ModelConfig.model_fields["inputs"].annotation)
    assert get_args(literal) == NAMES == INPUT_FIELDS
    assert FIELD_KEYS == {field.name: (field.name, *field.aliases) for field in MODEL_INPUTS}
    assert list(FIELD_TAGS) == [field.name for field in sorted(MODEL_INPUTS, key=lambda f: f.string_order)]
    assert all(FIELD_TAGS[field.name] == field.tag for field in MODEL_INPUTS)
    assert len(set(FIELD_TAGS.values())) == len(MODEL_INPUTS)


def test_the_request_contract_is_the_tables_request_fields():
    assert REQUEST_FIELDS == REQUESTED and "votes" not in REQUEST_FIELDS
    assert tuple(StanceRequest.model_fields) == REQUESTED
    required = {name for name, info in StanceRequest.model_fields.items() if info.is_required()}
    assert required == {field.name for field in MODEL_INPUTS if field.required and field.request}
    with pytest.raises(PipelineError, match=f"known: {', '.join(REQUESTED)}"):
        parse_request({"text": "x", "headline": "y"})


def a_quote() -> Quote:
    return Quote(id="q", article_id="a", text="We back it.", kind="direct", cue="said", speaker="Ann Lee",
                 speaker_mention="Lee", speaker_role="minister", start=0, end=11, sentence="She said: We back it.")


def test_predict_rows_and_the_exported_example_carry_every_request_field():
    [row] = quote_rows([a_quote()])
    assert set(REQUESTED) <= set(row) and row["context"] == "She said: We back it."
    assert set(PREDICTION_FIELDS) - {"article_id", "id", "kind", "label", "scores"} <= set(REQUESTED)
    request = request_of(row, "The question")
    assert tuple(request) == REQUESTED
    assert parse_request(request).model_dump() == request
    line = '{"quote": "We back it.", "sentence": "She said: We back it.", "speaker": "Ann Lee", ' \
           '"speaker_role": "minister", "target": "T"}\n'
    [from_jsonl] = rows_of_jsonl(io.StringIO(line), "stdin")
    assert request_of(from_jsonl, None) == {**request, "target": "T"}
    [example] = input_example([{**a_quote().model_dump(), "target": None}], "The question")
    assert example == request
    # a labelled dataset's row carries its own target (records.model_examples has mapped a target id to its name)
    [own] = input_example([{**a_quote().model_dump(), "target": "Another question"}], "The question")
    assert own == {**request, "target": "Another question"}


def test_a_field_of_the_table_reaches_the_model_string():
    example = {"text": "We back it.", "sentence": "She said so.", "speaker": "Ann", "speaker_role": "minister",
               "target": "T", "votes": {"cue_support": "support"}}
    string = build_input(example, NAMES)
    assert all(field.tag in string for field in MODEL_INPUTS)
