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
import json
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

from spacy.language import Language
from tqdm import tqdm

from pipeline.config import ExtractConfig, load_params, project_root
from pipeline.errors import PipelineError, run_cli
from pipeline.extraction import extract_quotes, load_nlp
from pipeline.files import write_json
from pipeline.records import Article, Quote, read_records, write_records


def extract_articles(articles: list[Article], nlp: Language,
                     cfg: ExtractConfig) -> Iterator[tuple[Article, list[Quote]]]:
    """Parse the bodies in batches (nlp.pipe) and yield each article with its quotes, in input order."""
    extra_cues = frozenset(verb.lower() for verb in cfg.extra_cue_verbs)
    for article in articles:
        if len(article.body) > nlp.max_length:
            raise PipelineError(f"article {article.id!r} is {len(article.body):,} characters, more than the spaCy "
                                f"model takes ({nlp.max_length:,}); ingest refuses it under corpus.max_article_chars",
                                field="body")
    docs = nlp.pipe((article.body for article in articles), batch_size=cfg.batch_size, n_process=cfg.n_process)
    bar = tqdm(zip(articles, docs), total=len(articles), desc="extract", unit="article", file=sys.stderr,
               disable=len(articles) < cfg.progress_min_articles)
    for article, doc in bar:
        yield article, extract_quotes(doc, article.id, extra_cues=extra_cues, max_quote_chars=cfg.max_paragraph_chars)


def summarise(per_article: list[tuple[Article, list[Quote]]]) -> dict:
    """Counts for reports/extract.json: quotes by kind, unresolved speakers (no timing: see above)."""
    quotes = [quote for _, article_quotes in per_article for quote in article_quotes]
    unresolved = [quote for quote in quotes if quote.speaker is None]
    return {
        "articles": len(per_article),
        "articles_without_quotes": sum(1 for _, article_quotes in per_article if not article_quotes),
        "quotes": len(quotes),
        "by_kind": dict(sorted(Counter(quote.kind for quote in quotes).items())),
        "unresolved_speakers": len(unresolved),
        "unresolved_speaker_mentions": dict(Counter(quote.speaker_mention or "" for quote in unresolved)
                                            .most_common(20)),
        "speakers": len({quote.speaker for quote in quotes if quote.speaker}),
    }


def run(articles: list[Article], cfg: ExtractConfig) -> tuple[list[Quote], dict]:
    """All quotes of all articles, and the stage summary."""
    nlp = load_nlp(cfg.spacy_model)
    per_article = list(extract_articles(articles, nlp, cfg))
    summary = summarise(per_article)
    return [quote for _, article_quotes in per_article for quote in article_quotes], summary


def adhoc_config() -> ExtractConfig:
    """The project's extract params when run inside the project, else the defaults."""
    try:
        root = project_root()
    except PipelineError:
        return ExtractConfig()
    return load_params().extract if (root / "params.yaml").is_file() else ExtractConfig()


def print_quotes(quotes: Iterable[Quote]) -> None:
    for quote in quotes:
        print(json.dumps(quote.model_dump(mode="json"), ensure_ascii=False, sort_keys=True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.extract", description=__doc__.splitlines()[0])
    parser.add_argument("--article", type=Path, metavar="FILE",
                        help="print the quotes of this one article file (.txt/.md/.html/.jsonl) as JSON Lines")
    args = parser.parse_args(argv)
    if args.article is not None:
        from pipeline.ingest import read_article_file

        quotes, _ = run(read_article_file(args.article), adhoc_config())
        print_quotes(quotes)
        return 0
    params = load_params()
    root = project_root()
    articles = list(read_records(root / params.paths.interim / "articles.jsonl", Article))
    started = time.perf_counter()
    quotes, summary = run(articles, params.extract)
    seconds = time.perf_counter() - started
    write_records(root / params.paths.interim / "quotes.jsonl", quotes)
    write_json(root / params.paths.reports / "extract.json", summary)
    print(f"extract: {summary['quotes']} quotes from {summary['articles']} articles "
          f"({summary['by_kind']}); {summary['unresolved_speakers']} without a resolved speaker; "
          f"{seconds:.1f} s with the model load", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
