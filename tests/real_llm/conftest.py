"""The real_llm tier: mnemo's LLM path against a real ``llama-server`` (SmolLM2-135M).

The model is far too small to extract useful memories; these tests check the wire
and mnemo's handling (formats, grammars, cut-off replies, retries, time limits,
dead-lettering) through invariants, never the model's wording. One server runs for
the whole tier; it serves one request at a time, at temperature 0.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import repo_root
from tests.support.llama_server import LlamaServer, find_prerequisites
from tests.support.tiers import prerequisite_missing

TIER = "real_llm"


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    found = find_prerequisites(repo_root())
    if isinstance(found, str):
        prerequisite_missing(TIER, found)
    log = tmp_path_factory.mktemp("llama") / "llama-server.log"
    with LlamaServer(found, log) as server:
        yield server
