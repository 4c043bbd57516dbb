"""Target configs (conf/target/): each is a complete guideline and its examples are its own words;
the development sets' configs name camps as organisations and no speaker of theirs."""
from __future__ import annotations

import json
import re

import pytest
import yaml

from helpers import REPO_ROOT, SHARED
from pipeline.config import TargetConfig
from pipeline.labeling.cues import tokens
from pipeline.records import LABELS

TARGETS = sorted((REPO_ROOT / "conf" / "target").glob("*.yaml"))
SHARED_RUN = 6   # this many words in a row shared with an article means the sentence was copied
DEV_SETS = sorted(path.parent for path in (SHARED / "corpus_dev").glob("*/gold.json"))


def shared_articles() -> list:
    """Every article of ../shared/corpus and ../shared/corpus_dev (none when ../shared is absent)."""
    return [*(SHARED / "corpus").glob("*.txt"), *(SHARED / "corpus_dev").glob("*/articles/*.txt")]


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
    assert target.sides.support or target.sides.oppose, "no ballot side names (sides)"
    assert not target.actors or {actor.stance for actor in target.actors} - {None}, "no actor with a known stance"


@pytest.mark.parametrize("folder", DEV_SETS, ids=[folder.name for folder in DEV_SETS])
def test_development_sets_have_a_camps_config_and_a_bare_twin(folder):
    camps = load_target(REPO_ROOT / "conf" / "target" / f"{folder.name}.yaml")
    bare = load_target(REPO_ROOT / "conf" / "target" / f"{folder.name}_bare.yaml")
    assert camps.affiliations and not camps.actors, "camps are organisations (affiliations), never actors"
    assert not (bare.affiliations or bare.actors or bare.lexicon.support or bare.lexicon.oppose
                or bare.lexicon.neutral), "the bare twin names no camps and no cues"
    assert (bare.description, bare.sides, bare.examples) == (camps.description, camps.sides, camps.examples)


def development_speaker_names() -> dict[str, str]:
    """Fragment -> speaker for every gold speaker's `match` fragment that is part of their name
    (a designation such as 'taoiseach' is a role the target notes may name, not a person)."""
    names = {}
    for gold in (SHARED / "corpus_dev").glob("*/gold.json"):
        for article in json.loads(gold.read_text(encoding="utf-8"))["articles"].values():
            for speaker in article["speakers"]:
                names.update({fragment: speaker["speaker"] for fragment in speaker["match"]
                              if len(fragment) > 3 and fragment in speaker["speaker"].lower()})
    return names


def test_no_development_speaker_is_named_under_conf():
    """A config naming a development set's speakers would put the answer in the question."""
    names = development_speaker_names()
    if not names:
        pytest.skip("../shared/corpus_dev is not present")
    conf = " ".join(path.read_text(encoding="utf-8").lower() for path in (REPO_ROOT / "conf").rglob("*.yaml"))
    found = {speaker for fragment, speaker in names.items() if re.search(rf"\b{re.escape(fragment)}\b", conf)}
    assert not found, sorted(found)


@pytest.mark.parametrize("path", TARGETS, ids=[path.stem for path in TARGETS])
def test_examples_are_not_copied_from_the_development_corpus(path):
    articles = shared_articles()
    if not articles:
        pytest.skip("../shared/corpus is not present")
    article_runs = set().union(*(word_runs(article.read_text(encoding="utf-8"), SHARED_RUN) for article in articles))
    target = load_target(path)
    for label, examples in target.examples.items():
        for example in examples:
            assert not word_runs(example, SHARED_RUN) & article_runs, f"{label} example copied: {example!r}"


def test_runs_are_found_across_quote_marks_and_case():
    assert word_runs("He said \u201cthe vote is a sham, and we know it\u201d", 6) & \
        word_runs('THE VOTE is a "sham" and we know it.', 6)


def test_no_project_text_file_copies_a_corpus_sentence():
    """The development corpus stays in ../shared: tests, configs and docs write their own sentences."""
    articles = shared_articles()
    if not articles:
        pytest.skip("../shared/corpus is not present")
    size = 8  # longer than the names the configs share with articles ("Organization for Security and ...")
    article_runs = set().union(*(word_runs(article.read_text(encoding="utf-8"), size) for article in articles))
    folders = ("conf", "docs", "pipeline", "tests", "bench", "seeds", "data")
    files = [path for folder in folders for path in (REPO_ROOT / folder).rglob("*")
             if path.suffix in {".py", ".yaml", ".md", ".csv", ".txt", ".json"} and ".venv" not in path.parts]
    copied = {path.relative_to(REPO_ROOT).as_posix() for path in files
              if word_runs(path.read_text(encoding="utf-8", errors="ignore"), size) & article_runs}
    assert not copied, sorted(copied)
