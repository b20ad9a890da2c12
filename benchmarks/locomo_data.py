"""LoCoMo conversations and the evidence-recall metric.

LoCoMo ("Evaluating Very Long-Term Conversational Memory of LLM Agents", Maharana et
al., ACL 2024) ships one JSON file per conversation: two speakers, numbered sessions of
turns (each with a ``dia_id`` such as ``"D3:7"``), a date/time per session, and questions
whose ``evidence`` names the turns that support the answer.

This module finds the data, loads it into small frozen dataclasses and scores rankings:
for a question, recall@k is the fraction of its evidence turns found among the first k
ranked ``dia_id``s; a run reports the mean over questions, overall and per category.

Nothing here touches the network or prints. When the data directory is absent,
:func:`load_conversations` returns an empty list so callers can skip cleanly.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = [
    "CATEGORY_NAMES",
    "DEFAULT_KS",
    "ENV_VAR",
    "Conversation",
    "Question",
    "RecallReport",
    "Turn",
    "data_dir",
    "evaluate",
    "load_conversation",
    "load_conversations",
    "normalise_evidence",
    "parse_session_datetime",
    "recall_at_k",
]

#: Environment variable naming the directory that holds ``<id>.json`` conversation files.
ENV_VAR = "MNEMO_LOCOMO_DIR"

#: Question categories as numbered in the LoCoMo release. Category 5 (adversarial,
#: unanswerable) has no usable evidence and is never loaded.
CATEGORY_NAMES: Mapping[int, str] = {
    1: "multi-hop",
    2: "temporal",
    3: "open-domain",
    4: "single-hop",
}

#: Cut-offs reported by default.
DEFAULT_KS: tuple[int, ...] = (5, 10)

_SESSION_KEY = re.compile(r"session_(\d+)")
_DIA_ID = re.compile(r"D:?(\d+):(\d+)")
_EVIDENCE_SPLIT = re.compile(r"[;,]|\s+(?=D)")


@dataclass(frozen=True, slots=True)
class Turn:
    """One utterance of a conversation."""

    dia_id: str
    speaker: str
    text: str
    session: int
    #: Start of the session the turn belongs to (all its turns share it), aware UTC.
    session_time: datetime
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
    """A question of categories 1-4 with its normalised evidence ``dia_id``s."""

    question: str
    answer: str
    evidence: tuple[str, ...]
    category: int


@dataclass(frozen=True, slots=True)
class Conversation:
    """One LoCoMo conversation: its turns in order and its scoreable questions."""

    conv_id: str
    speaker_a: str
    speaker_b: str
    turns: tuple[Turn, ...]
    questions: tuple[Question, ...]
    #: Category 1-4 questions left out because no valid evidence remained.
    skipped_no_evidence: int = 0
    #: Evidence entries dropped as malformed, duplicated or naming no turn of the conversation.
    dropped_evidence: int = 0
    #: Category 5 (adversarial) questions, which are not loaded.
    skipped_adversarial: int = 0


def data_dir() -> Path | None:
    """Return the LoCoMo data directory, or ``None`` when it does not exist.

    ``$MNEMO_LOCOMO_DIR`` wins; otherwise ``<repo>/../shared/bench-data/locomo``.
    """
    env = os.environ.get(ENV_VAR)
    repo = Path(__file__).resolve().parent.parent
    path = Path(env) if env else repo.parent / "shared" / "bench-data" / "locomo"
    return path if path.is_dir() else None


def parse_session_datetime(value: str) -> datetime:
    """Parse a session stamp such as ``"1:56 pm on 8 May, 2023"`` as an aware UTC datetime.

    The dataset gives no time zone; the stamp is taken to be UTC.
    """
    cleaned = " ".join(value.replace(",", ", ").split())
    return datetime.strptime(cleaned.upper(), "%I:%M %p ON %d %B, %Y").replace(tzinfo=UTC)


def normalise_evidence(raw: Iterable[str]) -> tuple[str, ...]:
    """Turn raw evidence strings into clean, de-duplicated ``D<session>:<turn>`` ids.

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


def _count_raw_ids(raw: Iterable[str]) -> int:
    return sum(1 for entry in raw for part in _EVIDENCE_SPLIT.split(str(entry)) if part.strip())


