"""Target configs (conf/target/): each is a complete guideline and its examples are its own words."""
from __future__ import annotations

import re

import pytest
import yaml

from pipeline.config import TargetConfig
from pipeline.labeling.cues import tokens
from pipeline.records import LABELS

from conftest import REPO_ROOT, SHARED

TARGETS = sorted((REPO_ROOT / "conf" / "target").glob("*.yaml"))
SHARED_RUN = 6   # this many words in a row shared with an article means the sentence was copied


def load_target(path) -> TargetConfig:
    return TargetConfig.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def word_runs(text: str, size: int) -> set[tuple[str, ...]]:
    words = [word for word in tokens(text) if re.match(r"[a-z0-9]", word)]
    return {tuple(words[i:i + size]) for i in range(len(words) - size + 1)}


@pytest.mark.parametrize("path", TARGETS, ids=[path.stem for path in TARGETS])
def test_target_is_a_complete_guideline(path):
    target = load_target(path)
    assert target.id == path.stem
    assert all(len(target.examples.get(label, [])) >= 2 for label in LABELS)
    assert target.actors and target.affiliations
    assert {actor.stance for actor in target.actors} - {None}, "no actor with a known stance"


@pytest.mark.parametrize("path", TARGETS, ids=[path.stem for path in TARGETS])
def test_examples_are_not_copied_from_the_development_corpus(path):
    corpus = SHARED / "corpus"
    if not corpus.is_dir():
        pytest.skip("../shared/corpus is not present")
    article_runs = set().union(*(word_runs(article.read_text(encoding="utf-8"), SHARED_RUN)
                                 for article in corpus.glob("*.txt")))
    target = load_target(path)
    for label, examples in target.examples.items():
        for example in examples:
            assert not word_runs(example, SHARED_RUN) & article_runs, f"{label} example copied: {example!r}"


def test_runs_are_found_across_quote_marks_and_case():
    assert word_runs("He said \u201cthe vote is a sham, and we know it\u201d", 6) & \
        word_runs('THE VOTE is a "sham" and we know it.', 6)


def test_no_project_text_file_copies_a_corpus_sentence():
    """The development corpus stays in ../shared: tests, configs and docs write their own sentences."""
    corpus = SHARED / "corpus"
    if not corpus.is_dir():
        pytest.skip("../shared/corpus is not present")
    size = 8  # longer than the names the configs share with articles ("Organization for Security and ...")
    article_runs = set().union(*(word_runs(article.read_text(encoding="utf-8"), size)
                                 for article in corpus.glob("*.txt")))
    folders = ("conf", "docs", "pipeline", "tests", "bench", "seeds", "data")
    files = [path for folder in folders for path in (REPO_ROOT / folder).rglob("*")
             if path.suffix in {".py", ".yaml", ".md", ".csv", ".txt", ".json"} and ".venv" not in path.parts]
    copied = {path.relative_to(REPO_ROOT).as_posix() for path in files
              if word_runs(path.read_text(encoding="utf-8", errors="ignore"), size) & article_runs}
    assert not copied, sorted(copied)
