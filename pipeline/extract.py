"""Extract stage: data/interim/articles.jsonl -> data/interim/quotes.jsonl (+ reports/extract.json).

reports/extract.json holds counts only: it is a DVC metric, hashed into dvc.lock, so the
timing (different on every run) goes to stderr instead.

Every reported statement (direct, partial, indirect) with its cue, its speaker resolved to
a name or group, and its character span in the article body, by rules over a spaCy parse
(pipeline/extraction). `python -m pipeline.extract --article FILE` prints the quotes of one
article file as JSON Lines without touching DVC outputs.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from spacy.language import Language
from tqdm import tqdm

from pipeline import engines
from pipeline.catalog import ARTICLES, EXTRACT_REPORT, QUOTES, Catalog
from pipeline.config import ExtractConfig, adhoc_extract_config, load_params, project_root
from pipeline.engines import NumberedLines, Outcome, error_data
from pipeline.errors import PipelineError, run_cli
from pipeline.extraction import extract_quotes, load_nlp
from pipeline.files import write_jsonl
from pipeline.records import Article, Quote, parse_record_line


def extract_articles(articles: list[Article], nlp: Language,
                     cfg: ExtractConfig) -> Iterator[tuple[Article, list[Quote]]]:
    """Parse the bodies in batches (nlp.pipe) and yield each article with its quotes, in input order."""
    extra_cues = frozenset(verb.lower() for verb in cfg.extra_cue_verbs)
    for article in articles:
        check_length(article, nlp)
    docs = nlp.pipe((article.body for article in articles), batch_size=cfg.batch_size, n_process=cfg.n_process)
    bar = tqdm(zip(articles, docs), total=len(articles), desc="extract", unit="article", file=sys.stderr,
               disable=len(articles) < cfg.progress_min_articles)
    for article, doc in bar:
        yield article, extract_quotes(doc, article.id, extra_cues=extra_cues, max_quote_chars=cfg.max_paragraph_chars)


def check_length(article: Article, nlp: Language) -> None:
    if len(article.body) > nlp.max_length:
        raise PipelineError(f"article {article.id!r} is {len(article.body):,} characters, more than the spaCy "
                            f"model takes ({nlp.max_length:,}); ingest refuses it under corpus.max_article_chars",
                            field="body")


class ExtractWorker:
    """The stage's work on numbered lines of articles.jsonl, on either engine (pipeline/engines.py):
    spaCy loads once per worker; each article's quotes come out as the JSON objects written to
    quotes.jsonl, or the error naming its line: a line that is not an Article, an article too long
    to parse, or one the rules fail on (the exception, named with the article)."""

    def __init__(self, cfg: ExtractConfig, source: str):
        self.cfg, self.source, self.nlp = cfg, source, load_nlp(cfg.spacy_model)

    def __call__(self, lines: NumberedLines) -> list[Outcome]:
        outcomes, pending = [], []
        for number, raw in lines:
            try:
                article = parse_record_line(Article, raw, path=self.source, line=number)
                if article is not None:
                    check_length(article, self.nlp)
                    pending.append((number, article))
            except PipelineError as error:
                outcomes.append(Outcome(number, error=error_data(error)))
        outcomes.extend(self.extract(pending))
        return sorted(outcomes, key=lambda outcome: outcome.line)

    def extract(self, pending: list[tuple[int, Article]]) -> Iterator[Outcome]:
        """All articles in one nlp.pipe; should the rules raise, the rest one by one, to name the article."""
        done = 0
        try:
            for (number, _), (_, quotes) in zip(pending, extract_articles([a for _, a in pending], self.nlp, self.cfg)):
                yield Outcome(number, [quote.model_dump(mode="json") for quote in quotes])
                done += 1
            return
        except Exception:  # noqa: BLE001 (which article it was is found below, one at a time)
            pass
        for number, article in pending[done:]:
            try:
                _, quotes = next(extract_articles([article], self.nlp, self.cfg))
            except Exception as error:  # noqa: BLE001 (a bug in the rules, reported with its article)
                failure = PipelineError(f"extraction failed: {type(error).__name__}: {error}", path=self.source,
                                        line=number, field=f"article {article.id}")
                yield Outcome(number, error=error_data(failure))
                continue
            yield Outcome(number, [quote.model_dump(mode="json") for quote in quotes])


def summarise(per_article: Iterable[Sequence[Mapping[str, Any]]], skipped: Sequence[dict] = ()) -> dict:
    """Counts for reports/extract.json from each article's quotes (JSON objects): quotes by kind,
    unresolved speakers, skipped lines (no timing: see above). One pass, so it can ride along a stream."""
    articles = without_quotes = 0
    kinds: Counter = Counter()
    unresolved: Counter = Counter()
    speakers: set[str] = set()
    for quotes in per_article:
        articles += 1
        without_quotes += not quotes
        kinds.update(quote["kind"] for quote in quotes)
        unresolved.update(quote["speaker_mention"] or "" for quote in quotes if quote["speaker"] is None)
        speakers.update(quote["speaker"] for quote in quotes if quote["speaker"])
    return {
        "articles": articles,
        "articles_without_quotes": without_quotes,
        "articles_skipped": len(skipped),
        "skipped": list(skipped),
        "quotes": sum(kinds.values()),
        "by_kind": dict(sorted(kinds.items())),
        "unresolved_speakers": sum(unresolved.values()),
        "unresolved_speaker_mentions": dict(unresolved.most_common(20)),
        "speakers": len(speakers),
    }


def extract_stage(articles: list[Article], cfg: ExtractConfig) -> tuple[list[Quote], dict]:
    """All quotes of all articles, and the stage summary (what main gets from the engines over the file)."""
    nlp = load_nlp(cfg.spacy_model)
    per_article = [quotes for _, quotes in extract_articles(articles, nlp, cfg)]
    summary = summarise([quote.model_dump(mode="json") for quote in quotes] for quotes in per_article)
    return [quote for quotes in per_article for quote in quotes], summary


def extract_corpus(source: Path, target: Path, cfg: ExtractConfig, on_error: str = "fail",
                   label: str | None = None) -> dict:
    """The stage on either engine: the articles of `source` -> their quotes in `target`; returns the summary.
    Errors name the file as `label` (default: `source`). Ray actors parse in their own process each
    (`n_process` 1)."""
    worker_args = {"cfg": cfg if cfg.engine == "local" else cfg.model_copy(update={"n_process": 1}),
                   "source": label or str(source)}
    outcomes = engines.run(cfg.engine, source, ExtractWorker, worker_args, cfg.ray, "extract")
    with contextlib.closing(outcomes):
        return write_quotes(outcomes, target, on_error)


def write_quotes(outcomes: Iterable[Outcome], target: Path, on_error: str = "fail") -> dict:
    """The stage's own part on either engine: each article's quotes, in article order as they arrive, into
    `target` (atomically: an error or Ctrl-C leaves the old file); returns the summary."""
    skipped: list[dict] = []
    per_article: list[list[dict]] = []

    def quotes_of(outputs: Iterable[list[dict]]) -> Iterator[dict]:
        for quotes in outputs:
            per_article.append(quotes)
            yield from quotes

    write_jsonl(target, quotes_of(engines.outputs(outcomes, on_error, skipped)))
    return summarise(per_article, skipped)


def print_quotes(quotes: Iterable[Quote]) -> None:
    for quote in quotes:
        print(json.dumps(quote.model_dump(mode="json"), ensure_ascii=False, sort_keys=True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.extract", description=__doc__.splitlines()[0])
    parser.add_argument("--article", type=Path, metavar="FILE",
                        help="print the quotes of this one article file (.txt/.md/.html/.jsonl) as JSON Lines")
    args = parser.parse_args(argv)
    if args.article is not None:
        from pipeline.ingest import ingest_files

        quotes, _ = extract_stage(ingest_files([args.article]).articles, adhoc_extract_config())
        print_quotes(quotes)
        return 0
    params = load_params()
    root = project_root()
    started = time.perf_counter()
    catalog = Catalog(params.paths, root)
    summary = extract_corpus(catalog.path(ARTICLES), catalog.path(QUOTES), params.extract, params.corpus.on_error,
                             label=str(catalog.relative(ARTICLES)))
    seconds = time.perf_counter() - started
    catalog.write(EXTRACT_REPORT, summary)
    skipped = f"; {summary['articles_skipped']} articles skipped" if summary["articles_skipped"] else ""
    print(f"extract: {summary['quotes']} quotes from {summary['articles']} articles "
          f"({summary['by_kind']}); {summary['unresolved_speakers']} without a resolved speaker{skipped}; "
          f"{seconds:.1f} s with the model load ({params.extract.engine} engine)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
