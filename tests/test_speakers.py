"""Who stands where: speaker rows per article and across the corpus, and the page that shows them."""
from __future__ import annotations

import re

import pytest

from pipeline.config import Affiliation, TargetConfig
from pipeline.records import LabelledQuote
from pipeline.speakers import SPEAKER_COLUMNS, corpus_stances, speaker_rows
from pipeline.stance_report import render_report

TARGET = TargetConfig(id="dam", name="The dam referendum", description="Whether the valley is dammed.",
                      terms=["dam"], subject=["the valley"],
                      affiliations=[Affiliation(name="Dam Now", aliases=["Dam Now campaign"], stance="support"),
                                    Affiliation(name="Save the Valley", stance="oppose")])


def prediction(article: str, speaker: str | None, label: str, score: float, text: str = "words",
               role: str | None = None) -> dict:
    rest = (1 - score) / 2
    return {"article_id": article, "id": f"{article}-{text}", "speaker": speaker, "speaker_role": role,
            "text": text, "kind": "direct", "label": label,
            "scores": {other: score if other == label else rest for other in ("support", "oppose", "neutral")}}


def test_rows_per_article_and_across_the_corpus():
    rows = speaker_rows([
        prediction("a1", "Ann Lee", "support", 0.6, "we back the dam", "chair of the Dam Now campaign"),
        prediction("a1", "Ann Lee", "neutral", 0.9, "the vote is in May"),
        prediction("a2", "ann  lee", "support", 0.8, "build it now"),
        prediction("a2", "Bo Chan", "oppose", 0.7, "the valley must stay"),
        prediction("a2", None, "oppose", 0.99, "unattributed"),
    ], TARGET)
    assert all(set(row) == set(SPEAKER_COLUMNS) for row in rows)
    corpus = [row for row in rows if row["scope"] == "corpus"]
    articles = [(row["article_id"], row["speaker"], row["stance"]) for row in rows if row["scope"] == "article"]
    assert [(row["speaker"], row["quotes"], row["stance"]) for row in corpus] == [
        ("Ann Lee", 3, "support"), ("Bo Chan", 1, "oppose")]  # pooled across articles, however spelled
    assert articles == [("a1", "Ann Lee", "support"), ("a2", "ann  lee", "support"), ("a2", "Bo Chan", "oppose")]
    ann = corpus[0]
    assert (ann["weight_support"], ann["weight_neutral"]) == pytest.approx((1.4, 0.9))
    # the evidence shows the stance given, however confident the neutral quote was
    assert (ann["evidence"], ann["evidence_article_id"], ann["evidence_label"]) == ("build it now", "a2", "support")
    assert ann["camp"] == "Dam Now" and corpus[1]["camp"] is None
    assert "unattributed" not in {row["evidence"] for row in rows}


def test_the_page_has_a_row_per_speaker_escapes_text_and_loads_nothing():
    predictions = [prediction("a1", "Ann <b>Lee</b>", "support", 0.8, "<script>alert(1)</script>"),
                   prediction("a1", "Bo Chan", "oppose", 0.7)]
    page = render_report(TARGET, speaker_rows(predictions, TARGET), predictions)
    assert page.count("<tr class='speaker'>") == 2
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Ann &lt;b&gt;Lee&lt;/b&gt;" in page
    assert not re.search(r"""(src|href)\s*=\s*['"]?(https?:)?//""", page), "the page must not load anything"
    assert "By camp" in page and "Save the Valley" not in page  # only camps that have speakers are charted
    bare = TARGET.model_copy(update={"affiliations": []})
    assert "By camp" not in render_report(bare, speaker_rows(predictions, bare), predictions)


def labelled(row: dict, label: str, source: str, confidence: float, voted: bool = True) -> LabelledQuote:
    fields = {key: row[key] for key in ("id", "article_id", "text", "kind", "speaker", "speaker_role")}
    return LabelledQuote(**fields, cue="said", speaker_mention=row["speaker"], start=0, end=len(row["text"]),
                         sentence=row["text"],
                         target=TARGET.id, label=label, label_source=source, confidence=confidence,
                         votes={"cue_oppose": label if voted else None, "cue_support": None})


def test_corpus_stances_take_gold_then_voted_weak_labels_then_the_classifier():
    rows = [prediction("a1", "Ann Lee", "neutral", 0.5, "we will vote no"),       # gold says oppose
            prediction("a1", "Bo Chan", "neutral", 0.6, "no to the dam"),         # a function voted oppose
            prediction("a1", "Cy Dee", "support", 0.7, "the vote is in May"),     # nobody voted: the classifier
            prediction("a1", "Di Eng", "support", 0.8, "not labelled")]           # not in labelled.jsonl
    known = {rows[0]["id"]: labelled(rows[0], "oppose", "gold", 1.0),
             rows[1]["id"]: labelled(rows[1], "oppose", "weak", 0.9),
             rows[2]["id"]: labelled(rows[2], "neutral", "weak", 0.4, voted=False)}
    answered = corpus_stances(rows, known)
    assert [(row["stance"], row["stance_source"]) for row in answered] == [
        ("oppose", "gold"), ("oppose", "weak"), ("support", "model"), ("support", "model")]
    assert [row["label"] for row in answered] == ["neutral", "neutral", "support", "support"]  # the classifier's stay
    speakers = {row["speaker"]: row for row in speaker_rows(answered, TARGET) if row["scope"] == "corpus"}
    assert speakers["Ann Lee"]["stance"] == "oppose" and speakers["Ann Lee"]["evidence_source"] == "gold"
    assert speakers["Bo Chan"]["weight_oppose"] == pytest.approx(0.9)
    assert speakers["Cy Dee"]["stance"] == "support" and speakers["Cy Dee"]["evidence_source"] == "model"
    # without corpus stances (predict --article), the classifier answers as before
    assert {row["speaker"]: row["stance"] for row in speaker_rows(rows, TARGET) if row["scope"] == "corpus"}[
        "Ann Lee"] == "neutral"
