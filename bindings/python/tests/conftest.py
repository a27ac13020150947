"""Fixtures: the shared test model and the bindings' canonical expectation.

shared/ is found beside the repository root (bindings/python/tests ->
../../../../shared) or at EMBER_SHARED_DIR.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterator

import pytest

import ember

REPO_ROOT = Path(__file__).resolve().parents[3]


def shared_dir() -> Path:
    env = os.environ.get("EMBER_SHARED_DIR")
    return Path(env) if env else REPO_ROOT.parent / "shared"


TINY = shared_dir() / "testdata" / "models" / "tiny-llama-f16.gguf"


@pytest.fixture(scope="session")
def tiny_path() -> Path:
    if not TINY.is_file():
        pytest.skip(f"{TINY} not found (set EMBER_SHARED_DIR)")
    return TINY


@pytest.fixture(scope="session")
def expected() -> dict[str, Any]:
    """tests/data/bindings_expected.json: the prompt and greedy text every binding checks."""
    with open(REPO_ROOT / "tests" / "data" / "bindings_expected.json", encoding="utf-8") as f:
        return json.load(f)


@pytest.fixture(scope="session")
def model(tiny_path: Path) -> Iterator[ember.Model]:
    with ember.Model(tiny_path, n_threads=2) as m:
        yield m
