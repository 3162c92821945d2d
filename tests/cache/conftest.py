"""Fixtures for the page-cache tests: the app with the in-process cache, or with Redis."""

import sys
from pathlib import Path

import pytest

# The voting tests' helpers make challenges and ideas with a running vote.
sys.path[:0] = [str(Path(__file__).resolve().parents[1] / d) for d in ("voting", "results")]


@pytest.fixture
def app_config():
    return {"PAGE_CACHE": "memory"}
