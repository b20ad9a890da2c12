"""``read_only``: the mark of a public method that only reads, so it may read a standby.

With read replicas configured, the queries of such a method run where
``Database.connection`` sends read-only work (``mnemo.store.postgres.replicas``); a
method any of whose queries failed on a standby (raised, or absorbed as a context
section's failure) is run again, whole, on the primary. Without
replicas the mark changes nothing.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

from mnemo.errors import StoreUnavailable
from mnemo.store.postgres.replicas import on_primary, reading

logger = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")


def read_only(
    method: Callable[P, Coroutine[Any, Any, T]],
) -> Callable[P, Coroutine[Any, Any, T]]:
    """Route ``method`` (of ``AsyncMemory``) as read-only work of its tenant and user
    (its ``user_id`` argument, or its request's)."""
    signature = inspect.signature(method)

    @functools.wraps(method)
    async def routed(*args: P.args, **kwargs: P.kwargs) -> T:
        engine: Any = args[0]
        db = getattr(engine, "db", None)  # set once the engine is open
        if db is not None and db.replicas is None:  # no replicas: nothing to route
            return await method(*args, **kwargs)
        user = _user_of(signature.bind_partial(*args, **kwargs).arguments)
        with reading(engine.config.tenant_id, user) as intent:
            try:
                result = await method(*args, **kwargs)
            except StoreUnavailable as exc:
                if intent.failed_on is None:
                    raise
                logger.info("%s failed on read replica %s, run on the primary: %s",
                            method.__name__, intent.failed_on, exc)  # fmt: skip
            else:
                if intent.failed_on is None:
                    return result
                # A part failed on the standby and the method carried on without it
                # (a context section is reported, not raised): the whole is run again.
        engine.db.replicas.counts["retried"] += 1
        with on_primary():
            return await method(*args, **kwargs)

    return routed


def _user_of(arguments: dict[str, Any]) -> str | None:
    user = arguments.get("user_id")
    if user is None and "request" in arguments:
        user = getattr(arguments["request"], "user_id", None)
    return user if isinstance(user, str) else None
