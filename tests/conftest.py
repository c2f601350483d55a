"""Shared test set-up: where the project's files are."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def root_dir() -> Path:
    """The project root."""
    return ROOT
