"""Speaker-level agreement of the weak labels with the development corpus index (../shared/corpus).

For every corpus article: ingest that one file, extract its quotes (pipeline.extraction), weak-label
them against the article's target (bench/corpus_targets.yaml maps the file number to a
conf/target/<id>.yaml), aggregate the quote labels per speaker, and compare with the speaker stances
that INDEX.md names. Speakers the index calls "unnamed in text" are skipped; '(borderline)' ones count
in the overall figure and are also reported on their own. An indexed speaker the extractor gives no
quote to counts as a disagreement ("missing"), so extraction misses are not hidden.

Aggregation per speaker: pipeline/speakers.py (the rule `predict --by-speaker` uses), each quote
weighing its label-model confidence; neutral is discounted, which matters here too because neutral
is what a quote gets when no labeling function votes at all.

Two figures are printed, because the target configs list well-known actors with their stances:
"all functions" (what the label stage does) and "text only" (speaker_prior and affiliation_prior
left out), which measures what the quotes themselves say.

    .venv/bin/python -m bench.label_agreement                 # every indexed article
    .venv/bin/python -m bench.label_agreement --articles 15 16 --quotes
"""
from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from bench import ROOT
from pipeline.config import Params, compose, validate_params
from pipeline.extract import extract_articles
from pipeline.extraction import load_nlp
from pipeline.ingest import ingest_files
from pipeline.labeling.functions import find_actor
from pipeline.labeling.label_model import weak_label
from pipeline.records import Label, LabelledQuote, Quote
from pipeline.speakers import NEUTRAL_WEIGHT, SpeakerStance, speaker_stance

CORPUS = ROOT.parent / "shared" / "corpus"
TARGETS = Path(__file__).with_name("corpus_targets.yaml")
PRIORS = ("speaker_prior", "affiliation_prior")
VARIANTS = ("all functions", "text only")

_ROW = re.compile(r"^\|\s*(?P<number>\d+)\s*\|\s*`(?P<file>[^`]+)`\s*\|(?P<cells>.*)$")
_STANCE = re.compile(r"\*\*(?P<name>[^*]+)\*\*\s*:\s*(?P<label>support|oppose|neutral)\b(?P<rest>[^<|]*)")


@dataclass(frozen=True)
class IndexedStance:
    """One named speaker's stance as INDEX.md gives it."""

    number: int
    file: str
    speaker: str
    stance: Label
    borderline: bool


def parse_index(text: str) -> list[IndexedStance]:
    """Named speaker stances from the index table ('**Name**: oppose (borderline); reason');
    speakers marked 'unnamed' are left out."""
    stances = []
    for line in text.splitlines():
        row = _ROW.match(line)
        if not row:
            continue
        for match in _STANCE.finditer(row["cells"]):
            if "unnamed" in match["name"].lower():
                continue
            stances.append(IndexedStance(int(row["number"]), row["file"], match["name"].strip(), match["label"],
                                         "(borderline)" in match["rest"].split(";")[0]))
    return stances


def normalise_name(name: str) -> str:
    """'Haider al-Abadi' and 'Haider Al Abadi' are one name."""
    return re.sub(r"[\s\-\u2010]+", " ", name).strip().casefold()


def quotes_stance(quotes: Sequence[LabelledQuote], neutral_weight: float = NEUTRAL_WEIGHT) -> SpeakerStance:
    """The speaker's stance from their weak-labelled quotes (pipeline/speakers.py's rule)."""
    return speaker_stance(((quote.label, quote.confidence) for quote in quotes), neutral_weight)


def quotes_of(speaker: str, quotes: Iterable[Quote], params: Params) -> list:
    """The quotes whose speaker is this person: the same normalised name, or the same configured actor."""
    wanted = normalise_name(speaker)
    actor = find_actor(params.target, speaker)
    return [quote for quote in quotes if quote.speaker and (
        normalise_name(quote.speaker) == wanted
        or (actor is not None and find_actor(params.target, quote.speaker) == actor))]


@dataclass(frozen=True)
class Comparison:
    """One indexed speaker: the index's stance and ours per variant (None: no quote found)."""

    indexed: IndexedStance
    predicted: dict[str, SpeakerStance | None]


def agreement(comparisons: Sequence[Comparison], variant: str) -> dict[str, dict[str, float | int | None]]:
    """Agreed / total, overall and for clear and borderline speakers apart; a missing speaker disagrees."""
    groups = {"overall": list(comparisons),
              "clear": [c for c in comparisons if not c.indexed.borderline],
              "borderline": [c for c in comparisons if c.indexed.borderline]}
    result = {}
    for name, group in groups.items():
        agreed = sum(1 for c in group if c.predicted[variant] and c.predicted[variant].label == c.indexed.stance)
        result[name] = {"agreed": agreed, "total": len(group),
                        "missing": sum(1 for c in group if c.predicted[variant] is None),
                        "rate": round(agreed / len(group), 3) if group else None}
    return result


