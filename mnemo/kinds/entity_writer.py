"""The write path of entity memory: read, extract, merge, write, embed.

An observation is merged optimistically: the stored entities its names resolve
to are read, the merge is planned (descriptions may take an LLM call, so no
lock is held meanwhile), and the write commits only if those entities are still
as read; otherwise it is planned again on the fresh state. Vectors are written
afterwards, each only if its entity's text is still the one embedded.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from mnemo.config import EntityConfig
from mnemo.core.entity_extraction import EntityExtractor, KnownEntities, Utterance
from mnemo.core.entity_records import EntityRelation, ObserveResult
from mnemo.core.records import Scope
from mnemo.errors import Conflict
from mnemo.kinds.entity_observation import Observation, aggregate
from mnemo.kinds.entity_plan import Plan, plan_changes
from mnemo.retrieval.embedding import EmbeddingService
from mnemo.store.postgres.entities import EntityStore, entity_versions
from mnemo.store.postgres.entity_rows import entity_from_row, relation_from_row

#: Optimistic merges tried before giving up when other observations keep writing first.
WRITE_ATTEMPTS = 8
#: Known names and aliases handed to the extractor, most recently seen first.
KNOWN_SURFACES = 2_000
MAX_RELATIONS = 1_000


class EntityWriter:
    """Turns utterances into merged entity rows for one tenant's users."""

    def __init__(
        self,
        store: EntityStore,
        embeddings: EmbeddingService,
        extractor: EntityExtractor,
        config: EntityConfig,
    ) -> None:
        self._store = store
        self._embeddings = embeddings
        self._extractor = extractor
        self._config = config

    async def observe(self, scope: Scope, utterances: Sequence[Utterance]) -> ObserveResult:
        """Extract from ``utterances`` and merge into the scope's user's entities."""
        found = await self._extractor.extract(utterances, await self._known(scope))
        observation = aggregate(
            found,
            utterances,
            self._config.entity_types,
            relations=self._config.relationship_tracking,
        )
        return await self._merge(scope, observation)

    async def _known(self, scope: Scope) -> KnownEntities:
        rows = await self._store.known_surfaces(scope, KNOWN_SURFACES)
        aliases = {r["surface"]: r["name"] for r in rows if r["surface"] != r["name"]}
        people = frozenset(r["name"] for r in rows if r["type"] == "person")
        return KnownEntities(aliases, people, frozenset(r["name"] for r in rows) - people)

    async def _merge(self, scope: Scope, observation: Observation) -> ObserveResult:
        now = datetime.now(UTC)
        keys = observation.keys()
        for _ in range(WRITE_ATTEMPTS):
            resolved = await self._store.resolve(scope, keys)
            plan = await plan_changes(
                observation,
                resolved,
                now=now,
                describe=self._describe,
                half_life_days=self._config.importance_half_life_days,
            )
            written = await self._store.write(scope, plan.changes, entity_versions(resolved, keys))
            if written is not None:
                await self._embed(scope, written, plan.previous_content)
                return await self._result(scope, plan, now)
        raise Conflict("the user's entities kept changing during this observation; try again")

    async def _describe(self, name: str, current: str, facts: Sequence[str]) -> str:
        return await self._extractor.describe(
            name, current, facts, max_chars=self._config.description_max_chars
        )

    async def _embed(
        self, scope: Scope, written: list[dict[str, Any]], previous: dict[str, str]
    ) -> None:
        changed = [r for r in written if previous.get(str(r["id"])) != r["content"]]
        if not self._config.embed or not changed:
            return
        vectors = await self._embeddings.embed_passages([r["content"] for r in changed])
        rows = [(str(r["id"]), bytes(r["content_hash"])) for r in changed]
        await self._store.set_embeddings(scope, rows, vectors, self._embeddings.model_id)

    async def _result(self, scope: Scope, plan: Plan, now: datetime) -> ObserveResult:
        ids = list(dict.fromkeys(e.id for e in plan.changes.entities))
        half_life = self._config.importance_half_life_days
        rows = await self._store.by_ids(scope, ids)
        records = {
            str(r["id"]): entity_from_row(r, now=now, half_life_days=half_life) for r in rows
        }
        wanted = {(r.subject_id, r.predicate, r.object_id) for r in plan.changes.relations}
        relations: list[EntityRelation] = []
        if wanted:
            related = await self._store.relations_of(
                scope, ids, predicate=None, limit=MAX_RELATIONS
            )
            relations = [relation_from_row(r) for r in related]
        return ObserveResult(
            entities=[records[i] for i in ids if i in records],
            created=plan.created,
            relations=[r for r in relations if (r.subject_id, r.predicate, r.object_id) in wanted],
            extractor=self._extractor.name,
        )
