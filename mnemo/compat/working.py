"""``WorkingMemory`` of the "memory implementations for LLM context" design, on mnemo.

    memory = WorkingMemory({"database_url": ..., "redis_url": ...,
                            "ttl_seconds": 1800, "capacity_limit": 100,
                            "eviction_policy": "importance",
                            "enable_reasoning_chain": True})
    await memory.initialize()
    await memory.store({"user_id": "u1", "namespace": "reasoning_session",
                        "key": "hypothesis", "value": "cache miss", "importance": 0.8})
    await memory.store({"user_id": "u1", "namespace": "reasoning_session",
                        "step": "checked the logs", "result": {"errors": 0}})
    context = await memory.get_context({"user_id": "u1", "namespace": "reasoning_session"})

Items and chains live in PostgreSQL (``working_items``); Redis, when configured,
caches reads. Config keys besides the shared ones (``mnemo.compat.base``):
``ttl_seconds`` (``None``: no expiry), ``capacity_limit``, ``eviction_policy``
(``importance`` | ``lru`` | ``fifo``), ``enable_reasoning_chain``, ``namespace``
(the default namespace, ``"default"``) and ``max_context_tokens`` (1000).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mnemo.compat.base import CompatMemory
from mnemo.config import WorkingMemoryConfig
from mnemo.core.ids import new_id
from mnemo.core.records import Scope
from mnemo.core.working import ChainStep, WorkingItem
from mnemo.engine import AsyncMemory
from mnemo.errors import ConfigurationError, InvalidInput, MnemoError
from mnemo.kinds.working import WorkingMemoryService

__all__ = ["WorkingMemory"]

_STEP_TYPES = ("step", "reasoning_step")


class WorkingMemory(CompatMemory):
    """Namespaced scratch memory with importance eviction, TTL and a reasoning chain.

    ``store`` takes an item (``key``, ``value`` or ``content``, ``importance``,
    ``ttl_seconds``) or a reasoning step (``step``, ``result``, ``metadata``); scope
    keys (``user_id``, ``agent_id``, ``session_id``) and ``namespace`` go in the
    same dict.
    """

    memory_type = "working_memory"

    def __init__(
        self, config: Mapping[str, Any] | None = None, *, memory: AsyncMemory | None = None
    ) -> None:
        super().__init__(config, memory=memory)
        self.policy = _policy(self.config)
        self.enable_reasoning_chain = _flag(self.config, "enable_reasoning_chain", True)
        self.namespace = self.config.get("namespace", "default")
        self.max_context_tokens = self.config.get("max_context_tokens", 1_000)

    @property
    def working(self) -> WorkingMemoryService:
        """The engine's working memory (``AsyncMemory.working``)."""
        return self.engine.working

    async def store(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """Store an item (``{"key", "namespace", "stored", "evicted", ...}``) or append a
        reasoning step (``{"position", "namespace", "stored", ...}``)."""
        scope = await self._scope(data)
        namespace = data.get("namespace", self.namespace)
        if _is_step(data):
            text: Any = data.get("step") or data.get("content")  # checked by the service
            step = await self.add_reasoning_step(
                text,
                data.get("result"),
                namespace=namespace,
                importance=data.get("importance", 0.5),
                metadata=data.get("metadata"),
                **_scope_args(scope),
            )
            return {"stored": True, "type": "reasoning_step", **_step_dict(step)}
        key = data.get("key") or new_id().hex
        result = await self.working.put(
            namespace,
            key,
            data["value"] if "value" in data else data.get("content"),
            importance=data.get("importance", 0.5),
            ttl_seconds=data.get("ttl_seconds", self.policy.ttl_seconds),
            capacity=self.policy.capacity_limit,
            policy=self.policy.eviction_policy,
            **_scope_args(scope),
        )
        return {
            "stored": True,
            "type": "item",
            "evicted": list(result.evicted),
            **_item_dict(result.item),
        }

    async def retrieve(
        self, key: str, namespace: str | None = None, **scope: Any
    ) -> dict[str, Any] | None:
        """One item as a dict, or ``None`` (scope keys as keyword arguments)."""
        checked = await self._scope(scope)
        item = await self.working.get(namespace or self.namespace, key, **_scope_args(checked))
        return None if item is None else _item_dict(item)

    async def add_reasoning_step(
        self,
        step: str,
        result: Any = None,
        *,
        namespace: str | None = None,
        importance: float = 0.5,
        metadata: dict[str, Any] | None = None,
        **scope: Any,
    ) -> ChainStep:
        """Append a step (and its intermediate ``result``) to the namespace's reasoning
        chain; ``InvalidInput`` when ``enable_reasoning_chain`` is off."""
        if not self.enable_reasoning_chain:
            raise InvalidInput("the reasoning chain is disabled (enable_reasoning_chain=False)")
        checked = await self._scope(scope)
        return await self.working.append_step(
            namespace or self.namespace,
            step,
            result,
            importance=importance,
            metadata=metadata,
            ttl_seconds=self.policy.ttl_seconds,
            **_scope_args(checked),
        )

    async def get_reasoning_chain(
        self, namespace: str | None = None, **scope: Any
    ) -> list[dict[str, Any]]:
        """The chain's steps in order, as dicts."""
        checked = await self._scope(scope)
        steps = await self.working.get_chain(namespace or self.namespace, **_scope_args(checked))
        return [_step_dict(step) for step in steps]

    async def get_context(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """Prompt-ready working memory of a namespace: the most important items and the
        latest reasoning steps within ``max_tokens`` (default ``max_context_tokens``).

        ``{"namespace", "items", "reasoning_chain", "formatted", "tokens",
        "dropped_items", "dropped_steps", "memory_type"}``.
        """
        scope = await self._scope(request)
        namespace = request.get("namespace", self.namespace)
        context = await self.working.context(
            namespace,
            max_tokens=request.get("max_tokens", self.max_context_tokens),
            include_chain=self.enable_reasoning_chain,
            **_scope_args(scope),
        )
        return {
            "memory_type": self.memory_type,
            "namespace": namespace,
            "items": [_item_dict(item) for item in context.items],
            "reasoning_chain": [_step_dict(step) for step in context.chain],
            "formatted": context.text,
            "tokens": context.tokens,
            "dropped_items": context.dropped_items,
            "dropped_steps": context.dropped_steps,
        }

    async def get_namespace_stats(
        self, namespace: str | None = None, **scope: Any
    ) -> dict[str, Any]:
        """Counts, sizes, importance, oldest/newest and capacity use of a namespace."""
        checked = await self._scope(scope)
        name = namespace or self.namespace
        found = await self.working.namespace_stats(namespace=name, **_scope_args(checked))
        stats = found[0] if found else None
        items = stats.items if stats else 0
        return {
            "namespace": name,
            "items": items,
            "reasoning_steps": stats.steps if stats else 0,
            "value_bytes": stats.value_bytes if stats else 0,
            "mean_importance": stats.mean_importance if stats else None,
            "oldest": stats.oldest.isoformat() if stats and stats.oldest else None,
            "newest": stats.newest.isoformat() if stats and stats.newest else None,
            "next_expiry": stats.next_expiry.isoformat() if stats and stats.next_expiry else None,
            "capacity_limit": self.policy.capacity_limit,
            "utilization": items / self.policy.capacity_limit,
            "eviction_policy": self.policy.eviction_policy,
        }

    async def clear_namespace(self, namespace: str | None = None, **scope: Any) -> dict[str, int]:
        """Delete a namespace's items and chain; how many of each."""
        checked = await self._scope(scope)
        return await self.working.clear(namespace or self.namespace, **_scope_args(checked))

    async def _scope(self, request: Mapping[str, Any]) -> Scope:
        """The request's scope; a user is required (request, config, or session owner)."""
        scope = await self.request_scope(request, write=True)
        assert scope is not None  # with write=True a scope resolves or InvalidInput is raised
        return scope


def _policy(config: Mapping[str, Any]) -> WorkingMemoryConfig:
    """The seed's options as a checked ``WorkingMemoryConfig`` (``ConfigurationError``)."""
    defaults = WorkingMemoryConfig()
    try:
        return WorkingMemoryConfig(
            capacity_limit=config.get("capacity_limit", defaults.capacity_limit),
            eviction_policy=config.get("eviction_policy", defaults.eviction_policy),
            ttl_seconds=config.get("ttl_seconds", defaults.ttl_seconds),
        )
    except (TypeError, MnemoError) as exc:
        raise ConfigurationError(f"invalid WorkingMemory config: {exc}") from exc


def _flag(config: Mapping[str, Any], name: str, default: bool) -> bool:
    value = config.get(name, default)
    if not isinstance(value, bool):
        raise ConfigurationError(f"{name} must be True or False, got {value!r:.40}")
    return value


def _is_step(data: Mapping[str, Any]) -> bool:
    return "step" in data or data.get("type") in _STEP_TYPES


def _scope_args(scope: Scope) -> dict[str, Any]:
    return {"user_id": scope.user_id, "agent_id": scope.agent_id, "session_id": scope.session_id}


def _item_dict(item: WorkingItem) -> dict[str, Any]:
    return {
        "namespace": item.namespace,
        "key": item.key,
        "value": item.value,
        "importance": item.importance,
        "created_at": item.created_at.isoformat(),
        "expires_at": item.expires_at.isoformat() if item.expires_at else None,
    }


def _step_dict(step: ChainStep) -> dict[str, Any]:
    return {
        "namespace": step.namespace,
        "position": step.position,
        "step": step.step,
        "result": step.result,
        "importance": step.importance,
        "metadata": step.metadata,
        "created_at": step.created_at.isoformat(),
    }
