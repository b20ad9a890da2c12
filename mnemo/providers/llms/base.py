"""The LLM seam: one abstract method, ``complete``; JSON replies are handled once here.

A provider implements :meth:`LLM.complete` (send messages, return a :class:`Completion`).
Everything a caller needs on top of that is written once in this module:
:meth:`LLM.complete_json` asks for a JSON reply, repairs the usual ways a model
mangles JSON (:func:`repair_json`), validates it against a JSON schema and, when
the reply still does not fit, asks again with a corrective message a bounded
number of times before raising :class:`~mnemo.errors.LLMError`. A reply cut off by
``max_tokens`` that still repairs into a valid value is accepted, logged as a warning
and marked (:attr:`Completion.truncated`), since whatever was in its lost tail is gone.

Schemas are validated with ``jsonschema`` so the document sent to the server as
``response_format`` and the one the reply is checked against are the same object.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Any, Literal, Self

import jsonschema
from jsonschema.exceptions import best_match

from mnemo.errors import InvalidInput, LLMError

__all__ = [
    "LLM",
    "ChatMessage",
    "Completion",
    "JSONRepairError",
    "Role",
    "Usage",
    "repair_json",
]

Role = Literal["system", "user", "assistant", "tool"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One message of a chat: a role and its text."""

    role: Role
    content: str

    @classmethod
    def system(cls, content: str) -> ChatMessage:
        return cls("system", content)

    @classmethod
    def user(cls, content: str) -> ChatMessage:
        return cls("user", content)

    @classmethod
    def assistant(cls, content: str) -> ChatMessage:
        return cls("assistant", content)


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens a call consumed, as the server reported them (0 when it did not)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Completion:
    """A model's reply.

    ``parsed`` holds the decoded JSON when a schema was asked for and the text could
    be decoded (after :meth:`LLM.complete_json`, it is also valid against the schema).
    """

    text: str
    model: str
    usage: Usage = field(default_factory=Usage)
    latency_seconds: float = 0.0
    parsed: Any = None
    finish_reason: str | None = None

    @property
    def truncated(self) -> bool:
        """Whether the reply stopped at the token limit (``finish_reason == "length"``)."""
        return self.finish_reason == "length"


class LLM(ABC):
    """A chat model.

    A subclass sets ``model_id`` (a stable, human-readable name such as
    ``"openai-compatible/gpt-4o-mini"``) and implements :meth:`complete`.
    """

    model_id: str
    #: Replies :meth:`complete_json` asks for before giving up.
    json_attempts: int = 3

    @abstractmethod
    async def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        schema: dict[str, Any] | None = None,
        temperature: float = 0.0,
        max_tokens: int | None = None,
    ) -> Completion:
        """Send ``messages``; return the reply.

        With ``schema``, the provider asks the server for JSON (natively where it can)
        and fills ``Completion.parsed`` when the text decodes; it does not validate.
        Failures raise :class:`~mnemo.errors.LLMError`.
        """

    async def open(self) -> None:  # noqa: B027 - an optional hook, a no-op by default
        """Acquire resources (HTTP clients). Called once before use; optional."""

    async def aclose(self) -> None:  # noqa: B027 - an optional hook, a no-op by default
        """Release resources."""

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def complete_json(
        self,
        messages: Sequence[ChatMessage],
        schema: dict[str, Any],
        *,
        temperature: float = 0.0,
        max_tokens: int | None = None,
        attempts: int | None = None,
    ) -> Completion:
        """Ask for a JSON reply valid against ``schema``; return it in ``Completion.parsed``.

        Malformed JSON is repaired first. A reply that still does not validate is
        shown back to the model with the validation error, up to ``attempts``
        replies in all (default ``json_attempts``). The returned completion's
        ``usage`` and ``latency_seconds`` add up every attempt. Raises
        :class:`~mnemo.errors.LLMError` when no reply fits.
        """
        validator = _validator_for(schema)
        attempts = attempts or self.json_attempts
        conversation = with_schema_instruction(messages, schema)
        usage, latency, problem = Usage(), 0.0, "no reply"
        for _ in range(attempts):
            completion = await self._complete_translated(
                conversation, schema, temperature, max_tokens
            )
            usage, latency = usage + completion.usage, latency + completion.latency_seconds
            value, problem = _decode_and_validate(completion, validator)
            if not problem:
                if completion.truncated:
                    logger.warning(
                        "%s: reply cut off at max_tokens=%s; accepted as repaired into valid "
                        "JSON, so whatever followed the cut is missing", self.model_id, max_tokens,
                    )  # fmt: skip
                return replace(completion, parsed=value, usage=usage, latency_seconds=latency)
            conversation = [
                *conversation,
                ChatMessage.assistant(completion.text),
                ChatMessage.user(_CORRECTION.format(problem=problem)),
            ]
        raise LLMError(
            f"{self.model_id} gave no reply matching the JSON schema in {attempts} "
            f"attempt(s); last problem: {problem}"
        )

    async def _complete_translated(
        self,
        messages: Sequence[ChatMessage],
        schema: dict[str, Any],
        temperature: float,
        max_tokens: int | None,
    ) -> Completion:
        try:
            return await self.complete(
                messages, schema=schema, temperature=temperature, max_tokens=max_tokens
            )
        except (LLMError, asyncio.CancelledError):
            raise
        except Exception as exc:  # a provider's own failure, translated at this one boundary
            raise LLMError(f"{self.model_id} failed: {type(exc).__name__}: {exc}") from exc

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model_id={self.model_id!r})"


