"""Development corpus (../shared/corpus): every speaker INDEX.md names is found, correctly named.

The names are read from the index's stance column (`**Name**: stance; ...`); a speaker the
index marks "unnamed in text" has no name to find and is left out.
"""
from __future__ import annotations

import re

import pytest

from helpers import SHARED
from pipeline.config import ExtractConfig
from pipeline.extract import extract_stage
from pipeline.ingest import ingest_files

CORPUS = SHARED / "corpus"
ROW = re.compile(r"^\|\s*\d+\s*\|\s*`(?P<file>[^`]+)`\s*\|(?P<rest>.*)$")
BOLD = re.compile(r"\*\*(?P<name>[^*]+)\*\*")


def indexed_speakers() -> list[tuple[str, str]]:
    """(file name, speaker name) for every named speaker in INDEX.md."""
    index = CORPUS / "INDEX.md"
    if not index.is_file():
        return []
    pairs = []
    for line in index.read_text(encoding="utf-8").splitlines():
        row = ROW.match(line)
        if row:
            pairs += [(row["file"], bold["name"].strip()) for bold in BOLD.finditer(row["rest"])
                      if "unnamed" not in bold["name"]]
    return pairs


def normalise_name(name: str) -> str:
    """'Haider al-Abadi' and 'Haider Al Abadi' are one name."""
    return re.sub(r"[\s\-\u2010]+", " ", name).strip().lower()


SPEAKERS = indexed_speakers()


@pytest.fixture(scope="module")
def speakers_by_file() -> dict[str, set[str]]:
    if not SPEAKERS:
        pytest.skip("../shared/corpus/INDEX.md is not present")
    files = sorted({file for file, _ in SPEAKERS})
    articles = ingest_files([CORPUS / file for file in files]).articles
    quotes, _ = extract_stage(articles, ExtractConfig())
    found: dict[str, set[str]] = {file: set() for file in files}
    for article, file in zip(articles, files):
        found[file] = {normalise_name(quote.speaker) for quote in quotes
                       if quote.article_id == article.id and quote.speaker}
    return found


def test_index_lists_the_speakers():
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is not present")
    assert len(SPEAKERS) >= 20


@pytest.mark.parametrize(("file", "name"), SPEAKERS, ids=[name for _, name in SPEAKERS])
def test_named_speaker_has_a_quote(speakers_by_file, file, name):
    assert normalise_name(name) in speakers_by_file[file]
