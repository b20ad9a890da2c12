"""``AsyncMemory``'s lifecycle methods: extraction on the job queue, upkeep, job state.

One of ``AsyncMemory``'s method groups (see ``mnemo.engine``). Adding
turns with ``infer=True`` stores them as messages and, in the same transaction,
marks them pending in the extraction ledger and defers an extraction job; a
worker (in-process when embedded, else ``mnemo worker``) does the rest. ``wait``
and ``flush`` give read-your-writes by waiting on the ledger.
"""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AsyncExitStack
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from mnemo.core.formats import require_format
from mnemo.core.records import AddResult, MemoryRecord, Scope
from mnemo.core.turn_input import MEMORY_ONLY_FIELDS, as_turns, message_ids_of, turn_as_note
from mnemo.core.validation import require_scope_id
from mnemo.engine.base import EngineBase
from mnemo.errors import ConfigurationError, InvalidInput, NotFound, WaitTimeout
from mnemo.kinds.working import flush_reads
from mnemo.lifecycle.cleanup import ExpiryCleaner
from mnemo.lifecycle.extraction import LLMExtractor, RulesExtractor
from mnemo.lifecycle.jobs import (
    QUEUES,
    JobHandlers,
    WorkerOptions,
    WorkerRunner,
    build_app,
    extract_job,
    index_scope_job,
    summarize_job,
)
from mnemo.lifecycle.optimize import Optimizer, OptimizeReport
from mnemo.lifecycle.pipeline import ExtractionPipeline
from mnemo.lifecycle.reconcile import LLMReconciler, RulesReconciler
from mnemo.lifecycle.reembed import Progress, reembed_store
from mnemo.lifecycle.scope_indexing import ScopeIndexer
from mnemo.lifecycle.statements import SimilarityRules
from mnemo.store.postgres.database import Database
from mnemo.store.postgres.extractions import ExtractionState, ExtractionStore
from mnemo.store.postgres.jobs import JobStore
from mnemo.store.postgres.lifecycle import LifecycleStore
from mnemo.store.postgres.meta import MetaStore
from mnemo.store.postgres.reembed import ReembedStore

if TYPE_CHECKING:
    from mnemo.engine.async_memory import AsyncMemory
    from mnemo.kinds.kv import KeyValueService
    from mnemo.kinds.summary import ConversationSummary
    from mnemo.kinds.working import WorkingMemoryService


