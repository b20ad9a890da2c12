"""Entity memory on the LoCoMo development conversations, offline extractor.

    python benchmarks/locomo_entities.py [--data-dir DIR] [--embed]

Every conversation is one user; each session is observed in one call
(``m.entities.observe(turns, ...)``, each turn with its speaker and the session's
date), in a throw-away embedded PostgreSQL. Reported per conversation: distinct
entities, by type, relations, the most mentioned; then what the kind adds to the
extractor's own measurement (docs/research/entities-offline.md):

- **resolution**: of the hand-labelled gold names of the sample turns
  (tests/data/locomo_entities_sample.json), how many ``get(name)`` finds after
  the whole conversation was observed, and how many of those are a different
  spelling merged into another entity;
- **possible missed merges**: pairs of entities of one conversation where one
  name is a word-prefix of the other ("George R" / "George R. R. Martin") or a
  short form of it ("Mel" / "Melanie");
- **possible false merges**: keys the extractor typed differently across
  mentions (one merged entity, two readings), listed for a hand check.

``--embed`` also embeds entities (slower; does not change what is merged).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from locomo_data import load_conversations

from mnemo import AsyncMemory, MnemoConfig, NotFound
from mnemo.config import EntityConfig
from mnemo.core.entities import extract_entities
from mnemo.core.entity_profile import canonical_key
from mnemo.evaluation import Conversation
from mnemo.providers.embedders.e5 import E5Embedder

SAMPLE = Path(__file__).resolve().parents[1] / "tests" / "data" / "locomo_entities_sample.json"


async def observe_conversation(memory: AsyncMemory, conv: Conversation) -> tuple[int, float]:
    """Observe every session of ``conv``; (observe calls, seconds)."""
    sessions: dict[int, list[Any]] = defaultdict(list)
    for turn in conv.turns:
        sessions[turn.session].append(turn)
    started = time.perf_counter()
    for number, turns in sorted(sessions.items()):
        messages = [
            {"content": t.text, "speaker": t.speaker, "created_at": t.created_at}
            for t in turns
            if t.text.strip()
        ]
        await memory.entities.observe(messages, user_id=conv.conv_id, session_id=f"s{number}")
    return len(sessions), time.perf_counter() - started


async def conversation_report(memory: AsyncMemory, conv: Conversation) -> dict[str, Any]:
    entities = await memory.entities.list(user_id=conv.conv_id, limit=1000)
    analytics = await memory.entities.get_entity_analytics(conv.conv_id, top=8)
    speakers = set(conv.speakers)
    others = [e for e in entities if e.name not in speakers]
    return {
        "conversation": conv.conv_id,
        "turns": len(conv.turns),
        "entities": len(entities),
        "non_speaker_entities": len(others),
        "by_type": analytics.by_type,
        "relations": analytics.total_relations,
        "mentions": analytics.total_mentions,
        "top": [(e.name, e.type, e.mention_count) for e in analytics.top_entities],
        "top_non_speakers": [
            (e.name, e.type, e.mention_count)
            for e in sorted(others, key=lambda e: -e.mention_count)[:6]
        ],
        "aliases": {e.name: e.aliases for e in entities if e.aliases},
        "missed_merges": missed_merges([e.name for e in entities]),
        "example": next(
            ((e.name, e.description) for e in sorted(others, key=lambda e: -e.mention_count)), None
        ),
    }


def missed_merges(names: list[str]) -> list[tuple[str, str]]:
    """Pairs (short, long) where ``short`` is a word-prefix or a short form of ``long``."""
    pairs = []
    for short in names:
        for long in names:
            if short == long or len(short) < 3:
                continue
            s, lo = short.casefold(), long.casefold()
            word_prefix = lo.startswith(s + " ")
            short_form = " " not in s and " " not in lo and lo.startswith(s) and len(lo) > len(s)
            if word_prefix or short_form:
                pairs.append((short, long))
    return pairs


def type_conflicts(conv: Conversation) -> dict[str, Counter[str]]:
    """Keys the extractor typed differently across the conversation's mentions."""
    people = list(conv.speakers)
    seen: dict[str, Counter[str]] = defaultdict(Counter)
    for turn in conv.turns:
        found = extract_entities(turn.text, speaker=turn.speaker, known_people=people)
        for mention in found.mentions:
            seen[canonical_key(mention.name)][mention.type] += 1
    return {key: types for key, types in seen.items() if len(types) > 1}


async def resolution(memory: AsyncMemory, conversations: list[Conversation]) -> dict[str, Any]:
    """How many hand-labelled gold names ``get`` finds, and how many via another spelling."""
    by_id = {c.conv_id: c for c in conversations}
    sample = json.loads(SAMPLE.read_text())
    found = missing = renamed = 0
    missing_names: list[str] = []
    for split in ("dev", "test"):
        for row in sample[split]:
            if row["conversation"] not in by_id:
                continue
            for gold in row["entities"]:
                try:
                    entity = await memory.entities.get(gold["name"], user_id=row["conversation"])
                except NotFound:
                    missing += 1
                    missing_names.append(gold["name"])
                    continue
                found += 1
                renamed += canonical_key(entity.name) != canonical_key(gold["name"])
    return {"found": found, "missing": missing, "renamed": renamed, "missing_names": missing_names}


async def run(data_dir: Path | None, embed: bool) -> int:
    conversations = load_conversations(data_dir)
    if not conversations:
        print("LoCoMo data not found (set MNEMO_LOCOMO_DIR)")
        return 1
    with tempfile.TemporaryDirectory(prefix="mnemo-entities-") as tmp:
        config = MnemoConfig(
            data_dir=Path(tmp), embedder=E5Embedder(), entities=EntityConfig(embed=embed)
        )
        async with AsyncMemory(config) as memory:
            reports, calls, seconds = [], 0, 0.0
            for conv in conversations:
                n, took = await observe_conversation(memory, conv)
                calls, seconds = calls + n, seconds + took
                reports.append(await conversation_report(memory, conv))
            resolved = await resolution(memory, conversations)
    turns = sum(len(c.turns) for c in conversations)
    print(
        f"observed {turns} turns in {calls} calls: {seconds:.1f} s, {turns / seconds:.0f} turns/s"
    )
    for r in reports:
        print(json.dumps(r, ensure_ascii=False))
    print("resolution of labelled gold names:", json.dumps(resolved, ensure_ascii=False))
    for conv in conversations:
        conflicts = type_conflicts(conv)
        shown = {
            k: dict(v) for k, v in sorted(conflicts.items(), key=lambda kv: -sum(kv[1].values()))
        }
        print(f"type conflicts {conv.conv_id}: {len(conflicts)} {json.dumps(shown)[:600]}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--embed", action="store_true", help="also embed entities")
    args = parser.parse_args()
    return asyncio.run(run(args.data_dir, args.embed))


if __name__ == "__main__":
    raise SystemExit(main())
