"""The development-set scorer (pipeline/extraction/gold_quotes.py) on a gold file written for the test."""
from __future__ import annotations

import json

import pytest

from pipeline.errors import PipelineError
from pipeline.extraction.gold_quotes import Predicted, read_gold, score_article

BODY = 'Title\n\n"We will win," said Ann Lee. The council said the vote was fair. Tom Park said it was "rigged".'


def gold_article(tmp_path):
    data = {"articles": {"01": {"file": "articles/01.txt",
                                "speakers": [{"speaker": "Ann Lee", "match": ["lee"], "stance": "support"},
                                             {"speaker": "Tom Park", "match": ["park"], "stance": "oppose"}],
                                "quotes": [{"text": "We will win", "speaker": "Ann Lee"},
                                           {"text": "the vote was fair", "speaker": "Town Council"},
                                           {"text": "rigged", "speaker": "Tom Park"}]}}}
    (tmp_path / "gold.json").write_text(json.dumps(data), encoding="utf-8")
    [article] = read_gold(tmp_path)
    return article


def test_scores_recall_attribution_wrong_person_and_speakers(tmp_path):
    article = gold_article(tmp_path)
    at = BODY.index
    predicted = [Predicted(at("We will win"), at("We will win") + 11, "Ann Lee"),
                 Predicted(at("the vote"), at("the vote") + 17, "the council"),  # a shortening of the name
                 Predicted(at("it was"), at("rigged") + 6, "Ann Lee")]  # the wrong person
    summary = score_article(article, BODY, predicted).summary()
    assert (summary["found"], summary["attributed_right"], summary["attributed"]) == (3, 2, 3)
    assert (summary["wrong_person"], summary["speakers_found"], summary["speakers"]) == (1, 1, 2)


def test_the_innermost_quote_holding_a_fragment_is_scored(tmp_path):
    article = gold_article(tmp_path)
    start = BODY.index("Tom Park")
    outer = Predicted(start, len(BODY), "The newspaper")
    inner = Predicted(BODY.index("rigged"), BODY.index("rigged") + 6, "Tom Park")
    outcome = score_article(article, BODY, [outer, inner]).outcomes[2]
    assert outcome.found == inner and outcome.right


def test_a_malformed_gold_file_is_a_one_line_error(tmp_path):
    (tmp_path / "gold.json").write_text('{"articles": {"01": {"file": "x"}}}', encoding="utf-8")
    with pytest.raises(PipelineError, match="gold quotes lack a field"):
        read_gold(tmp_path)