class LifecycleMethods(EngineBase):
    """Extraction (``add(..., infer=True)``), ``optimize``, job statistics, the worker,
    ``flush`` and ``reembed``."""

    _runner: WorkerRunner | None
    _pending_marks: dict[str, int]

    # -- wiring ----------------------------------------------------------------------------

    def _wire_lifecycle(self, db: Database) -> None:
        """Build the ledger, queue and lifecycle services on the engine's resources."""
        config = self.config.lifecycle
        rules = SimilarityRules(
            same_meaning=config.same_meaning_similarity, duplicate=config.duplicate_similarity,
            refine=config.refine_similarity, conflict=config.conflict_similarity,
        )  # fmt: skip
        self._extractions = ExtractionStore(db)
        self._jobs = JobStore(db)
        self._lifecycle = LifecycleStore(db, ts_config=self.config.search.text_search_config)
        self._optimizer = Optimizer(self._lifecycle, config)
        self._pending_marks = {}
        self._runner = None
        self._handlers = JobHandlers(
            pipeline=self._pipeline(rules), optimizer=self._optimizer,
            cleaner=ExpiryCleaner([self._expire_kv, self._expire_working]),
            extractions=self._extractions, memories=self._lifecycle, jobs=self._jobs,
            summarize=self._summarize_session, embed_turns=self._messages.embed_pending,
            scope_indexer=self._scope_indexer(),
        )  # fmt: skip

    def _scope_indexer(self) -> ScopeIndexer:
        return ScopeIndexer(
            self._scope_indexes,
            model=lambda: (self._embeddings.model_id, self._embeddings.dimension),
            min_rows=self.config.search.indexed_scope_rows,
            on_built=self._scope_routes.forget,
        )

    def _pipeline(self, rules: SimilarityRules) -> ExtractionPipeline:
        config = self.config.lifecycle
        if self.llm is None:
            extractor: Any = RulesExtractor()
            reconciler: Any = RulesReconciler(rules)
            name = "rules"
        else:
            extractor = LLMExtractor(self.llm, max_tokens=config.extraction_max_tokens)
            reconciler = LLMReconciler(
                self.llm, rules=rules, min_similarity=config.llm_reconcile_similarity
            )
            name = f"llm:{self.llm.model_id}"
        return ExtractionPipeline(
            extractions=self._extractions, memories=self._lifecycle, embedder=self.embedder,
            extractor=extractor, extractor_name=name, reconciler=reconciler, config=config,
        )  # fmt: skip

    async def _start_worker(self, resources: AsyncExitStack) -> None:
        """Start the in-process worker if configured (default: with the embedded server)."""
        config = self.config.lifecycle
        wanted = config.in_process_worker
        if wanted is None:
            wanted = self.config.database_url is None
        if not wanted:
            return
        options = WorkerOptions(
            concurrency=config.worker_concurrency, heartbeat_seconds=config.heartbeat_seconds,
            stalled_after_seconds=config.stalled_after_seconds, name="mnemo-in-process",
        )  # fmt: skip
        self._runner = self.worker(options)
        await self._runner.start()
        resources.push_async_callback(self._runner.stop)

    def worker(self, options: WorkerOptions) -> WorkerRunner:
        """A worker that runs this engine's jobs (what ``mnemo worker`` runs); not started."""
        app = build_app(self._handlers, self.config.lifecycle, self.database_url)
        return WorkerRunner(app, options, ready_jobs=partial(self._jobs.ready_jobs, options.queues))

    async def requeue_pending(self) -> int:
        """Defer an extraction job for every user with pending turns (all tenants); how many.

        Harmless when jobs exist already (a user's jobs run one at a time and a job
        with nothing pending ends at once); it rescues turns whose job failed for good.
        """
        await self._ready()
        users = await self._extractions.users_with_pending()
        for tenant, user in users:
            await self._jobs.defer_now(extract_job(tenant, user), tenant_id=tenant)
        return len(users)

    async def index_large_scopes(self, min_rows: int | None = None) -> list[dict[str, Any]]:
        """Build now the vector index of every scope (any tenant) holding at least
        ``min_rows`` rows of memories or turns and none yet (default
        ``SearchConfig.indexed_scope_rows``); what was built. Searches of such scopes
        ask a worker for it on their own; this is for a store just filled in bulk.
        Needs the right to create indexes (the schema owner)."""
        if min_rows is not None and (isinstance(min_rows, bool) or min_rows < 1):
            raise InvalidInput(f"min_rows must be a positive number of rows, got {min_rows!r}")
        await self._ready()
        indexer = self._scope_indexer()
        built = []
        for scope, table in await indexer.due(min_rows):
            report = await indexer.build(scope, table)
            built.append({"tenant_id": scope.tenant_id, "user_id": scope.user_id,
                          "table": table, **report})  # fmt: skip
        return built

    async def _request_scope_index(self, scope: Scope, table: str) -> None:
        job = index_scope_job(scope.tenant_id, scope.user_id, table)
        await self._jobs.defer_unless_waiting(job, tenant_id=scope.tenant_id)

    # -- adding turns for extraction -------------------------------------------------------

    async def _add_conversation(
        self,
        content: str | Sequence[Mapping[str, Any]],
        *,
        scope: Scope,
        infer: bool,
        wait: bool,
        memory_fields: Mapping[str, Any],
        fmt: str | None = None,
    ) -> AddResult:
        """``add`` of turns: extracted with ``infer``, else each turn stored as a note."""
        fmt = require_format(fmt)
        turns = as_turns(content, memory_fields)
        if infer:
            unused = [k for k in MEMORY_ONLY_FIELDS if memory_fields.get(k) not in (None, "note")]
            if unused:
                raise InvalidInput(
                    f"{unused} describe one stored memory; with infer=True extraction "
                    "decides what memories the turns hold"
                )
            return await self._add_turns(scope, turns, wait=wait, fmt=fmt)
        notes = [turn_as_note(turn, index, fmt) for index, turn in enumerate(turns)]
        await self._ready()
        records = await self._memories.add_many(scope, notes, contextual=True)
        return AddResult(ids=[r.id for r in records], memories=records)

    async def _add_turns(
        self,
        scope: Scope,
        messages: Sequence[Mapping[str, Any]],
        *,
        wait: bool,
        fmt: str | None = None,
    ) -> AddResult:
        """Store turns, register them for extraction and defer the job, all in one commit."""
        tenant, user = scope.tenant_id, scope.user_id
        await self._ready()
        # Embedded by the extraction job: storing turns stays a plain insert.
        appended = await self._messages.append(
            scope, messages, extraction=extract_job(tenant, user), embed=False, fmt=fmt
        )
        ids = [r.id for r in appended.records]
        self._mark_pending(tenant, appended.ledger_seq)
        if not wait:
            return AddResult(ids=ids, memories=[], extraction=dict.fromkeys(ids, "pending"))
        states = await self._wait_for(tenant, user, ids)
        return AddResult(
            ids=ids,
            memories=await self._memories_of(tenant, user, states),
            extraction={i: states[i].status for i in ids if i in states},
        )

    async def _memories_of(
        self, tenant_id: str, user_id: str, states: Mapping[str, ExtractionState]
    ) -> builtins.list[MemoryRecord]:
        found: dict[str, MemoryRecord] = {}
        for memory_id in dict.fromkeys(m for s in states.values() for m in s.memory_ids):
            try:
                found[memory_id] = await self._store.get(tenant_id, memory_id, user_id=user_id)
            except NotFound:  # merged or removed since: its history says where it went
                continue
        return list(found.values())

    # -- waiting ---------------------------------------------------------------------------

    async def _wait_for(
        self, tenant_id: str, user_id: str, message_ids: Sequence[str]
    ) -> dict[str, ExtractionState]:
        """Wait until none of ``message_ids`` is pending; their final states."""
        found: dict[str, ExtractionState] = {}

        async def pending() -> int:
            found.update(await self._extractions.states(tenant_id, user_id, message_ids))
            return sum(s.status == "pending" for s in found.values())

        await self._poll(pending)
        return found

    async def _poll(self, pending: Callable[[], Awaitable[int]]) -> None:
        """Poll ``pending`` until it is 0, checking that a worker is alive meanwhile."""
        loop = asyncio.get_running_loop()
        timeout = self.config.lifecycle.wait_timeout_seconds
        deadline, delay, next_check = loop.time() + timeout, 0.02, 0.0
        while (left := await pending()) > 0:
            if loop.time() >= next_check:
                await self._require_worker()
                next_check = loop.time() + 2.0
            if loop.time() >= deadline:
                raise WaitTimeout(
                    f"{left} turn(s) still pending extraction after {timeout:g} s; they stay queued"
                )
            await asyncio.sleep(delay)
            delay = min(0.25, delay * 1.5)

    async def _require_worker(self) -> None:
        """Raise if nothing can run the jobs being waited for."""
        runner = self._runner
        if runner is not None and runner.running:
            return
        if runner is not None and runner.error is not None:
            raise ConfigurationError(f"the in-process worker stopped: {runner.error!r}")
        window = self.config.lifecycle.stalled_after_seconds
        if await self._jobs.live_workers(heartbeat_within=window) == 0:
            raise ConfigurationError(
                "extraction is queued but no worker is running: start `mnemo worker` on "
                "this database, or set MNEMO_IN_PROCESS_WORKER=true (LifecycleConfig."
                "in_process_worker) to run one inside this process"
            )

    def _mark_pending(self, tenant_id: str, seq: int) -> None:
        """Remember the newest ledger position this engine queued in a tenant (one number
        per tenant, so a long-running service that never flushes keeps no growing set)."""
        self._pending_marks[tenant_id] = max(seq, self._pending_marks.get(tenant_id, 0))

    async def _flush_jobs(self) -> None:
        """Wait until no turn of a tenant up to the newest one this engine queued there is
        pending (``flush``'s second half): its own, and any queued before them."""
        for tenant, seq in builtins.list(self._pending_marks.items()):
            await self._poll(partial(self._extractions.pending_through, tenant, seq))
            if self._pending_marks.get(tenant) == seq:
                del self._pending_marks[tenant]

    # -- public methods --------------------------------------------------------------------

    async def optimize(
        self, user_id: str, *, dry_run: bool = True, now: datetime | None = None
    ) -> OptimizeReport:
        """Decay, consolidate and clean up one user's memories; the report of the changes.

        With ``dry_run`` (the default) nothing is written and the report says what
        would change. ``now`` (for tests and what-ifs) defaults to the present.
        """
        user = require_scope_id(user_id, "user_id") or ""
        if not isinstance(dry_run, bool):
            raise InvalidInput(f"dry_run must be true or false, got {dry_run!r:.40}")
        await self._ready()
        return await self._optimizer.optimize(self.config.tenant_id, user, dry_run=dry_run, now=now)

    async def extraction_status(
        self, message_ids: Sequence[str], *, user_id: str
    ) -> dict[str, ExtractionState]:
        """Where extraction of each of these turns stands (turns never queued are absent)."""
        user = require_scope_id(user_id, "user_id") or ""
        ids = message_ids_of(message_ids)
        await self._ready()
        return await self._extractions.states(self.config.tenant_id, user, ids)

    async def failed_extractions(
        self, *, user_id: str | None = None, limit: int = 100
    ) -> builtins.list[ExtractionState]:
        """Dead-lettered turns (extraction kept failing), newest first, with their errors."""
        user = require_scope_id(user_id, "user_id", required=False)
        await self._ready()
        return await self._extractions.failed(self.config.tenant_id, user, limit=limit)

    async def retry_failed_extractions(self, *, user_id: str | None = None) -> int:
        """Queue dead-lettered turns again (after fixing the LLM, say); how many."""
        user = require_scope_id(user_id, "user_id", required=False)
        await self._ready()
        tenant = self.config.tenant_id
        async with self.db.transaction(tenant) as conn:
            retried = await self._extractions.retry_failed(conn, tenant, user)
            for owner in sorted(retried):
                await self._jobs.defer(conn, extract_job(tenant, owner))
        self._mark_pending(tenant, max((seq for _, seq in retried.values()), default=0))
        return sum(count for count, _ in retried.values())

    async def job_stats(self, *, user_id: str | None = None) -> dict[str, Any]:
        """Extraction turns per status (and how many came from a reply cut off by the
        model's token limit), jobs per queue and status, recent failures, and the live
        workers on the database (this process's own included, counted once)."""
        user = require_scope_id(user_id, "user_id", required=False)
        await self._ready()
        window = self.config.lifecycle.stalled_after_seconds
        failed = await self._jobs.failed_jobs(QUEUES)
        in_process = self._runner is not None and self._runner.running
        live = await self._jobs.live_workers(heartbeat_within=window)
        return {
            "extraction": await self._extractions.counts(self.config.tenant_id, user),
            "extraction_truncated": await self._extractions.count_truncated(
                self.config.tenant_id, user
            ),
            "queues": await self._jobs.queue_counts(QUEUES),
            "failed_jobs": [
                {"id": j.id, "task": j.task, "args": j.args, "attempts": j.attempts, "at": j.at}
                for j in failed
            ],
            # The in-process worker has a heartbeat row like any other once it started.
            "live_workers": max(live, 1) if in_process else live,
            "in_process_worker": in_process,
        }

    async def summarize_later(
        self,
        *,
        user_id: str,
        session_id: str,
        agent_id: str | None = None,
        buffer_window_size: int = 10,
        max_total_tokens: int = 4000,
        summary_context_weight: float = 0.3,
    ) -> int:
        """Queue a fold of the session's progressive summary (off the request path); the job id."""
        scope = self._scope(user_id, agent_id, session_id)
        policy = {
            "buffer_window_size": buffer_window_size,
            "max_total_tokens": max_total_tokens,
            "summary_context_weight": summary_context_weight,
            "agent_id": agent_id,
        }
        await self._ready()
        request = summarize_job(scope.tenant_id, scope.user_id, session_id, policy)
        return await self._jobs.defer_now(request, tenant_id=scope.tenant_id)

    async def reembed(self, *, batch_size: int = 64, progress: Progress | None = None) -> int:
        """Re-embed every stored row with this instance's embedder; the count rewritten.

        Open the store with the new embedder through ``AsyncMemory.for_reembedding``;
        other processes keep reading and writing while this runs.
        """
        await self._ready()
        return await reembed_store(
            ReembedStore(self.db),
            MetaStore(self.db),
            self.embedder,
            batch_size=batch_size,
            progress=progress,
        )

    async def flush(self) -> None:
        """Write buffered access statistics and cache entries now, and wait for every
        extraction this engine queued, and any queued before it in the same tenant
        (``WaitTimeout`` after ``wait_timeout_seconds``). With read replicas, reads that
        follow see all of it (read-your-writes)."""
        await self._ready()
        await self._writer.flush()
        await flush_reads(self._working_store, self._working_reads)
        await self._flush_jobs()
        await self.db.mark_writes(self.config.tenant_id)

    # -- what jobs call back ---------------------------------------------------------------

    async def _summarize_session(
        self, tenant_id: str, user_id: str, session_id: str, policy: dict[str, Any]
    ) -> dict[str, Any]:
        view = self._view_of(tenant_id)
        options = {k: v for k, v in policy.items() if k != "agent_id"}
        summary: ConversationSummary = await view.conversation_summary(**options)
        scope = view.scope(user_id, agent_id=policy.get("agent_id"), session_id=session_id)
        result = await summary.refresh(scope)
        return {"through_turn": result.through_turn if result else 0}

    async def _expire_kv(self, tenant_id: str) -> dict[str, int]:
        kv: KeyValueService = self._view_of(tenant_id).kv
        return await kv.cleanup_expired()

    async def _expire_working(self, tenant_id: str) -> dict[str, int]:
        working: WorkingMemoryService = self._view_of(tenant_id).working
        return await working.cleanup_expired()

    def _view_of(self, tenant_id: str) -> AsyncMemory:
        """The whole engine bound to ``tenant_id`` (the jobs use its other method groups)."""
        return cast("AsyncMemory", self.for_tenant(tenant_id))