def load_conversation(path: Path) -> Conversation:
    """Load one conversation file (questions of categories 1-4 only)."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    # Some files carry date stamps for sessions that have no turns; only real ones count.
    sessions = sorted(int(m[1]) for key in data if (m := _SESSION_KEY.fullmatch(key)) and data[key])
    turns: list[Turn] = []
    for number in sessions:
        when = parse_session_datetime(data[f"session_{number}_date_time"])
        for raw in data[f"session_{number}"]:
            turns.append(
                Turn(
                    dia_id=str(raw["dia_id"]).strip(),
                    speaker=str(raw["speaker"]),
                    text=str(raw["text"]),
                    session=number,
                    session_time=when,
                    position=len(turns),
                    blip_caption=raw.get("blip_caption") or None,
                )
            )
    known = {turn.dia_id for turn in turns}

    questions: list[Question] = []
    skipped_no_evidence = dropped = adversarial = 0
    for raw_q in data.get("qa", []):
        category = int(raw_q["category"])
        if category not in CATEGORY_NAMES:
            adversarial += 1
            continue
        raw_evidence = raw_q.get("evidence") or []
        evidence = tuple(e for e in normalise_evidence(raw_evidence) if e in known)
        dropped += _count_raw_ids(raw_evidence) - len(evidence)
        if not evidence:
            skipped_no_evidence += 1
            continue
        questions.append(
            Question(
                question=str(raw_q["question"]),
                answer=str(raw_q.get("answer", "")),
                evidence=evidence,
                category=category,
            )
        )
    return Conversation(
        conv_id=path.stem,
        speaker_a=str(data["speaker_a"]),
        speaker_b=str(data["speaker_b"]),
        turns=tuple(turns),
        questions=tuple(questions),
        skipped_no_evidence=skipped_no_evidence,
        dropped_evidence=dropped,
        skipped_adversarial=adversarial,
    )


def load_conversations(directory: Path | None = None) -> list[Conversation]:
    """Load every ``*.json`` conversation in ``directory`` (default :func:`data_dir`).

    Returns an empty list when the directory is absent or holds no conversations.
    """
    directory = directory if directory is not None else data_dir()
    if directory is None or not directory.is_dir():
        return []
    files = sorted(directory.glob("*.json"), key=lambda p: (len(p.stem), p.stem))
    return [load_conversation(path) for path in files]


def recall_at_k(ranked: Sequence[str], evidence: Iterable[str], k: int) -> float:
    """Fraction of ``evidence`` ids found among the first ``k`` of ``ranked``."""
    wanted = set(evidence)
    if not wanted:
        raise ValueError("recall is undefined for a question without evidence")
    return len(wanted.intersection(ranked[:k])) / len(wanted)


@dataclass(frozen=True, slots=True)
class RecallReport:
    """Mean recall@k over questions, overall and per category."""

    ks: tuple[int, ...]
    questions: int
    overall: dict[int, float]
    by_category: dict[int, dict[int, float]]
    category_counts: dict[int, int] = field(default_factory=dict)

    def summary(self, label: str = "") -> str:
        """One line, e.g. ``"bm25  @5 0.412 @10 0.511 | multi-hop 0.300/0.402 ..."``."""
        head = " ".join(f"@{k} {self.overall[k]:.3f}" for k in self.ks)
        cats = " ".join(
            f"{CATEGORY_NAMES[c]} " + "/".join(f"{self.by_category[c][k]:.3f}" for k in self.ks)
            for c in sorted(self.by_category)
        )
        return f"{label}  {head} | {cats}".strip()


def evaluate(
    results: Iterable[tuple[Question, Sequence[str]]],
    ks: Sequence[int] = DEFAULT_KS,
) -> RecallReport:
    """Score ``(question, ranked dia_ids)`` pairs; each question weighs the same."""
    ks = tuple(ks)
    sums: dict[int, dict[int, float]] = {}
    counts: dict[int, int] = {}
    for question, ranked in results:
        per_k = sums.setdefault(question.category, dict.fromkeys(ks, 0.0))
        for k in ks:
            per_k[k] += recall_at_k(ranked, question.evidence, k)
        counts[question.category] = counts.get(question.category, 0) + 1
    total = sum(counts.values())
    overall = {k: (sum(s[k] for s in sums.values()) / total if total else 0.0) for k in ks}
    by_category = {c: {k: sums[c][k] / counts[c] for k in ks} for c in sorted(sums)}
    return RecallReport(
        ks=ks,
        questions=total,
        overall=overall,
        by_category=by_category,
        category_counts=dict(sorted(counts.items())),
    )
