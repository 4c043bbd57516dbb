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
