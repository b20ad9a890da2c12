"""Prometheus metrics of one service instance, on its own registry.

Request count and latency by route come from ``MetricsMiddleware`` (every MCP
request is one ``/mcp`` route; its tool calls are counted and timed by tool and
outcome through ``observe_tool``); retrieval and
other engine timings from the engine's observers; embedding and LLM latency and
tokens from ``InstrumentedEmbedder`` / ``InstrumentedLLM`` wrapped around the
configured providers; cache hits and misses are read from the cache at scrape.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mnemo.core.observe import Observers
from mnemo.providers.embedders.base import Embedder, InputType, Vectors
from mnemo.providers.llms.base import LLM, ChatMessage, Completion
from mnemo.store.cache import CacheStats

LATENCY_BUCKETS = (
    0.001,
    0.0025,
    0.005,
    0.0075,
    0.01,
    0.015,
    0.02,
    0.03,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
#: Routes (by endpoint name) that count as memory operations, and the operation.
MEMORY_OPERATIONS = {
    "create_memory": "add",
    "create_memories": "add",
    "search_memories": "search",
    "update_memory": "update",
    "delete_memory": "delete",
    "delete_user": "delete_user",
    "import_user": "import",
    "conversation_turn": "conversation",
    "add_messages": "add_messages",
    "optimize_user": "optimize",
}


class ServiceMetrics:
    """Every metric the service exports."""

    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "mnemo_http_requests", "HTTP requests", ["method", "route", "status"], registry=registry
        )
        self.request_seconds = Histogram(
            "mnemo_http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.engine_seconds = Histogram(
            "mnemo_engine_duration_seconds",
            "Engine timings: search.total (retrieval), search.embed, search.rank, add",
            ["operation"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.memory_operations = Counter(
            "mnemo_memory_operations",
            "Successful memory operations",
            ["operation"],
            registry=registry,
        )
        self.embedding_seconds = Histogram(
            "mnemo_embedding_duration_seconds",
            "Embedder calls (one batch each)",
            ["input_type"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.embedding_tokens = Counter(
            "mnemo_embedding_tokens", "Tokens embedded", ["input_type"], registry=registry
        )
        self.llm_seconds = Histogram(
            "mnemo_llm_call_duration_seconds",
            "LLM calls",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.llm_tokens = Counter("mnemo_llm_tokens", "LLM tokens", ["kind"], registry=registry)
        self.llm_truncated_replies = Counter(
            "mnemo_llm_truncated_replies",
            "JSON replies cut off by max_tokens and accepted after repair (their tail is lost)",
            registry=registry,
        )
        self.mcp_tool_calls = Counter(
            "mnemo_mcp_tool_calls",
            "MCP tool calls by tool and outcome (ok, or error: refused, invalid or failed)",
            ["tool", "outcome"],
            registry=registry,
        )
        self.mcp_tool_seconds = Histogram(
            "mnemo_mcp_tool_duration_seconds",
            "MCP tool call latency",
            ["tool"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.auth_failures = Counter("mnemo_auth_failures", "Rejected API keys", registry=registry)
        self.rate_limited = Counter(
            "mnemo_rate_limited", "Requests over a key's rate", registry=registry
        )
        self.queue_depth = Gauge("mnemo_queue_depth", "Jobs waiting", ["queue"], registry=registry)
        self.failed_jobs = Gauge(
            "mnemo_failed_jobs", "Jobs that failed for good", ["queue"], registry=registry
        )

    def observe_engine(self, name: str, seconds: float) -> None:
        """An engine observer: records every timing the engine emits."""
        self.engine_seconds.labels(name).observe(seconds)

    def observe_tool(self, tool: str, outcome: str, seconds: float) -> None:
        """An MCP tool observer (``mnemo.mcp.server.ToolObserver``)."""
        self.mcp_tool_calls.labels(tool, outcome).inc()
        self.mcp_tool_seconds.labels(tool).observe(seconds)

    def subscribe(self, observers: Observers) -> None:
        observers.add(self.observe_engine)

    def watch_cache(self, stats: Callable[[], CacheStats]) -> None:
        """Export the cache's counters, read at every scrape."""
        self.registry.register(_CacheCollector(stats))

    def record_queues(self, counts: dict[str, dict[str, int]]) -> None:
        """Set the queue gauges from jobs per queue and status."""
        for queue, statuses in counts.items():
            self.queue_depth.labels(queue).set(statuses.get("todo", 0))
            self.failed_jobs.labels(queue).set(statuses.get("failed", 0))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class _CacheCollector(Collector):
    def __init__(self, stats: Callable[[], CacheStats]) -> None:
        self._stats = stats

    def collect(self) -> Iterable[Metric]:
        stats = self._stats()
        for name, value, doc in (
            ("mnemo_cache_hits", stats.hits, "Cache hits"),
            ("mnemo_cache_misses", stats.misses, "Cache misses"),
            ("mnemo_cache_errors", stats.errors, "Cache backend failures (served as misses)"),
        ):
            family = CounterMetricFamily(name, doc)
            family.add_metric([], value)
            yield family


