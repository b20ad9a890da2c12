"""The shapes every format module shares: a turn to build from, a parsed message."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from mnemo.core.formats.parts import Parts
from mnemo.errors import InvalidInput


class Turn(Protocol):
    """A stored (or checked) turn, as a format builds messages from it."""

    @property
    def role(self) -> str: ...
    @property
    def content(self) -> str: ...
    @property
    def name(self) -> str | None: ...
    @property
    def tool_calls(self) -> list[dict[str, Any]] | None: ...
    @property
    def tool_results(self) -> list[dict[str, Any]] | None: ...


@dataclass(slots=True)
class Parsed:
    """A provider message read as a mnemo turn (``fields`` as ``add_messages`` takes
    them) and its content parts, if it had a list of them."""

    fields: dict[str, Any]
    parts: Parts | None = None
    #: Provider-specific things kept whole (no text, no tools): the message comes back as given.
    opaque: bool = False


@dataclass(frozen=True, slots=True)
class Shape:
    """How a turn's content looks in the format being built: its parts (the format's own,
    or another format's translated), the lengths of their texts, and whether the turn
    came from this very format."""

    parts: list[dict[str, Any]] | None = None
    text_lengths: list[int] | None = None
    native: bool = False


def output_value(output: Any) -> Any:
    """A tool result's output as providers take it: a string or a list of parts as
    given; anything else as JSON text."""
    if output is None or isinstance(output, (str, list)):
        return output
    return json.dumps(output, ensure_ascii=False)


def known_type(part: object, types: frozenset[str], where: str, fmt: str) -> str:
    """A content part's ``type``, if the format has it; ``InvalidInput`` naming it if not."""
    if not isinstance(part, Mapping):
        raise InvalidInput(f"{where} must be an object, got {type(part).__name__}")
    kind = part.get("type")
    if not isinstance(kind, str) or kind not in types:
        raise InvalidInput(
            f"{where}.type {kind!r:.40} is not a {fmt} content type; known: {sorted(types)}"
        )
    return str(kind)
