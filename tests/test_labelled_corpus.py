"""Already-labelled datasets load through `datasets` with column and label mapping, keeping their split."""
from __future__ import annotations

import pytest

from pipeline.config import CorpusConfig, SplitConfig
from pipeline.errors import PipelineError
from pipeline.labelled_corpus import load_labelled_corpus
from pipeline.split import plan_split


def corpus(**labelled) -> CorpusConfig:
    return CorpusConfig.model_validate({"name": "tiny", "kind": "labelled", "path": "data", "labelled": labelled})


@pytest.fixture
def files(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "train.csv").write_text(
        "id_str,TWEET,LABEL\n"
        "1098892781681082368,We back the vote,FAVOR\n"
        "1098892781681082369,\"The vote is a sham, reject it\",AGAINST\n"
        "1098892781681082370,The vote is on Sunday,NONE\n")
    (folder / "test.csv").write_text("id_str,TWEET,LABEL\n1,Vote yes,FAVOR\n2,,AGAINST\n")
    (folder / "all.tsv").write_text(
        "sentence\tagree\tdisagree\tneutral\theld_out\n"
        "Warming is real\t0.9\t0.05\t0.05\tFalse\n"
        "Warming is a hoax\t\t\t\tFalse\n"
        "Seas will rise\t0.2\t0.1\t0.7\tTrue\n")
    return tmp_path


LABEL_MAP = {"FAVOR": "support", "AGAINST": "oppose", "NONE": "neutral"}


def test_csv_files_per_split_with_label_map(files):
    config = corpus(files={"train": "train.csv", "test": "test.csv"}, text_column="TWEET", label_column="LABEL",
                    id_column="id_str", label_map=LABEL_MAP, target="the vote")
    loaded = load_labelled_corpus(config, files)
    assert [(q.text, q.label, q.split) for q in loaded.quotes] == [
        ("We back the vote", "support", "train"), ("The vote is a sham, reject it", "oppose", "train"),
        ("The vote is on Sunday", "neutral", "train"), ("Vote yes", "support", "test")]
    assert loaded.quotes[0].article_id == "tiny:1098892781681082368"  # ids stay text, never floats
    assert loaded.dropped == {"empty text": 1}
    assert {q.label_source for q in loaded.quotes} == {"gold"} and loaded.quotes[0].target == "the vote"


def test_tsv_with_split_column_and_label_scores(files):
    config = corpus(format="tsv", file="all.tsv", split_column="held_out", split_map={"False": "train", "True": "test"},
                    text_column="sentence", target="global warming",
                    label_score_columns={"support": "agree", "oppose": "disagree", "neutral": "neutral"})
    loaded = load_labelled_corpus(config, files)
    assert [(q.text, q.label, q.split) for q in loaded.quotes] == [("Warming is real", "support", "train"),
                                                                    ("Seas will rise", "neutral", "test")]
    assert loaded.dropped == {"no usable label": 1}
    plan = plan_split(loaded.quotes, SplitConfig(), seed=0)
    assert (plan.protocol, [q.text for q in plan.train], [q.text for q in plan.test]) == (
        "given", ["Warming is real"], ["Seas will rise"])


@pytest.mark.parametrize(("change", "message"), [
    ({"text_column": "tweet"}, r"\[corpus.labelled.text_column\]: column 'tweet' not found"),
    ({"label_map": {"FAVOR": "support", "AGAINST": "oppose"}}, r"train.csv:4 \[LABEL\]: label 'NONE' is not in"),
])
def test_bad_mapping_names_the_column_or_row(files, change, message):
    config = corpus(**{"files": {"train": "train.csv", "test": "test.csv"}, "text_column": "TWEET",
                       "label_column": "LABEL", "label_map": LABEL_MAP, "target": "x", **change})
    with pytest.raises(PipelineError, match=message):
        load_labelled_corpus(config, files)


def test_config_refuses_an_incomplete_mapping():
    with pytest.raises(ValueError, match="label_column"):
        corpus(files={"train": "a.csv"}, text_column="t", target="x")


def test_catalonia_as_given(shared):
    config = CorpusConfig.model_validate({
        "name": "catalonia_es", "kind": "labelled", "path": str(shared / "data" / "catalonia_independence"),
        "labelled": {"files": {"train": "spanish_train.csv", "validation": "spanish_val.csv",
                               "test": "spanish_test.csv"}, "format": "tsv", "text_column": "TWEET",
                     "label_column": "LABEL", "id_column": "id_str", "target": "Catalan independence",
                     "label_map": {"FAVOR": "support", "AGAINST": "oppose", "NEUTRAL": "neutral"}}})
    loaded = load_labelled_corpus(config, shared)
    splits = {split: sum(q.split == split for q in loaded.quotes) for split in ("train", "validation", "test")}
    assert all(count > 1000 for count in splits.values()), splits
    assert {q.label for q in loaded.quotes} == {"support", "oppose", "neutral"}
