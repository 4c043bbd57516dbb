"""dvc.yaml agrees with pipeline/catalog.py: DVC reads its paths as literals, the stages take theirs from
the catalog, and this is what keeps the two the same (issue 25: paths were spelled three times)."""
from __future__ import annotations

import pytest
import yaml

from helpers import REPO_ROOT
from pipeline.catalog import ARTIFACTS, Catalog, written_by
from pipeline.config import PathsConfig
from pipeline.records import Article, LabelledQuote

CONF_PATHS = PathsConfig(**yaml.safe_load((REPO_ROOT / "conf" / "config.yaml").read_text())["paths"])
CATALOG = Catalog(CONF_PATHS)
STAGES = yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text())["stages"]


def entry_paths(entries: list) -> set[str]:
    """The paths of a dvc.yaml list: plain strings, or one-key mappings of a path to its options."""
    return {entry if isinstance(entry, str) else next(iter(entry)) for entry in entries}


def test_every_stage_declares_exactly_the_artifacts_it_writes():
    declared = {name: entry_paths(stage.get("outs", []) + stage.get("metrics", []) + stage.get("plots", []))
                for name, stage in STAGES.items()}
    catalogued = {name: {str(CATALOG.relative(artifact)) for artifact in written_by(name)} for name in STAGES}
    assert declared == catalogued
    assert {artifact.stage for artifact in ARTIFACTS} - {None} <= set(STAGES)


def test_data_deps_and_plots_are_catalog_paths():
    known = ({str(CATALOG.relative(artifact)) for artifact in ARTIFACTS if artifact.stage}
             | set(CONF_PATHS.model_dump().values()))
    data_deps = {dep for stage in STAGES.values() for dep in entry_paths(stage["deps"])
                 if not dep.startswith(("pipeline", "${"))}
    plots = yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text())["plots"]
    plotted = {path for plot in plots for path in
               ([plot] if isinstance(plot, str) else next(iter(plot.values())).get("y", {}).keys())}
    assert data_deps - known == set()
    assert plotted - known == set()


def test_the_config_defaults_are_the_configured_paths():
    """`--model` of pipeline.predict defaults to the catalog path under PathsConfig's defaults."""
    assert PathsConfig() == CONF_PATHS


def test_paths_follow_the_paths_node(tmp_path):
    moved = Catalog(PathsConfig(reports="out/reports"), tmp_path)
    [metrics] = [artifact for artifact in written_by("evaluate") if artifact.name == "metrics.json"]
    assert moved.path(metrics) == tmp_path / "out" / "reports" / "metrics.json"
    assert moved.annotations("t") == tmp_path / "data" / "annotations" / "t.csv"


def samples(quote) -> dict[str, tuple]:
    """Data each writer takes, by artifact name."""
    article = Article(id="a1", title="T", body="T\n\nbody", sha256="0" * 64, path="a.txt")
    labelled = LabelledQuote(**quote.model_dump(), target="t", label="support", label_source="gold", confidence=1.0)
    report, rows, columns = {"quotes": 1}, [{"speaker": "A", "stance": "oppose"}], ["speaker", "stance"]
    return {"articles.jsonl": ([article],), "quotes.jsonl": ([quote],), "labelled.jsonl": ([labelled],),
            "predictions.jsonl": (rows,), "errors.csv": (rows, columns), "plots/confusion.csv": (rows, columns),
            "speakers.csv": (rows, columns), "stance_report.html": ("<p>who stands where</p>",),
            **{name: (report,) for name in ("ingest.json", "extract.json", "labeling.json", "metrics.json",
                                            "export.json", "mlflow_run.json")}}


@pytest.mark.parametrize("artifact", [a for a in ARTIFACTS if a.writer], ids=lambda artifact: artifact.name)
def test_each_artifact_reads_back_what_it_wrote(tmp_path, make_quote, artifact):
    catalog = Catalog(PathsConfig(), tmp_path)
    data = samples(make_quote("We will vote", speaker="A"))[artifact.name]
    catalog.write(artifact, *data)
    read = catalog.read(artifact)
    if artifact.name == "predictions.jsonl":  # read_jsonl numbers the rows
        read = [row for _, row in read]
    assert (list(read) if isinstance(data[0], list) else read) == data[0]