class MetricsMiddleware:
    """Counts and times every request by its route template (never the raw path)."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = [500]

        async def send_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            self._record(scope, status[0], time.perf_counter() - start)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        route = scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        method = scope["method"]
        self.metrics.requests.labels(method, template, str(status)).inc()
        self.metrics.request_seconds.labels(method, template).observe(seconds)
        operation = MEMORY_OPERATIONS.get(getattr(route, "name", ""))
        if operation is not None and 200 <= status < 300:
            self.metrics.memory_operations.labels(operation).inc()


class InstrumentedEmbedder(Embedder):
    """An embedder that reports each batch's latency and tokens, then delegates."""

    def __init__(self, inner: Embedder, metrics: ServiceMetrics) -> None:
        self.inner = inner
        self._metrics = metrics
        self.batch_size = inner.batch_size

    async def open(self) -> None:
        await self.inner.open()
        self.model_id = self.inner.model_id
        self.dimension = self.inner.dimension

    async def aclose(self) -> None:
        await self.inner.aclose()

    @property
    def runtime(self) -> str:
        return self.inner.runtime

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    async def embed_batch(self, texts: Sequence[str], input_type: InputType) -> Vectors:
        start = time.perf_counter()
        vectors = await self.inner.embed_batch(texts, input_type)
        self._metrics.embedding_seconds.labels(input_type).observe(time.perf_counter() - start)
        tokens = sum(self.inner.count_tokens(t) for t in texts)
        self._metrics.embedding_tokens.labels(input_type).inc(tokens)
        return vectors


class InstrumentedLLM(LLM):
    """An LLM that reports each call's latency and tokens, then delegates; counts the
    cut-off JSON replies it accepts."""

    def __init__(self, inner: LLM, metrics: ServiceMetrics) -> None:
        self.inner = inner
        self._metrics = metrics
        self.model_id = inner.model_id
        self.json_attempts = inner.json_attempts

    async def open(self) -> None:
        await self.inner.open()

    async def aclose(self) -> None:
        await self.inner.aclose()

    async def complete(self, messages: Sequence[ChatMessage], **options: Any) -> Completion:
        start = time.perf_counter()
        completion = await self.inner.complete(messages, **options)
        self._metrics.llm_seconds.observe(time.perf_counter() - start)
        self._metrics.llm_tokens.labels("prompt").inc(completion.usage.prompt_tokens)
        self._metrics.llm_tokens.labels("completion").inc(completion.usage.completion_tokens)
        return completion

    async def complete_json(
        self, messages: Sequence[ChatMessage], schema: dict[str, Any], **options: Any
    ) -> Completion:
        completion = await super().complete_json(messages, schema, **options)
        if completion.truncated:
            self._metrics.llm_truncated_replies.inc()
        return completion