_SCHEMA_INSTRUCTION = (
    "Reply with one JSON value that matches this JSON schema, and nothing else "
    "(no prose, no code fences):\n{schema}"
)
_CORRECTION = (
    "That reply could not be used: {problem}. Reply again with only the corrected JSON "
    "value that matches the schema."
)


def with_schema_instruction(
    messages: Sequence[ChatMessage], schema: dict[str, Any]
) -> list[ChatMessage]:
    """``messages`` with the schema stated in the (first) system message.

    Servers without native structured output need it; for the others it is cheap.
    It is merged into an existing leading system message because some chat
    templates accept only one.
    """
    instruction = _SCHEMA_INSTRUCTION.format(schema=json.dumps(schema, separators=(",", ":")))
    if messages and messages[0].role == "system":
        first = ChatMessage.system(f"{messages[0].content}\n\n{instruction}")
        return [first, *messages[1:]]
    return [ChatMessage.system(instruction), *messages]


def _validator_for(schema: dict[str, Any]) -> jsonschema.protocols.Validator:
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise InvalidInput(f"not a valid JSON schema: {exc.message}") from exc
    return cls(schema)


def _decode_and_validate(
    completion: Completion, validator: jsonschema.protocols.Validator
) -> tuple[Any, str]:
    """The reply's value and ``""``, or ``None`` and what is wrong with it."""
    if completion.parsed is not None and validator.is_valid(completion.parsed):
        return completion.parsed, ""
    try:
        value = repair_json(completion.text, accept=validator.is_valid)
    except JSONRepairError as exc:
        cut = (
            " (the reply was cut off; keep it shorter)"
            if completion.finish_reason == "length"
            else ""
        )
        return None, f"it is not valid JSON ({exc}){cut}"
    error = best_match(validator.iter_errors(value))
    if error is None:
        return value, ""
    where = "/".join(str(part) for part in error.absolute_path) or "the top level"
    return None, f"it does not match the schema at {where}: {error.message[:300]}"


# --- JSON repair ---------------------------------------------------------------------


class JSONRepairError(ValueError):
    """The text holds no JSON value that could be recovered."""


_FENCE = re.compile(r"```[a-zA-Z0-9_-]*[ \t]*\n?(.*?)(?:```|\Z)", re.DOTALL)
_PY_CONSTANTS = {"True": "true", "False": "false", "None": "null"}
_OPENERS = {"{": "}", "[": "]"}
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: Most start positions and truncation cut points tried, to bound the work on junk.
_MAX_STARTS = 8
_MAX_CUTS = 64


