"""Label stage: quotes + target config + gold annotations -> labelled quotes and a labeling report.

Gold labels (data/annotations/<target>.csv) win where a human gave one. Elsewhere the labeling
functions vote and Snorkel's LabelModel combines the votes. The label model is fitted and
scored with gold withheld, so its accuracy on the gold quotes says how far the weak labels
can be trusted on the quotes nobody annotated. The report reaches MLflow inside the pipeline's
run (pipeline/tracking.py), not as a run of its own: one run per pipeline run.
"""
from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from pipeline.catalog import LABELING_REPORT, LABELLED, QUOTES, Catalog
from pipeline.config import CorpusConfig, LabelingConfig, TargetConfig, load_params, project_root
from pipeline.errors import run_cli
from pipeline.labeling.annotations import Annotation, match_annotations, read_annotations
from pipeline.labeling.label_model import function_report, weak_label
from pipeline.labelled_corpus import labelled_report, load_labelled_corpus
from pipeline.records import LABELS, Label, LabelledQuote, Quote


def label_stage(quotes: Sequence[Quote], annotations: Sequence[Annotation], target: TargetConfig,
                cfg: LabelingConfig, source: Path | None = None) -> tuple[list[LabelledQuote], dict]:
    """Weak labels for all quotes, then the human annotations matched to them override as gold; returns
    the labelled quotes and the report. `source` names the annotation file in errors."""
    matched = match_annotations(annotations, quotes, threshold=cfg.annotation_match_threshold, source=source)
    weak, matrix, functions = weak_label(quotes, target, cfg)
    gold_per_quote = [matched[quote.id].label if quote.id in matched else None for quote in quotes]
    labelled = [quote.model_copy(update={"label": gold_label, "label_source": "gold", "confidence": 1.0})
                if gold_label else quote for quote, gold_label in zip(weak, gold_per_quote)]
    statistics = function_report(matrix, functions, gold_per_quote)
    return labelled, labeling_report(weak, labelled, gold_per_quote, statistics, target)


def labeling_report(weak: Sequence[LabelledQuote], labelled: Sequence[LabelledQuote],
                    gold: Sequence[Label | None], functions: dict, target: TargetConfig) -> dict:
    """Counts, per-function statistics and the label model's accuracy against gold (gold withheld)."""
    judged = [(quote.label, label) for quote, label in zip(weak, gold) if label]
    correct = sum(predicted == label for predicted, label in judged)
    no_votes = sum(all(vote is None for vote in quote.votes.values()) for quote in weak)
    confusion = {gold_label: {predicted: sum(1 for p, g in judged if g == gold_label and p == predicted)
                              for predicted in LABELS} for gold_label in LABELS}
    return {
        "target": target.id,
        "quotes": len(labelled),
        "gold": sum(label is not None for label in gold),
        "weak": sum(quote.label_source == "weak" for quote in labelled),
        "labels": {label: sum(quote.label == label for quote in labelled) for label in LABELS},
        "functions": functions,
        "label_model": {
            "gold_accuracy": round(correct / len(judged), 4) if judged else None,
            "gold_judged": len(judged),
            "gold_confusion": confusion,
            "no_votes": no_votes,
            "mean_confidence": round(sum(q.confidence for q in weak) / len(weak), 4) if weak else None,
            "weak_labels": dict(Counter(quote.label for quote in weak)),
        },
    }


def label_dataset(corpus: CorpusConfig, catalog: Catalog) -> int:
    """An already-labelled dataset: its rows, gold from the file, are the labelled quotes. The target
    config, the annotations and the labeling functions are for extracted quotes, so none is read."""
    loaded = load_labelled_corpus(corpus, catalog.root)
    report = labelled_report(corpus, loaded)
    catalog.write(LABELLED, loaded.quotes)
    catalog.write(LABELING_REPORT, report)
    dropped = ", ".join(f"{count} {reason}" for reason, count in report["dropped"].items())
    print(f"label: {report['quotes']} gold rows from the labelled dataset {corpus.name!r} "
          f"({', '.join(f'{split} {sum(counts.values())}' for split, counts in report['splits'].items())})"
          + (f"; left out: {dropped}" if dropped else ""), file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(prog="python -m pipeline.label", description=__doc__.splitlines()[0]).parse_args(argv)
    params = load_params()
    root = project_root()
    catalog = Catalog(params.paths, root)
    if params.corpus.kind == "labelled":
        return label_dataset(params.corpus, catalog)
    if (root / "conf" / "target").is_dir():
        from pipeline.target import check_selected

        check_selected(root / "conf" / "target", params.target.id)
    quotes = list(catalog.read(QUOTES))
    annotations = catalog.annotations(params.target.id)
    gold = read_annotations(annotations) if annotations.is_file() else []  # a target without a file: no gold yet
    labelled, report = label_stage(quotes, gold, params.target, params.labeling, source=annotations)
    catalog.write(LABELLED, labelled)
    catalog.write(LABELING_REPORT, report)
    accuracy = report["label_model"]["gold_accuracy"]
    print(f"label: {report['quotes']} quotes, {report['gold']} gold, {report['weak']} weak; label model "
          f"accuracy on gold (withheld): {accuracy if accuracy is not None else 'n/a'}"
          + ("" if annotations.is_file() else f"; no gold labels ({annotations.relative_to(root)} does not exist): "
                                              "weak labels only"), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
