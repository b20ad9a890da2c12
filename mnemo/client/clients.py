"""``MnemoClient`` (sync) and ``AsyncMnemoClient``: ``Memory``'s methods over HTTP."""

from __future__ import annotations

import builtins
import functools
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, Self

import httpx

from mnemo.client import calls
from mnemo.client._transport import error_from, headers_for, unreachable
from mnemo.client.calls import Call

P = ParamSpec("P")
DEFAULT_TIMEOUT = 30.0


def _async(build: Callable[P, Call]) -> Callable[Concatenate[AsyncMnemoClient, P], Awaitable[Any]]:
    async def method(self: AsyncMnemoClient, /, *args: P.args, **kwargs: P.kwargs) -> Any:
        return await self._send(build(*args, **kwargs))

    functools.update_wrapper(method, build)
    return method


def _sync(build: Callable[P, Call]) -> Callable[Concatenate[MnemoClient, P], Any]:
    def method(self: MnemoClient, /, *args: P.args, **kwargs: P.kwargs) -> Any:
        return self._send(build(*args, **kwargs))

    functools.update_wrapper(method, build)
    return method


class AsyncMnemoClient:
    """``AsyncMemory``'s methods, answered by a mnemo service at ``base_url``.

    ``transport`` lets tests (or an app embedding the service) talk to an ASGI
    app in-process; ``api_key`` is sent as ``Authorization: Bearer``.
    """

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8000",
        *,
        api_key: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url
        self._http = httpx.AsyncClient(
            base_url=base_url, headers=headers_for(api_key), timeout=timeout, transport=transport
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the connections; the client is unusable after."""
        await self._http.aclose()

    async def flush(self) -> None:
        """Nothing to do: the service writes its buffered statistics on its own."""

    add = _async(calls.add)
    add_many = _async(calls.add_many)
    add_messages = _async(calls.add_messages)
    context = _async(calls.context)
    search = _async(calls.search)
    get = _async(calls.get)
    list = _async(calls.list_memories)
    update = _async(calls.update)
    delete = _async(calls.delete)
    history = _async(calls.history)
    delete_user = _async(calls.delete_user)
    stats = _async(calls.stats)
    import_user = _async(calls.import_user)

    async def export_user(self, user_id: str) -> AsyncIterator[dict[str, Any]]:
        """Everything stored about a user, line by line (header first), streamed."""
        call = calls.export_user(user_id)
        try:
            async with self._http.stream(call.method, call.path) as response:
                if response.is_error:
                    await response.aread()
                    raise error_from(response)
                async for line in response.aiter_lines():
                    if line.strip():
                        yield json.loads(line)
        except httpx.TransportError as exc:
            raise unreachable(self.base_url, exc) from exc

    async def add_to_memory(self, conversation_id: str | int, content: str) -> str:
        """Store ``content`` in a conversation's memory (a conversation is a user scope)."""
        result = await self.add(content, user_id=str(conversation_id))
        return str(result.id)

    async def get_relevant_memories(
        self, conversation_id: str | int, query: str, limit: int = 5
    ) -> builtins.list[str]:
        """The contents of the conversation's memories most relevant to ``query``."""
        hits = await self.search(query, user_id=str(conversation_id), limit=limit)
        return [hit.content for hit in hits]

    async def _send(self, call: Call) -> Any:
        try:
            response = await self._http.request(
                call.method, call.path, params=call.params, json=call.body, content=call.content
            )
        except httpx.TransportError as exc:
            raise unreachable(self.base_url, exc) from exc
        return _result(call, response)


class MnemoClient:
    """``Memory``'s methods, answered by a mnemo service at ``base_url``."""

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8000",
        *,
        api_key: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url
        self._http = httpx.Client(
            base_url=base_url, headers=headers_for(api_key), timeout=timeout, transport=transport
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections; the client is unusable after."""
        self._http.close()

    def flush(self) -> None:
        """Nothing to do: the service writes its buffered statistics on its own."""

    add = _sync(calls.add)
    add_many = _sync(calls.add_many)
    add_messages = _sync(calls.add_messages)
    context = _sync(calls.context)
    search = _sync(calls.search)
    get = _sync(calls.get)
    list = _sync(calls.list_memories)
    update = _sync(calls.update)
    delete = _sync(calls.delete)
    history = _sync(calls.history)
    delete_user = _sync(calls.delete_user)
    stats = _sync(calls.stats)
    import_user = _sync(calls.import_user)

    def export_user(self, user_id: str) -> Iterator[dict[str, Any]]:
        """Everything stored about a user, line by line (header first), streamed."""
        call = calls.export_user(user_id)
        try:
            with self._http.stream(call.method, call.path) as response:
                if response.is_error:
                    response.read()
                    raise error_from(response)
                for line in response.iter_lines():
                    if line.strip():
                        yield json.loads(line)
        except httpx.TransportError as exc:
            raise unreachable(self.base_url, exc) from exc

    def add_to_memory(self, conversation_id: str | int, content: str) -> str:
        """Store ``content`` in a conversation's memory (a conversation is a user scope)."""
        return str(self.add(content, user_id=str(conversation_id)).id)

    def get_relevant_memories(
        self, conversation_id: str | int, query: str, limit: int = 5
    ) -> builtins.list[str]:
        """The contents of the conversation's memories most relevant to ``query``."""
        hits = self.search(query, user_id=str(conversation_id), limit=limit)
        return [hit.content for hit in hits]

    def _send(self, call: Call) -> Any:
        try:
            response = self._http.request(
                call.method, call.path, params=call.params, json=call.body, content=call.content
            )
        except httpx.TransportError as exc:
            raise unreachable(self.base_url, exc) from exc
        return _result(call, response)


def _result(call: Call, response: httpx.Response) -> Any:
    if response.is_error:
        raise error_from(response)
    if response.status_code == 204 or not response.content:
        return call.parse(None)
    return call.parse(response.json())
