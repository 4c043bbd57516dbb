"""Ingest: cleaned article records from every supported format, and one clear error per bad file."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers import REPO_ROOT, SEED_ARTICLE, special_files
from pipeline.errors import PipelineError
from pipeline.files import find_article_files
from pipeline.ingest import ingest_files, read_article_file
from pipeline.records import Article, read_records

SEED_TITLE = "South Ossetian Leader Says Breakaway Georgian Region Seeks Vote To Join Russia"


@pytest.fixture
def seed() -> Article:
    [article] = read_article_file(SEED_ARTICLE)
    return article


def test_seed_title_and_id(seed):
    assert seed.id == "000_85df15e701a7a6da"
    assert seed.title == SEED_TITLE
    assert seed.body.startswith(SEED_TITLE + "\n\nThe leader of Georgia's Moscow-backed")


def test_seed_body_has_no_caption_dateline_or_credit(seed):
    assert "(file photo)" not in seed.body
    assert "TBILISI --" not in seed.body
    assert "With reporting by" not in seed.body
    assert seed.body.endswith("if a decision to proceed is taken.")
    assert [(piece.kind, piece.text) for piece in seed.stripped] == [
        ("caption", "South Ossetia's leader, Anatoly Bibilov (file photo)"),
        ("dateline", "TBILISI --"),
        ("credit", "With reporting by Kommersant, TASS, AFP, Reuters, and Interfax"),
    ]


def test_seed_keeps_every_quote_paragraph(seed):
    assert '"Such a referendum will have no legal force," he told journalists.' in seed.body
    assert seed.body.count("\n\n") == 15  # headline + 15 paragraphs (18 lines less caption, title, credit)


def test_header_lines_give_source_and_date(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("Title here\nhttps://example.org/news/1\n2022-09-20 TRUNCATED\n\nBody line one.\nBody line two.\n")
    [article] = read_article_file(path)
    assert (article.title, article.source, article.date) == ("Title here", "https://example.org/news/1",
                                                             "2022-09-20")
    assert article.body == "Title here\n\nBody line one.\n\nBody line two."


def test_markdown_front_matter(tmp_path):
    path = tmp_path / "b.md"
    path.write_text("---\ntitle: Vote called\ndate: 2024-01-02\nsource: Example News\n---\n\n"
                    "MOSCOW (Reuters) - The **vote** was [called](http://x) today.\n")
    [article] = read_article_file(path)
    assert (article.title, article.date, article.source) == ("Vote called", "2024-01-02", "Example News")
    assert article.body == "Vote called\n\nThe vote was called today."
    assert [(p.kind, p.text) for p in article.stripped] == [("dateline", "MOSCOW (Reuters) -")]


def test_html_article(tmp_path):
    path = tmp_path / "c.html"
    path.write_text("""<html><head><title>Site | Story</title>
      <meta property="og:title" content="Leader says vote is near">
      <meta property="article:published_time" content="2022-03-31">
      <meta property="og:site_name" content="RFE/RL"><script>var x = "not text";</script></head>
      <body><nav>Home | World</nav><h1>Leader says vote is near</h1>
      <figure><img src="a.jpg"><figcaption>The leader in 2021.</figcaption></figure>
      <p>TBILISI -- The leader said the vote is near.</p><p>&quot;We are ready,&quot; he said.</p>
      <footer>Copyright</footer></body></html>""")
    [article] = read_article_file(path)
    assert (article.title, article.date, article.source) == ("Leader says vote is near", "2022-03-31", "RFE/RL")
    assert article.body == 'Leader says vote is near\n\nThe leader said the vote is near.\n\n"We are ready," he said.'
    assert {p.kind for p in article.stripped} == {"caption", "dateline"}


def test_jsonl_articles(tmp_path):
    path = tmp_path / "batch.jsonl"
    rows = [{"id": "x1", "title": "One", "body": "First text.", "date": "2020-01-01"},
            {"title": "Two", "text": "Second text."}]
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n\n")
    first, second = read_article_file(path)
    assert (first.id, first.body, first.date) == ("x1", "One\n\nFirst text.", "2020-01-01")
    assert (second.id, second.body) == ("batch-2", "Two\n\nSecond text.")


def test_exact_duplicates_are_dropped_and_reported(tmp_path):
    shutil.copy(SEED_ARTICLE, tmp_path / "a.txt")
    shutil.copy(SEED_ARTICLE, tmp_path / "b.txt")
    result = ingest_files(find_article_files(tmp_path, ["txt"]))
    assert [a.id for a in result.articles] == ["a"]
    assert result.duplicates == [{"id": "b", "path": (tmp_path / "b.txt").as_posix(), "duplicate_of": "a"}]


@pytest.mark.parametrize(("name", "content", "message"), [
    ("empty.txt", b"", "empty file"),
    ("blank.txt", b"  \n\n ", "empty file"),
    ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file"),
    ("latin1.txt", "Caf\u00e9 vote\n\nLe pr\u00e9sident a dit.".encode("latin-1"), "not UTF-8 text: byte 0xe9"),
    ("bad.jsonl", b'{"title": "ok", "body": "fine"}\n{"title": "broken", "body": \n', "bad.jsonl:2: malformed JSON"),
    ("nobody.jsonl", b'{"title": "no body"}\n', "nobody.jsonl:1 [body]: missing article text"),
    ("typed.jsonl", b'{"title": 5, "body": "x"}\n', "typed.jsonl:1 [title]: must be a string"),
])
def test_bad_files_name_the_problem(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(PipelineError, match=message.replace("[", r"\[").replace("]", r"\]")) as error:
        read_article_file(path)
    assert str(path) in str(error.value)


def test_skip_mode_leaves_bad_files_out(tmp_path):
    shutil.copy(SEED_ARTICLE, tmp_path / "good.txt")
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe\x00binary")
    result = ingest_files(find_article_files(tmp_path, ["txt"]), on_error="skip")
    assert [a.id for a in result.articles] == ["good"]
    assert "binary file" in result.skipped[0]["error"]


def make_project(tmp_path: Path, corpus_files: dict[str, bytes]) -> Path:
    """A minimal project: the committed params.yaml pointed at a temp corpus folder."""
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    params["corpus"]["path"] = "articles"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    (tmp_path / "articles").mkdir()
    for name, content in corpus_files.items():
        (tmp_path / "articles" / name).write_bytes(content)
    return tmp_path


def run_ingest(project: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline.ingest"], cwd=project, capture_output=True, text=True)


def test_stage_writes_validated_records_and_summary(tmp_path):
    project = make_project(tmp_path, {"seed.txt": SEED_ARTICLE.read_bytes(), "copy.txt": SEED_ARTICLE.read_bytes()})
    done = run_ingest(project)
    assert done.returncode == 0, done.stderr
    [article] = read_records(project / "data/interim/articles.jsonl", Article)
    assert article.id == "copy"  # files are read in sorted order; the later copy is the duplicate
    summary = json.loads((project / "reports/ingest.json").read_text())
    assert (summary["articles"], summary["duplicates_dropped"]) == (1, 1)
    assert "duplicate dropped" in done.stderr


def test_stage_fails_cleanly_and_keeps_earlier_output(tmp_path):
    project = make_project(tmp_path, {"seed.txt": SEED_ARTICLE.read_bytes()})
    assert run_ingest(project).returncode == 0
    output = project / "data/interim/articles.jsonl"
    before = output.read_bytes()
    (project / "articles" / "zz.txt").write_bytes(b"\x00\x01\x02")
    done = run_ingest(project)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [f"error: {project / 'articles/zz.txt'}: binary file, not article text"]
    assert output.read_bytes() == before
    assert sorted(p.name for p in output.parent.iterdir()) == ["articles.jsonl"]  # no temp file left behind


def test_paths_that_are_not_regular_files_are_listed_as_skipped(tmp_path):
    """A FIFO, /dev/zero, a symlink loop or a link to nothing named like an article is neither read
    (it would block or never end) nor left out unsaid: the stage lists it as skipped, even with
    `on_error: fail`, and ingests the rest."""
    project = make_project(tmp_path, {"seed.txt": SEED_ARTICLE.read_bytes()})
    kinds = special_files(project / "articles")
    (project / "articles" / "sub").symlink_to(project / "articles")  # a folder loop: not followed
    done = subprocess.run([sys.executable, "-m", "pipeline.ingest"], cwd=project, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}, timeout=120)
    assert done.returncode == 0, done.stderr
    summary = json.loads((project / "reports/ingest.json").read_text())
    assert (summary["articles"], summary["files_skipped"]) == (1, len(kinds))
    assert {item["path"]: item["error"] for item in summary["skipped"]} == {
        f"articles/{name}": f"articles/{name}: not a regular file ({kind}): refused unread"
        for name, kind in kinds.items()}
    assert done.stderr.count("  skipped: ") == len(kinds)


def test_a_file_over_the_read_cap_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "huge.txt"
    with path.open("wb") as handle:
        handle.truncate(20 * 200_000 + 1)  # sparse: one byte more than 20 x max_article_chars
    with pytest.raises(PipelineError, match=r"huge.txt: file is 4,000,001 bytes, more than 20 x "
                                            r"corpus.max_article_chars \(200,000\) can hold"):
        read_article_file(path, max_chars=200_000)
