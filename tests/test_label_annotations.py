"""Gold annotation files: validation, matching by id then by text, and every bad annotation as a clear error."""
from __future__ import annotations

import pytest

from pipeline.errors import PipelineError
from pipeline.labeling.annotations import (
    Annotation,
    annotation_for,
    match_annotations,
    read_annotations,
    write_annotations,
)

HEADER = "quote_id,article_id,label,speaker,text,note\n"


def write_csv(tmp_path, rows: str):
    path = tmp_path / "target.csv"
    path.write_text(HEADER + rows, encoding="utf-8")
    return path


def test_round_trip_keeps_labels_text_and_notes(tmp_path, make_quote):
    quotes = [make_quote('He said "no" twice, plainly', speaker="Ann"), make_quote("b text", start=50)]
    path = tmp_path / "gold.csv"
    write_annotations(path, [annotation_for(quotes[1], "oppose"), annotation_for(quotes[0], "support", "hard, case")],
                      order={q.id: q.start for q in quotes})
    read = read_annotations(path)
    assert [(a.quote_id, a.label, a.text, a.speaker, a.note) for a in read] == [
        (quotes[0].id, "support", quotes[0].text, "Ann", "hard, case"), (quotes[1].id, "oppose", "b text", "", "")]


def test_unknown_label_names_the_line_and_field(tmp_path):
    path = write_csv(tmp_path, "q1,a1,support,,one,\nq2,a1,against,,two,\n")
    with pytest.raises(PipelineError, match=r"target.csv:3 \[label\]: unknown label 'against'"):
        read_annotations(path)


def test_missing_or_unknown_columns_are_an_error(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("quote_id,label,txt\nq1,support,x\n", encoding="utf-8")
    with pytest.raises(PipelineError, match=r"missing \['article_id', 'text'\], unknown \['txt'\]"):
        read_annotations(path)


def test_empty_required_value_is_an_error(tmp_path):
    with pytest.raises(PipelineError, match=r":2 \[quote_id\]: empty value"):
        read_annotations(write_csv(tmp_path, ",a1,support,,one,\n"))


def test_conflicting_duplicate_is_an_error_and_identical_one_collapses(tmp_path):
    assert len(read_annotations(write_csv(tmp_path, "q1,a1,support,,one,\nq1,a1,support,,one,\n"))) == 1
    with pytest.raises(PipelineError, match=r"conflicting duplicate annotations: q1: 'support' \(line 2\) vs "
                                            r"'oppose' \(line 3\)"):
        read_annotations(write_csv(tmp_path, "q1,a1,support,,one,\nq1,a1,oppose,,one,\n"))


def test_match_by_id_first(make_quote):
    quote = make_quote("The referendum is illegal")
    gold = Annotation(quote_id=quote.id, article_id="a1", label="oppose", text="edited by a human", line=2)
    assert match_annotations([gold], [quote], threshold=0.85) == {quote.id: gold}


def test_re_extracted_span_still_matches_by_text_in_the_same_article(make_quote):
    old = Annotation(quote_id="gone", article_id="a1", label="oppose",
                     text='the talk of a referendum "unacceptable', line=2)
    new = make_quote('the talk of a referendum "unacceptable,"')
    other = make_quote("Such a referendum will have no legal force")
    assert match_annotations([old], [other, new], threshold=0.85) == {new.id: old}


def test_text_match_does_not_cross_articles(make_quote):
    old = Annotation(quote_id="gone", article_id="a2", label="oppose", text="The referendum is illegal", line=2)
    with pytest.raises(PipelineError, match="1 annotation"):
        match_annotations([old], [make_quote("The referendum is illegal", article_id="a1")], threshold=0.85)


def test_all_unmatched_annotations_are_listed_in_one_error(make_quote):
    lost = [Annotation(quote_id="x1", article_id="a1", label="oppose", text="Nothing like it at all", line=2),
            Annotation(quote_id="x2", article_id="a9", label="support", text="Another lost one", line=3)]
    with pytest.raises(PipelineError) as error:
        match_annotations(lost, [make_quote("The referendum is illegal")], threshold=0.85, source="gold.csv")
    message = str(error.value)
    assert message.startswith("gold.csv: 2 annotation(s) match no quote")
    assert "line 2 id x1 (a1): 'Nothing like it at all'" in message and "line 3 id x2 (a9)" in message


def test_two_annotations_of_one_quote_that_disagree_are_an_error(make_quote):
    quote = make_quote("The referendum is illegal")
    by_id = Annotation(quote_id=quote.id, article_id="a1", label="oppose", text=quote.text, line=2)
    by_text = Annotation(quote_id="old", article_id="a1", label="neutral", text="The referendum is illegal.", line=3)
    with pytest.raises(PipelineError, match="disagree"):
        match_annotations([by_id, by_text], [quote], threshold=0.85)