def read_targets(path: Path = TARGETS) -> dict[int, str]:
    """File number -> target id."""
    return {int(number): target for number, target in yaml.safe_load(path.read_text(encoding="utf-8")).items()}


def target_params(target_id: str) -> Params:
    """The project's configuration with this target, composed and validated like params.yaml."""
    return validate_params(compose(ROOT / "conf", [f"target={target_id}"]), source=f"conf/ (target={target_id})")


def without_priors(params: Params) -> Params:
    functions = [name for name in params.labeling.functions if name not in PRIORS]
    return params.model_copy(update={"labeling": params.labeling.model_copy(update={"functions": functions})})


def compare_article(path: Path, indexed: Sequence[IndexedStance], params: Params, nlp,
                    neutral_weight: float) -> tuple[list[Comparison], dict[str, list[LabelledQuote]]]:
    """Ingest, extract and weak-label one article (once per variant), then compare its indexed speakers."""
    articles = ingest_files([path]).articles
    quotes = [quote for _, found in extract_articles(articles, nlp, params.extract) for quote in found]
    variants = {VARIANTS[0]: params, VARIANTS[1]: without_priors(params)}
    labelled = {name: weak_label(quotes, cfg.target, cfg.labeling)[0] for name, cfg in variants.items()}
    comparisons = []
    for stance in indexed:
        predicted = {}
        for name in VARIANTS:
            own = quotes_of(stance.speaker, labelled[name], params)
            predicted[name] = quotes_stance(own, neutral_weight) if own else None
        comparisons.append(Comparison(stance, predicted))
    return comparisons, labelled


def _cell(stance: SpeakerStance | None) -> str:
    if stance is None:
        return "missing"
    w = stance.weights
    return f"{stance.label} ({stance.quotes}q s{w['support']:.1f}/o{w['oppose']:.1f}/n{w['neutral']:.1f})"


def print_article(number: int, target_id: str, comparisons: Sequence[Comparison],
                  labelled: Mapping[str, Sequence[LabelledQuote]], show_quotes: bool) -> None:
    print(f"\n[{number}] {comparisons[0].indexed.file}  target={target_id}")
    print(f"  {'speaker':<22} {'index':<21} {VARIANTS[0]:<38} {VARIANTS[1]}")
    for c in comparisons:
        index = c.indexed.stance + (" (borderline)" if c.indexed.borderline else "")
        marks = ["ok" if p and p.label == c.indexed.stance else "NO" for p in c.predicted.values()]
        print(f"  {c.indexed.speaker:<22} {index:<21} {_cell(c.predicted[VARIANTS[0]]) + ' ' + marks[0]:<38} "
              f"{_cell(c.predicted[VARIANTS[1]])} {marks[1]}")
    if show_quotes:
        for quote in labelled[VARIANTS[0]]:
            votes = ", ".join(f"{name}={vote}" for name, vote in quote.votes.items() if vote)
            print(f"    - {quote.speaker or '?'}: {quote.label} {quote.confidence:.2f} | {quote.text[:90]!r} | {votes}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="folder holding INDEX.md and the articles")
    parser.add_argument("--targets", type=Path, default=TARGETS, help="YAML: file number -> target id")
    parser.add_argument("--articles", type=int, nargs="*", help="only these file numbers (default: all indexed)")
    parser.add_argument("--neutral-weight", type=float, default=0.5,
                        help="how much a neutral quote counts against a side")
    parser.add_argument("--quotes", action="store_true", help="also print every quote with its label and votes")
    parser.add_argument("--quick", action="store_true", help="smoke test: the first indexed article only")
    args = parser.parse_args(argv)
    index = args.corpus / "INDEX.md"
    if not index.is_file():
        print(f"no corpus index at {index}", file=sys.stderr)
        return 2
    indexed = parse_index(index.read_text(encoding="utf-8"))
    targets = read_targets(args.targets)
    numbers = sorted({stance.number for stance in indexed} & set(args.articles or targets))[:1 if args.quick else None]
    unmapped = sorted({stance.number for stance in indexed} - set(targets))
    if unmapped:
        print(f"no target for articles {unmapped} in {args.targets}: left out", file=sys.stderr)
    nlp = None
    comparisons: list[Comparison] = []
    for number in numbers:
        params = target_params(targets[number])
        nlp = nlp or load_nlp(params.extract.spacy_model)
        article = [stance for stance in indexed if stance.number == number]
        found, labelled = compare_article(args.corpus / article[0].file, article, params, nlp, args.neutral_weight)
        print_article(number, targets[number], found, labelled, args.quotes)
        comparisons += found
    print(f"\nspeaker-level agreement over {len(numbers)} articles (neutral weight {args.neutral_weight}):")
    for variant in VARIANTS:
        scores = agreement(comparisons, variant)
        print(f"  {variant:<14} " + "  ".join(
            f"{name} {s['agreed']}/{s['total']} = {s['rate']}" + (f" ({s['missing']} missing)" if s["missing"] else "")
            for name, s in scores.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
