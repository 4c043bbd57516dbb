"""The extract stage end to end: main() on a temp project, the --article CLI, bad input."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers import REPO_ROOT, SEED_ARTICLE
from pipeline.config import ExtractConfig
from pipeline.extract import extract_stage, main
from pipeline.ingest import ingest_files
from pipeline.records import Article, Quote, read_records, write_records


def article(body: str, article_id: str = "a") -> Article:
    return Article(id=article_id, title=body.split("\n")[0], body=body, sha256="0" * 64, path=f"{article_id}.txt")


def quotes_of(body: str) -> list[Quote]:
    quotes, _ = extract_stage([article(body)], ExtractConfig())
    for quote in quotes:
        assert body[quote.start:quote.end] == quote.text
    return quotes


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temp project holding the seed article as the ingest output."""
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    write_records(tmp_path / "data/interim/articles.jsonl",
                  [*ingest_files([SEED_ARTICLE]).articles, article("Headline only", "headline")])
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_stage_writes_quotes_and_summary(project):
    assert main([]) == 0
    quotes = list(read_records(project / "data/interim/quotes.jsonl", Quote))
    summary = json.loads((project / "reports/extract.json").read_text())
    assert len(quotes) == summary["quotes"] == 17
    assert summary["articles"] == 2 and summary["articles_without_quotes"] == 1
    assert summary["by_kind"] == {"direct": 5, "indirect": 6, "partial": 6}
    assert summary["unresolved_speakers"] == 0


def test_stage_output_is_deterministic(project):
    main([])
    first = (project / "data/interim/quotes.jsonl").read_bytes()
    main([])
    assert (project / "data/interim/quotes.jsonl").read_bytes() == first


def test_article_cli_prints_json_lines(tmp_path):
    done = subprocess.run([sys.executable, "-m", "pipeline.extract", "--article", str(SEED_ARTICLE)],
                          cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(rows) == 17
    assert set(rows[0]) == set(Quote.model_fields)
    assert {"Dmitry Peskov", "David Zalkaliani", "Valery Kvarchia"} <= {row["speaker"] for row in rows}


def test_unresolved_speaker_stays_and_is_counted():
    quotes, summary = extract_stage([article("Title\n\nHe said the plan would fail.")], ExtractConfig())
    assert [(q.text, q.speaker, q.speaker_mention) for q in quotes] == [("the plan would fail", None, "He")]
    assert summary["unresolved_speakers"] == 1


@pytest.mark.parametrize("body", [
    "Headline only",
    "Title\n\nNo quotes here at all. Just facts about the weather.",
    'Title\n\n"This quote never closes, said nobody\n\nAnd "another one," he said. "Then.',
    'Title\n\n""\n\n"\n\n"""" said',
    "Title\n\n" + "word " * 6000,  # one 30,000-character paragraph
    "Title\n\n" + 'The minister said that "it is fine. ' * 700,
    "Title\n\n\u201cCurly open never closed, she said.\n\nStray close\u201d here.",
])
def test_bad_input_does_not_crash(body):
    for quote in quotes_of(body):
        assert quote.start < quote.end


def test_unbalanced_quote_runs_to_paragraph_end():
    [quote] = quotes_of('Title\n\nAlex Smith said: "We will win this vote.\n\nThe count starts Monday.')
    assert quote.text == "We will win this vote"
    assert quote.speaker == "Alex Smith"


def test_two_processes_give_the_same_quotes():
    articles = [*ingest_files([SEED_ARTICLE]).articles, article('Title\n\n"We agree," Ana Pires said.', "b")]
    one, _ = extract_stage(articles, ExtractConfig())
    two, _ = extract_stage(articles, ExtractConfig(n_process=2, batch_size=1))
    assert one == two and len(one) == 18
