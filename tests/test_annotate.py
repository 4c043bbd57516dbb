"""Annotation round trip: export with weak pre-labels, import reviewed CSV / Label Studio JSON, and
every bad reviewed file as a clear error that leaves the gold file untouched."""
from __future__ import annotations

import csv
import json
import re
import shutil
from types import SimpleNamespace

import pytest

from helpers import REPO_ROOT
from pipeline.annotate import main
from pipeline.errors import run_cli
from pipeline.labeling.annotations import annotation_for, read_annotations, write_annotations
from pipeline.records import write_records

GOLD = "data/annotations/south_ossetia_referendum.csv"


@pytest.fixture
def project(tmp_path, monkeypatch, make_quote):
    """A throwaway project: params.yaml, three quotes, the first one already gold."""
    shutil.copy(REPO_ROOT / "params.yaml", tmp_path / "params.yaml")
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    quotes = [make_quote("Such a referendum is illegal and has no legal force", speaker="David Zalkaliani"),
              make_quote("The unification with Russia is our strategic goal", speaker="Anatoly Bibilov", start=100),
              make_quote("The weather was fine that day", speaker="A Farmer", start=200)]
    write_records(tmp_path / "data/interim/quotes.jsonl", quotes)
    write_annotations(tmp_path / GOLD, [annotation_for(quotes[0], "oppose", "clear")])
    monkeypatch.chdir(tmp_path)
    return SimpleNamespace(root=tmp_path, quotes=quotes)


def read_csv(path):
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def write_review(path, rows):
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["quote_id", "label", "note"])
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_export_lists_unlabelled_quotes_least_certain_first(project):
    assert main(["export"]) == 0
    rows = read_csv(project.root / "data/review/south_ossetia_referendum.csv")
    farmer, bibilov = project.quotes[2], project.quotes[1]
    assert [row["quote_id"] for row in rows] == [farmer.id, bibilov.id]         # gold quote left out
    assert float(rows[0]["confidence"]) < float(rows[1]["confidence"])
    assert rows[1]["weak_label"] == "support" and "speaker_prior=support" in rows[1]["votes"]
    assert rows[0]["label"] == ""
    tasks = json.loads((project.root / "data/review/south_ossetia_referendum.label-studio.json").read_text())
    assert tasks[1]["data"]["quote_id"] == bibilov.id
    assert tasks[1]["predictions"][0]["result"][0]["value"]["choices"] == ["support"]
    assert tasks[1]["predictions"][0]["score"] == pytest.approx(float(rows[1]["confidence"]), abs=1e-4)


def test_export_all_includes_gold_with_its_label(project):
    assert main(["export", "--all"]) == 0
    rows = {row["quote_id"]: row for row in read_csv(project.root / "data/review/south_ossetia_referendum.csv")}
    assert rows[project.quotes[0].id]["gold_label"] == "oppose" == rows[project.quotes[0].id]["label"]


def test_import_reviewed_csv_adds_labels_and_skips_blank_rows(project, capsys):
    review = write_review(project.root / "review.csv", [
        {"quote_id": project.quotes[1].id, "label": "support", "note": "goal = outcome"},
        {"quote_id": project.quotes[2].id, "label": "", "note": ""},
        {"quote_id": project.quotes[0].id, "label": "oppose", "note": ""}])
    assert main(["import", str(review)]) == 0
    gold = {a.quote_id: a for a in read_annotations(project.root / GOLD)}
    assert {qid: a.label for qid, a in gold.items()} == {project.quotes[0].id: "oppose",
                                                         project.quotes[1].id: "support"}
    assert gold[project.quotes[1].id].speaker == "Anatoly Bibilov" and gold[project.quotes[0].id].note == "clear"
    assert "1 added, 1 unchanged, 0 replaced" in capsys.readouterr().err


def test_import_label_studio_export(project):
    assert main(["export"]) == 0
    tasks = json.loads((project.root / "data/review/south_ossetia_referendum.label-studio.json").read_text())
    tasks[0]["annotations"] = [{"was_cancelled": False, "result": [
        {"from_name": "stance", "to_name": "text", "type": "choices", "value": {"choices": ["neutral"]}}]}]
    tasks[1]["annotations"] = [{"was_cancelled": True, "result": [
        {"from_name": "stance", "to_name": "text", "type": "choices", "value": {"choices": ["oppose"]}}]}]
    exported = project.root / "export.json"
    exported.write_text(json.dumps(tasks))
    assert main(["import", str(exported)]) == 0
    labels = {a.quote_id: a.label for a in read_annotations(project.root / GOLD)}
    assert labels == {project.quotes[0].id: "oppose", project.quotes[2].id: "neutral"}


@pytest.mark.parametrize("rows, message", [
    (lambda q: [{"quote_id": q[1].id, "label": "pro", "note": ""}], r"review.csv:2 \[label\]: unknown label 'pro'"),
    (lambda q: [{"quote_id": "no-such-quote", "label": "support", "note": ""}],
     r"1 reviewed label\(s\) name no current quote: no-such-quote \(line 2\)"),
    (lambda q: [{"quote_id": q[1].id, "label": "support", "note": ""}, {"quote_id": q[1].id, "label": "oppose",
                                                                         "note": ""}],
     "conflicting duplicate annotations"),
    (lambda q: [{"quote_id": q[0].id, "label": "neutral", "note": ""}],
     r"differ from the gold label \(use --replace to change them\).*gold 'oppose', reviewed 'neutral'"),
])
def test_bad_reviews_are_clear_errors_and_change_nothing(project, capsys, rows, message):
    before = (project.root / GOLD).read_bytes()
    review = write_review(project.root / "review.csv", rows(project.quotes))
    assert run_cli(main, ["import", str(review)]) == 2
    assert re.search(message, capsys.readouterr().err)
    assert (project.root / GOLD).read_bytes() == before


def test_replace_changes_gold_and_says_so(project, capsys):
    review = write_review(project.root / "review.csv",
                          [{"quote_id": project.quotes[0].id, "label": "neutral", "note": ""}])
    assert main(["import", str(review), "--replace"]) == 0
    assert read_annotations(project.root / GOLD)[0].label == "neutral"
    assert f"replaced {project.quotes[0].id}: oppose -> neutral" in capsys.readouterr().err


def test_label_studio_task_with_an_unknown_choice_is_an_error(project, capsys):
    exported = project.root / "export.json"
    exported.write_text(json.dumps([{"data": {"quote_id": project.quotes[1].id}, "annotations": [
        {"result": [{"from_name": "stance", "value": {"choices": ["maybe"]}}]}]}]))
    assert run_cli(main, ["import", str(exported)]) == 2
    assert "task 1: unknown label 'maybe'" in capsys.readouterr().err
