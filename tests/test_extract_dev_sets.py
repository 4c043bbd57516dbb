"""Speaker attribution on the development sets (../shared/corpus_dev, gold.json): the figures of
bench/extract_speed.py must not fall. The floors are the goals of issue 23 (speaker recall and
attribution accuracy >= 0.95, wrong-named-person rate <= 0.02), which the rules now meet on both sets."""
from __future__ import annotations

import pytest

from helpers import SHARED
from pipeline.config import ExtractConfig
from pipeline.extract import extract_articles
from pipeline.extraction import load_nlp
from pipeline.extraction.gold_quotes import Predicted, fold, merge, read_gold, score_article
from pipeline.extraction.resolution import PersonRegistry
from pipeline.ingest import read_article_file

FLOORS = {  # set: (speaker recall, attribution accuracy, wrong-named-person rate at most)
    "chile_constitution_2022": (0.95, 0.95, 0.02),
    "ireland_eighth_amendment_2018": (0.95, 0.95, 0.02),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FLOORS))
def test_development_set_attribution_holds(name):
    folder = SHARED / "corpus_dev" / name
    if not (folder / "gold.json").is_file():
        pytest.skip(f"{folder} is not present")
    cfg = ExtractConfig()
    nlp = load_nlp(cfg.spacy_model)
    gold = read_gold(folder)
    articles = [article for item in gold for article in read_article_file(item.file)]
    scores = []
    for item, (article, quotes), doc in zip(gold, extract_articles(articles, nlp, cfg),
                                            nlp.pipe(article.body for article in articles)):
        people = {fold(person) for person in PersonRegistry(doc).people}
        scores.append(score_article(item, article.body, [Predicted(q.start, q.end, q.speaker) for q in quotes], people))
    summary = merge(scores).summary()
    speaker_recall, attribution, wrong_person = FLOORS[name]
    assert summary["speaker_recall"] >= speaker_recall, summary
    assert summary["attribution_accuracy"] >= attribution, summary
    assert summary["wrong_person_rate"] <= wrong_person, summary