def repair_json(text: str, *, accept: Callable[[Any], bool] | None = None) -> Any:
    """Decode the JSON value in a model's reply, repairing common damage.

    Handles code fences, prose before or after the value, trailing commas, Python
    ``True``/``False``/``None`` and a value cut off part-way (the incomplete tail
    is dropped back to the last complete element, then brackets are closed; a
    string cut in half is dropped, never closed, so no half-sentence survives).

    Several readings can exist (where the value starts, where a truncated one is
    cut); the first one ``accept`` approves wins, else the most complete one that
    decodes. Raises :class:`JSONRepairError` when nothing decodes.
    """
    stripped = text.strip().lstrip("\ufeff")
    fallback: list[Any] = []
    for candidate in _readings(stripped):
        if accept is None or accept(candidate):
            return candidate
        fallback.append(candidate)
    if fallback:
        return fallback[0]
    raise JSONRepairError(f"no JSON value found in {_preview(stripped)}")


def _readings(text: str) -> Iterator[Any]:
    """Every decodable reading of ``text``, most faithful first."""
    yield from _loads(text)
    sources = [match.group(1) for match in _FENCE.finditer(text)] + [text]
    for source in sources:
        starts = [i for i, ch in enumerate(source) if ch in _OPENERS][:_MAX_STARTS]
        for start in starts:
            yield from _readings_from(source, start)


def _readings_from(text: str, start: int) -> Iterator[Any]:
    cleaned, cuts, closers = _scan_value(text, start)
    if not closers:  # balanced: the value ended; whatever follows is prose
        yield from _loads(cleaned)
        return
    for cut, pending in [(len(cleaned), closers), *reversed(cuts[-_MAX_CUTS:])]:
        head = cleaned[:cut].rstrip().rstrip(",").rstrip()
        if head.endswith(":"):
            continue
        yield from _loads(head + "".join(reversed(pending)))


def _scan_value(text: str, start: int) -> tuple[str, list[tuple[int, list[str]]], list[str]]:
    """Copy one value starting at ``text[start]``, cleaning it as it goes.

    Returns the cleaned text, the cut points where a truncated value can end
    (each with the closers then open), and the closers still open at the end
    (empty when the value was complete). Trailing commas and Python constants
    are fixed, stray closers dropped, and an unterminated string left out.
    """
    out = _Text()
    stack: list[str] = []
    cuts: list[tuple[int, list[str]]] = []
    i = start
    while i < len(text):
        ch = text[i]
        if ch == '"':
            end = _string_end(text, i)
            if end is None:  # cut inside a string: drop it
                break
            out.add(text[i:end])
            i = end
            continue
        if ch.isalpha():
            word = _WORD.match(text, i)
            assert word is not None
            out.add(_PY_CONSTANTS.get(word.group(), word.group()))
            i = word.end()
            continue
        if ch in _OPENERS:
            stack.append(_OPENERS[ch])
            out.add(ch)
            cuts.append((out.size, list(stack)))
        elif ch == ",":
            cuts.append((out.size, list(stack)))
            out.add(ch)
        elif ch in "}]" and stack and stack[-1] == ch:
            out.drop_trailing_comma()
            stack.pop()
            out.add(ch)
            if not stack:
                break
        elif ch not in "}]":  # a stray closer is dropped
            out.add(ch)
        i += 1
    return str(out), cuts, stack


class _Text:
    """A string being built, with its length at hand."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0

    def add(self, piece: str) -> None:
        self.parts.append(piece)
        self.size += len(piece)

    def drop_trailing_comma(self) -> None:
        while self.parts and not self.parts[-1].strip():
            self.size -= len(self.parts.pop())
        if self.parts and self.parts[-1] == ",":
            self.size -= len(self.parts.pop())

    def __str__(self) -> str:
        return "".join(self.parts)


def _string_end(text: str, start: int) -> int | None:
    """Index just past the string literal opening at ``start``; None if unterminated."""
    i = start + 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
        elif text[i] == '"':
            return i + 1
        else:
            i += 1
    return None


def _loads(text: str) -> Iterator[Any]:
    try:
        yield json.loads(text)
    except ValueError:
        return


def _preview(text: str, limit: int = 80) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")
