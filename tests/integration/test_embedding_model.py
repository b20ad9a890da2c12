"""One embedding model per store: recorded, enforced, and changed only by re-embedding."""

from __future__ import annotations

import pytest

from mnemo import AsyncMemory, EmbeddingModelMismatch, MnemoConfig
from mnemo.providers.embedders.base import Embedder


@pytest.fixture(scope="session")
def other_embedder() -> Embedder:
    from mnemo.providers.embedders.minilm import MiniLMEmbedder

    return MiniLMEmbedder()


async def test_a_store_refuses_another_model_and_loses_nothing(
    config: MnemoConfig, other_embedder: Embedder
) -> None:
    async with AsyncMemory(config) as memory:
        await memory.add_many(
            [{"content": "I like tea"}, {"content": "I live in Oslo"}], user_id="u"
        )
    other = AsyncMemory(config.with_overrides(embedder=other_embedder))
    with pytest.raises(EmbeddingModelMismatch, match="mnemo reembed") as info:
        await other.open()
    assert config.embedder.model_id in str(info.value)  # type: ignore[union-attr]
    await other.close()
    async with AsyncMemory(config) as memory:
        assert len(await memory.list(user_id="u")) == 2


async def test_an_empty_store_switches_model_freely(
    config: MnemoConfig, other_embedder: Embedder
) -> None:
    async with AsyncMemory(config):
        pass
    async with AsyncMemory(config.with_overrides(embedder=other_embedder)) as memory:
        await memory.add("I like tea", user_id="u")
        assert (await memory.search("tea", user_id="u"))[
            0
        ].embedding_model == other_embedder.model_id


async def test_reembed_moves_every_row_and_keeps_the_store_usable(
    config: MnemoConfig, other_embedder: Embedder
) -> None:
    async with AsyncMemory(config) as memory:
        ids = await memory.add_many(
            [{"content": f"memory number {i} about gardening"} for i in range(5)], user_id="u"
        )
    new_config = config.with_overrides(embedder=other_embedder)
    progress: list[tuple[str, int, int]] = []
    async with AsyncMemory.for_reembedding(new_config) as migrating:
        async with AsyncMemory(new_config) as reader:  # allowed while re-embedding is under way
            assert await reader.list(user_id="u")
        rewritten = await migrating.reembed(batch_size=2, progress=lambda *p: progress.append(p))
    assert rewritten == 5
    assert progress[-1] == ("memories", 5, 0)
    async with AsyncMemory(new_config) as memory:
        stored = [await memory.get(i) for i in ids]
        assert {m.embedding_model for m in stored} == {other_embedder.model_id}
        assert (await memory.search("gardening", user_id="u"))[0].id in ids
    with pytest.raises(EmbeddingModelMismatch):
        await AsyncMemory(config).open()
