"""Shared fixtures: the project root, ../shared, and an environment with no hub access."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"
SEED_ARTICLE = REPO_ROOT / "seeds" / "000_85df15e701a7a6da.txt"


@pytest.fixture
def shared() -> Path:
    """../shared beside the project (CI has it too); tests that need it skip without it."""
    if not SHARED.is_dir():
        pytest.skip("../shared is not present")
    return SHARED


@pytest.fixture
def in_repo(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run with the project root as the current folder (stages find params.yaml there)."""
    monkeypatch.chdir(REPO_ROOT)
    monkeypatch.delenv("DVC_ROOT", raising=False)
    return REPO_ROOT


@pytest.fixture
def make_quote():
    """Build a Quote from a text and whatever else a test cares about (id from the text)."""
    from pipeline.records import Quote, quote_id

    def build(text: str, *, article_id: str = "a1", speaker: str | None = None, sentence: str | None = None,
              speaker_mention: str | None = None, speaker_role: str | None = None, start: int = 0) -> Quote:
        return Quote(id=quote_id(article_id, text), article_id=article_id, text=text, kind="direct",
                     cue="said", speaker=speaker, speaker_mention=speaker_mention or speaker,
                     speaker_role=speaker_role, start=start, end=start + len(text),
                     sentence=sentence if sentence is not None else text)

    return build
