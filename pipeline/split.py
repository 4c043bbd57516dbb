"""Split stage: labelled quotes -> data/processed/split (a `datasets` DatasetDict) + split.json.

No article is ever on both sides, and only human (gold) labels are ever evaluated on:
weak labels train, gold labels judge. With too few gold-labelled articles for a held-out
split (the seed alone is one article) the protocol is stratified k-fold cross-validation
over the gold quotes; every training fold also uses the weak-labelled quotes.
"""
from __future__ import annotations

import argparse
import random
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.catalog import LABELLED, SPLIT, Catalog
from pipeline.config import SplitConfig, load_params, project_root
from pipeline.errors import PipelineError, run_cli
from pipeline.records import LabelledQuote, write_split

WEAK_ONLY_FOLD = -1  # training rows that never appear in an evaluation fold


@dataclass
class SplitPlan:
    """Which quotes train and which are evaluated, and by what protocol."""

    protocol: str
    train: list[LabelledQuote]
    test: list[LabelledQuote]
    folds: list[int]  # per train row: its CV fold, or WEAK_ONLY_FOLD (all -1 for holdout)
    n_splits: int


def gold_articles(quotes: list[LabelledQuote]) -> list[str]:
    return sorted({quote.article_id for quote in quotes if quote.label_source == "gold"})


def choose_protocol(quotes: list[LabelledQuote], config: SplitConfig) -> str:
    """A dataset's own split when it has one; hold out articles only when both sides can
    have several gold-labelled articles; else cross-validate."""
    if config.protocol != "auto":
        return config.protocol
    if any(quote.split is not None for quote in quotes):
        return "given"
    if not any(quote.label_source == "gold" for quote in quotes):
        return "none"
    return "holdout" if len(gold_articles(quotes)) >= 2 * config.min_test_articles else "cross_validation"


def given_split(quotes: list[LabelledQuote], config: SplitConfig, seed: int,
                train_splits: Sequence[str] = ("train",)) -> SplitPlan:
    """The dataset's own train/test split: the rows of `train_splits` train (SemEval's official
    training set adds the trial file, our `validation`); other validation rows are kept out of both."""
    missing = sum(quote.split is None for quote in quotes)
    if missing:
        raise PipelineError(f"split.protocol=given, but {missing} quotes carry no split", field="split.protocol")
    train = [q for q in quotes if q.split in train_splits]
    test = [q for q in quotes if q.split == "test" and q.label_source == "gold"]
    if not train or not test:
        raise PipelineError(f"the dataset's split gives {len(train)} training and {len(test)} gold test rows; "
                            "both are needed", field="split.protocol")
    return SplitPlan("given", train, test, [WEAK_ONLY_FOLD] * len(train), 1)


def holdout_split(quotes: list[LabelledQuote], config: SplitConfig, seed: int) -> SplitPlan:
    """Whole articles to test until it holds `test_size` of the gold quotes; test keeps gold only."""
    articles = gold_articles(quotes)
    if len(articles) < config.min_test_articles + 1:
        raise PipelineError(f"a held-out split needs more than {config.min_test_articles} articles with gold "
                            f"labels, found {len(articles)}: use split.protocol=cross_validation",
                            field="split.protocol")
    random.Random(seed).shuffle(articles)
    gold_per_article = Counter(q.article_id for q in quotes if q.label_source == "gold")
    wanted = config.test_size * sum(gold_per_article.values())
    test_articles: set[str] = set()
    for article in articles[:-1]:  # always leave one gold article for training
        if len(test_articles) >= config.min_test_articles and \
                sum(gold_per_article[a] for a in test_articles) >= wanted:
            break
        test_articles.add(article)
    train = [q for q in quotes if q.article_id not in test_articles]
    test = [q for q in quotes if q.article_id in test_articles and q.label_source == "gold"]
    return SplitPlan("holdout", train, test, [WEAK_ONLY_FOLD] * len(train), 1)


def cross_validation_split(quotes: list[LabelledQuote], config: SplitConfig, seed: int) -> SplitPlan:
    """Stratified k-fold over gold quotes (grouped by article when there are enough articles)."""
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    gold = [q for q in quotes if q.label_source == "gold"]
    labels = [q.label for q in gold]
    if len(gold) < 2 or len(set(labels)) < 2:
        raise PipelineError(f"cross-validation needs gold labels of at least two classes; found "
                            f"{dict(Counter(labels))}: annotate more quotes (python -m pipeline.annotate export)")
    n_splits = min(config.cv_folds, max(2, min(Counter(labels).values())), len(gold))
    groups = [q.article_id for q in gold]
    if len(set(groups)) >= n_splits:
        splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
        fold_indices = splitter.split(gold, labels, groups)
    else:
        splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
        fold_indices = splitter.split(gold, labels)
    fold_of = {}
    for fold, (_, test_index) in enumerate(fold_indices):
        for index in test_index:
            fold_of[gold[index].id] = fold
    weak = [q for q in quotes if q.label_source == "weak"]
    train = gold + weak
    folds = [fold_of[q.id] for q in gold] + [WEAK_ONLY_FOLD] * len(weak)
    return SplitPlan("cross_validation", train, gold, folds, n_splits)


def unevaluated_split(quotes: list[LabelledQuote], config: SplitConfig, seed: int) -> SplitPlan:
    """No gold labels: every quote trains on its weak label and nothing is held out to judge."""
    return SplitPlan("none", list(quotes), [], [WEAK_ONLY_FOLD] * len(quotes), 0)


def plan_split(quotes: list[LabelledQuote], config: SplitConfig, seed: int,
               train_splits: Sequence[str] = ("train",)) -> SplitPlan:
    """The split by the chosen protocol; `train_splits` are the dataset splits that train under `given`
    (a labelled corpus's `corpus.labelled.train_splits`)."""
    if not quotes:
        raise PipelineError("no labelled quotes to split")
    protocol = choose_protocol(quotes, config)
    if protocol == "given":
        return given_split(quotes, config, seed, train_splits)
    split = {"holdout": holdout_split, "cross_validation": cross_validation_split, "none": unevaluated_split}
    return split[protocol](quotes, config, seed)


def summarise(plan: SplitPlan) -> dict[str, Any]:
    def describe(quotes: list[LabelledQuote]) -> dict[str, Any]:
        return {"quotes": len(quotes), "articles": len({q.article_id for q in quotes}),
                "labels": dict(sorted(Counter(q.label for q in quotes).items())),
                "sources": dict(sorted(Counter(q.label_source for q in quotes).items()))}

    return {"protocol": plan.protocol, "n_splits": plan.n_splits, "train": describe(plan.train),
            "test": describe(plan.test)}


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(prog="python -m pipeline.split", description=__doc__.splitlines()[0]).parse_args(argv)
    params = load_params()
    catalog = Catalog(params.paths, project_root())
    quotes = list(catalog.read(LABELLED))
    labelled = params.corpus.labelled
    plan = plan_split(quotes, params.split, params.seed, labelled.train_splits if labelled else ("train",))
    summary = summarise(plan)
    write_split(catalog.path(SPLIT), plan.train, plan.folds, plan.test, summary)
    evaluated = (f"evaluated on {summary['test']['quotes']} gold quotes" if plan.protocol != "none"
                 else "no gold labels, so nothing is evaluated (python -m pipeline.annotate export)")
    print(f"split: {plan.protocol} ({plan.n_splits} folds); train {summary['train']['quotes']} quotes, {evaluated}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
