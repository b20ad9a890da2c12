"""Conversation datasets in LoCoMo's format, read into small frozen dataclasses.

LoCoMo ("Evaluating Very Long-Term Conversational Memory of LLM Agents", Maharana et
al., ACL 2024) gives each conversation numbered sessions of turns (``session_N``: each
turn a ``speaker``, its ``text`` and a ``dia_id`` such as ``"D3:7"``), a date per
session (``session_N_date_time``), and questions (``qa``) whose ``evidence`` names the
turns that support the answer. A file holds one such conversation (its keys at the top
level, or under ``conversation``) or a list of them. A turn may carry its own
``date_time``, which then wins over its session's.

Slashed numeric dates (``5/8/2023``) are read in one order per file (``date_order``):
``"auto"`` takes the order that a date with a part over 12 shows (``13/5/2023``: day
first) for the whole file, refuses a file where dates show both orders (naming a turn of
each), and reads month first when no date decides, saying so on the conversation
(:attr:`Conversation.date_order_assumed`); ``"mdy"`` or ``"dmy"`` impose an order.

Question categories: LoCoMo's numbers are named (1 multi-hop, 2 temporal, 3 open-domain,
4 single-hop; 5, adversarial and unanswerable, is left out); any other value is kept as
written. A file that does not fit raises :class:`~mnemo.errors.InvalidInput` saying
where and what is wrong.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, get_args

from mnemo.errors import InvalidInput
from mnemo.evaluation.timestamps import DateOrder, parse_timestamp, slashed_reading

__all__ = [
    "DATE_ORDERS",
    "LOCOMO_CATEGORIES",
    "Conversation",
    "Question",
    "Turn",
    "first_turns",
    "load_conversations",
    "normalise_evidence",
    "parse_conversations",
]

#: LoCoMo's question categories by number; 5 (adversarial) has no usable evidence.
LOCOMO_CATEGORIES: Mapping[int, str] = {
    1: "multi-hop",
    2: "temporal",
    3: "open-domain",
    4: "single-hop",
}
_ADVERSARIAL = 5
_SESSION_KEY = re.compile(r"session_(\d+)")
_DIA_ID = re.compile(r"D:?(\d+):(\d+)")
_EVIDENCE_SPLIT = re.compile(r"[;,]|\s+(?=D)")

DateOrderOption = Literal["auto", "mdy", "dmy"]
#: The ``date_order`` values: decided per file, month first, day first.
DATE_ORDERS: tuple[str, ...] = get_args(DateOrderOption)


@dataclass(frozen=True, slots=True)
class Turn:
    """One utterance of a conversation."""

    dia_id: str
    speaker: str
    text: str
    session: int
    #: The turn's own ``date_time``, else its session's; aware UTC.
    created_at: datetime
    #: Position of the turn in the whole conversation (0-based, sessions in order).
    position: int
    #: Caption of an image the speaker shared with this turn, if any.
    blip_caption: str | None = None

    @property
    def content(self) -> str:
        """The text stored as a memory: ``"{speaker}: {text}"``."""
        return f"{self.speaker}: {self.text}"


@dataclass(frozen=True, slots=True)
class Question:
    """A scoreable question: its category name and the ids of its evidence turns."""

    question: str
    answer: str
    evidence: tuple[str, ...]
    category: str


@dataclass(frozen=True, slots=True)
class Conversation:
    """One conversation: its turns in order and its scoreable questions."""

    conv_id: str
    speakers: tuple[str, ...]
    turns: tuple[Turn, ...]
    questions: tuple[Question, ...]
    #: Questions left out because none of their evidence names a turn of the conversation.
    skipped_no_evidence: int = 0
    #: Evidence entries dropped as malformed, duplicated or naming no turn.
    dropped_evidence: int = 0
    #: LoCoMo category 5 (adversarial) questions, which are not scored.
    skipped_adversarial: int = 0
    #: The order its slashed dates that read either way (``5/8/2023``) were read in;
    #: ``None`` when it has none.
    date_order: DateOrder | None = None
    #: True when nothing in its file decided that order and month first was assumed.
    date_order_assumed: bool = False


def load_conversations(
    path: Path, *, locomo_categories: bool = True, date_order: DateOrderOption = "auto"
) -> list[Conversation]:
    """The conversations of a JSON file, or of every ``*.json`` file in a directory.

    ``locomo_categories=False`` keeps numeric categories as written (and scores 5).
    ``date_order`` reads slashed dates: ``"auto"`` (decided per file), ``"mdy"``, ``"dmy"``.
    """
    if path.is_dir():
        files = sorted(path.glob("*.json"), key=lambda p: (len(p.stem), p.stem))
        if not files:
            raise InvalidInput(f"{path}: no *.json file in this directory")
    elif path.is_file():
        files = [path]
    else:
        raise InvalidInput(f"{path}: no such file or directory")
    conversations = [
        conv
        for file in files
        for conv in _load_file(file, locomo_categories=locomo_categories, date_order=date_order)
    ]
    _require_unique_ids(conversations)
    return conversations


def _load_file(
    path: Path, *, locomo_categories: bool, date_order: DateOrderOption
) -> list[Conversation]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path}: not UTF-8 text ({exc.reason})") from exc
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{path}: not JSON: {exc.msg} at line {exc.lineno}") from exc
    return parse_conversations(
        data, name=path.stem, locomo_categories=locomo_categories, date_order=date_order
    )


def parse_conversations(
    data: Any, *, name: str, locomo_categories: bool = True, date_order: DateOrderOption = "auto"
) -> list[Conversation]:
    """The conversations of one decoded JSON document (``name``: its file's stem)."""
    if isinstance(data, list):
        if not data:
            raise InvalidInput(f"{name}: an empty list holds no conversation")
        named = [(sample, _sample_id(sample, f"{name}-{i + 1}")) for i, sample in enumerate(data)]
    else:
        named = [(data, _sample_id(data, name))]
    dates = _file_date_order(named, name, date_order)
    return [_conversation(sample, conv_id, locomo_categories, dates) for sample, conv_id in named]


def _sample_id(sample: Any, default: str) -> str:
    found = sample.get("sample_id") if isinstance(sample, dict) else None
    return str(found) if found not in (None, "") else default


@dataclass(frozen=True, slots=True)
class _FileDates:
    """The order a file's slashed dates are read in, and whether it was only assumed."""

    order: DateOrder
    assumed: bool


def _file_date_order(
    named: list[tuple[Any, str]], name: str, option: DateOrderOption
) -> _FileDates:
    """``option``, or for ``"auto"`` the order the file's own dates show (month first if none)."""
    if option not in DATE_ORDERS:
        raise InvalidInput(f"date order must be one of {', '.join(DATE_ORDERS)}, got {option!r}")
    if option != "auto":
        return _FileDates(option, assumed=False)
    shown: dict[str, str] = {}  # "mdy"/"dmy": the first stamp that can only be read so
    for sample, conv_id in named:
        for where, field, value in _stamps(_body(sample), conv_id):
            reading = slashed_reading(value)
            if reading in ("mdy", "dmy"):
                shown.setdefault(reading, f"{where}: `{field}` {value!r}")
    if len(shown) == 2:
        raise InvalidInput(
            f"{name}: slashed dates in both orders: {shown['dmy']} is only a date day first, "
            f"{shown['mdy']} only month first"
        )
    if shown:
        return _FileDates("dmy" if "dmy" in shown else "mdy", assumed=False)
    return _FileDates("mdy", assumed=True)


def _body(sample: Any) -> dict[str, Any] | None:
    body = sample.get("conversation", sample) if isinstance(sample, dict) else None
    return body if isinstance(body, dict) else None


def _stamps(body: dict[str, Any] | None, conv_id: str) -> Iterator[tuple[str, str, Any]]:
    """Each turn's place, the field that dates it and that field's value (shape unchecked)."""
    body = body or {}
    for number in _session_numbers(body):
        session, session_time = body[f"session_{number}"], body.get(f"session_{number}_date_time")
        for index, raw in enumerate(session if isinstance(session, list) else [], start=1):
            own = raw.get("date_time") if isinstance(raw, dict) else None
            yield f"{conv_id}: session_{number} turn {index}", *_stamp(own, session_time, number)


def _stamp(own: Any, session_time: Any, session: int) -> tuple[str, Any]:
    """The field that dates a turn (its own ``date_time``, else its session's) and its value."""
    if own is not None:
        return "date_time", own
    return f"session_{session}_date_time", session_time


def _conversation(
    sample: Any, conv_id: str, locomo_categories: bool, dates: _FileDates
) -> Conversation:
    body = _body(sample)
    if body is None or not _session_numbers(body):
        raise InvalidInput(
            f"{conv_id}: no conversation found: expected LoCoMo's `conversation` with "
            "`session_N` lists of turns (or those keys at the top level), or a list of such "
            "conversations"
        )
    turns = _turns(body, conv_id, dates.order)
    either = any(slashed_reading(value) == "either" for _, _, value in _stamps(body, conv_id))
    questions = _Questions(conv_id, {t.dia_id for t in turns}, locomo_categories)
    questions.read(sample.get("qa", []))
    return Conversation(
        conv_id=conv_id,
        speakers=tuple(dict.fromkeys(t.speaker for t in turns)),
        turns=tuple(turns),
        questions=tuple(questions.kept),
        skipped_no_evidence=questions.no_evidence,
        dropped_evidence=questions.dropped,
        skipped_adversarial=questions.adversarial,
        date_order=dates.order if either else None,
        date_order_assumed=either and dates.assumed,
    )


def _session_numbers(body: dict[str, Any]) -> list[int]:
    """Numbers of the sessions that have turns (LoCoMo stamps some empty ones)."""
    return sorted(int(m[1]) for key in body if (m := _SESSION_KEY.fullmatch(key)) and body[key])


def _turns(body: dict[str, Any], conv_id: str, order: DateOrder) -> list[Turn]:
    turns: list[Turn] = []
    seen: set[str] = set()
    for number in _session_numbers(body):
        session = body[f"session_{number}"]
        if not isinstance(session, list):
            raise InvalidInput(f"{conv_id}: session_{number} must be a list of turns")
        session_time = body.get(f"session_{number}_date_time")
        for index, raw in enumerate(session, start=1):
            where = f"{conv_id}: session_{number} turn {index}"
            turn = _turn(raw, where, number, session_time, len(turns), order)
            if turn.dia_id in seen:
                raise InvalidInput(f"{where}: dia_id {turn.dia_id!r} is used twice")
            seen.add(turn.dia_id)
            turns.append(turn)
    return turns


def _turn(
    raw: Any, where: str, session: int, session_time: Any, position: int, order: DateOrder
) -> Turn:
    if not isinstance(raw, dict):
        raise InvalidInput(f"{where}: a turn must be an object, got {type(raw).__name__}")
    dia_id, speaker = _text(raw, "dia_id", where), _text(raw, "speaker", where)
    return Turn(
        dia_id=dia_id.strip(),
        speaker=speaker,
        text=_text(raw, "text", where, empty=True),
        session=session,
        created_at=_turn_time(raw.get("date_time"), session_time, where, session, order),
        position=position,
        blip_caption=raw.get("blip_caption") or None,
    )


def _text(raw: dict[str, Any], key: str, where: str, *, empty: bool = False) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not (empty or value.strip()):
        kind = "a string" if empty else "a non-empty string"
        raise InvalidInput(f"{where}: `{key}` must be {kind}, got {value!r:.40}")
    return value


def _turn_time(own: Any, session_time: Any, where: str, session: int, order: DateOrder) -> datetime:
    if own is None and session_time is None:
        raise InvalidInput(
            f"{where}: no `date_time`, and no `session_{session}_date_time` for its session"
        )
    field, value = _stamp(own, session_time, session)
    try:
        return parse_timestamp(value, order=order)
    except ValueError as exc:
        raise InvalidInput(f"{where}: `{field}`: {exc}") from exc


class _Questions:
    """Reads a conversation's ``qa`` list, keeping the scoreable questions."""

    def __init__(self, conv_id: str, known: set[str], locomo_categories: bool) -> None:
        self.conv_id, self.known, self.locomo = conv_id, known, locomo_categories
        self.kept: list[Question] = []
        self.no_evidence = self.dropped = self.adversarial = 0

    def read(self, raw: Any) -> None:
        if not isinstance(raw, list):
            raise InvalidInput(f"{self.conv_id}: `qa` must be a list of questions")
        for index, item in enumerate(raw, start=1):
            self._one(item, f"{self.conv_id}: qa {index}")

    def _one(self, item: Any, where: str) -> None:
        if not isinstance(item, dict) or not isinstance(item.get("question"), str):
            raise InvalidInput(f"{where}: a question must be an object with a `question` string")
        category = self._category(item.get("category"))
        if category is None:
            self.adversarial += 1
            return
        evidence, dropped = _evidence(item.get("evidence"), self.known)
        self.dropped += dropped
        if not evidence:
            self.no_evidence += 1
            return
        answer = str(item.get("answer", ""))
        self.kept.append(Question(item["question"], answer, evidence, category))

    def _category(self, raw: Any) -> str | None:
        """The category's name; ``None`` for LoCoMo's adversarial questions."""
        number = _as_number(raw) if self.locomo else None
        if number is not None:
            return None if number == _ADVERSARIAL else LOCOMO_CATEGORIES.get(number, str(number))
        return "uncategorised" if raw is None or raw == "" else str(raw)


def _as_number(raw: Any) -> int | None:
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().isdigit():
        return int(raw)
    return None


def _evidence(raw: Any, known: set[str]) -> tuple[tuple[str, ...], int]:
    """The evidence ids naming turns of the conversation, and how many entries were dropped."""
    entries = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
    found: dict[str, None] = {}
    given = 0
    for entry in entries:
        text = str(entry).strip()
        parts = (text,) if text in known else normalise_evidence([text])
        given += len(parts) or 1
        found.update((part, None) for part in parts if part in known)
    return tuple(found), given - len(found)


def normalise_evidence(raw: Iterable[str]) -> tuple[str, ...]:
    """LoCoMo evidence strings as clean, de-duplicated ``D<session>:<turn>`` ids.

    Handles several ids in one string (``"D8:6; D9:17"``), stray spaces and a colon
    after the ``D`` (``"D:11:26"``); entries that still do not parse (``"D"``) are dropped.
    """
    out: dict[str, None] = {}
    for entry in raw:
        for part in _EVIDENCE_SPLIT.split(str(entry)):
            match = _DIA_ID.fullmatch(part.replace(" ", ""))
            if match:
                out[f"D{int(match[1])}:{int(match[2])}"] = None
    return tuple(out)


def _require_unique_ids(conversations: list[Conversation]) -> None:
    seen: set[str] = set()
    for conv in conversations:
        if conv.conv_id in seen:
            raise InvalidInput(f"two conversations are called {conv.conv_id!r} (sample_id)")
        seen.add(conv.conv_id)


def first_turns(conv: Conversation, count: int) -> Conversation:
    """``conv`` cut to its first ``count`` turns and the questions whose evidence is in them."""
    turns = conv.turns[:count]
    kept = {t.dia_id for t in turns}
    questions = tuple(q for q in conv.questions if kept.issuperset(q.evidence))
    return Conversation(
        conv_id=conv.conv_id,
        speakers=tuple(dict.fromkeys(t.speaker for t in turns)),
        turns=turns,
        questions=questions,
        skipped_no_evidence=conv.skipped_no_evidence,
        dropped_evidence=conv.dropped_evidence,
        skipped_adversarial=conv.skipped_adversarial,
        date_order=conv.date_order,
        date_order_assumed=conv.date_order_assumed,
    )
