"""``/entities``, ``/documents`` and ``/working``: the other memory kinds of a user.

Documents are loaded from the text in the request, never from a path on the
server. Working-memory items and reasoning chains belong to a task namespace.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query, Response, status

from mnemo.errors import NotFound
from mnemo.service.deps import MemoryDep, UserIdPath
from mnemo.service.schemas import (
    API_PREFIX,
    DocumentIn,
    ObserveIn,
    StepIn,
    TextQuery,
    WorkingItemIn,
)

router = APIRouter(prefix=API_PREFIX, tags=["entities, documents, working memory"])
NamePath = Annotated[str, Path(min_length=1, max_length=255)]
Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


@router.get("/entities/{user_id}")
async def list_entities(user_id: UserIdPath, memory: MemoryDep, limit: Limit = 50,
                        offset: Offset = 0) -> Any:  # fmt: skip
    """The user's entities, most important first."""
    return await memory.entities.list(user_id=user_id, limit=limit, offset=offset)


@router.post("/entities/{user_id}/observe")
async def observe_entities(user_id: UserIdPath, body: ObserveIn, memory: MemoryDep) -> Any:
    """Merge the entities and relations a text names into the user's entity memory."""
    return await memory.entities.observe(body.content, user_id=user_id, speaker=body.speaker)


@router.post("/entities/{user_id}/search")
async def search_entities(user_id: UserIdPath, body: TextQuery, memory: MemoryDep) -> Any:
    """The entities most relevant to ``query``."""
    return await memory.entities.search(body.query, user_id=user_id, limit=body.top_k)


@router.get("/entities/{user_id}/{name}")
async def get_entity(user_id: UserIdPath, name: NamePath, memory: MemoryDep) -> Any:
    """One entity by name or alias, with its relations."""
    return await memory.entities.get(name, user_id=user_id)


@router.delete("/entities/{user_id}/{name}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_entity(user_id: UserIdPath, name: NamePath, memory: MemoryDep) -> Response:
    """Forget an entity, its aliases and relations."""
    await memory.entities.delete(name, user_id=user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/documents/{user_id}", status_code=status.HTTP_201_CREATED)
async def load_document(user_id: UserIdPath, body: DocumentIn, memory: MemoryDep) -> Any:
    """Load (or replace, by name) a document from its text; chunked, embedded, searchable."""
    return await memory.documents.load(
        body.name, body.content, user_id=None if body.shared else user_id, shared=body.shared,
        format=body.format, title=body.title, metadata=body.metadata,
    )  # fmt: skip


@router.get("/documents/{user_id}")
async def list_documents(user_id: UserIdPath, memory: MemoryDep, limit: Limit = 50,
                         offset: Offset = 0) -> Any:  # fmt: skip
    """The user's documents (and the tenant's shared ones)."""
    return await memory.documents.list(user_id=user_id, limit=limit, offset=offset)


@router.post("/documents/{user_id}/search")
async def search_documents(user_id: UserIdPath, body: TextQuery, memory: MemoryDep) -> Any:
    """The chunks most relevant to ``query``, with score breakdowns."""
    return await memory.documents.search(
        body.query, user_id=user_id, limit=body.top_k, filters=body.filters
    )


@router.get("/documents/{user_id}/{document_id}")
async def get_document(user_id: UserIdPath, document_id: UUID, memory: MemoryDep) -> Any:
    """One document's record."""
    return await memory.documents.get(str(document_id), user_id=user_id)


@router.delete("/documents/{user_id}/{document_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_document(
    user_id: UserIdPath, document_id: UUID, memory: MemoryDep,
    shared: Annotated[bool, Query()] = False,
) -> Response:  # fmt: skip
    """Delete a document and its chunks (``shared`` for one of the tenant's shared ones)."""
    owner = None if shared else user_id
    await memory.documents.delete(str(document_id), user_id=owner, shared=shared)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/working/{user_id}/{namespace}")
async def working_context(
    user_id: UserIdPath, namespace: NamePath, memory: MemoryDep,
    max_tokens: Annotated[int, Query(ge=1, le=32_000)] = 1000,
) -> Any:  # fmt: skip
    """The namespace's most important items and latest chain steps, within ``max_tokens``."""
    return await memory.working.context(namespace, user_id=user_id, max_tokens=max_tokens)


@router.put("/working/{user_id}/{namespace}/{key}")
async def put_working_item(
    user_id: UserIdPath, namespace: NamePath, key: NamePath, body: WorkingItemIn,
    memory: MemoryDep,
) -> Any:  # fmt: skip
    """Store an item (evicting beyond the namespace's capacity); the item and the evicted keys."""
    if body.ttl_seconds is None:  # left out: the configured default lifetime
        return await memory.working.put(
            namespace, key, body.value, user_id=user_id, importance=body.importance
        )
    return await memory.working.put(
        namespace, key, body.value, user_id=user_id, importance=body.importance,
        ttl_seconds=body.ttl_seconds,
    )  # fmt: skip


@router.get("/working/{user_id}/{namespace}/{key}")
async def get_working_item(
    user_id: UserIdPath, namespace: NamePath, key: NamePath, memory: MemoryDep
) -> Any:
    """One item; 404 when absent or expired."""
    item = await memory.working.get(namespace, key, user_id=user_id)
    if item is None:
        raise NotFound(f"no working item {key!r} in {namespace!r}")
    return item


@router.post("/working/{user_id}/{namespace}/chain", status_code=status.HTTP_201_CREATED)
async def append_step(
    user_id: UserIdPath, namespace: NamePath, body: StepIn, memory: MemoryDep
) -> Any:
    """Append a step of the namespace's reasoning chain."""
    return await memory.working.append_step(
        namespace, body.step, body.result, user_id=user_id, importance=body.importance,
        metadata=body.metadata,
    )  # fmt: skip
