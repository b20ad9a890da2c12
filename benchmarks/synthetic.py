"""Synthetic memories for the scale benchmarks: varied text, real vectors, cheap to make.

Embedding a million texts with the default embedder would take about a day on
2 cores (it embeds ~15 passages/s), so the scale benchmarks use this cheaper,
documented path: a pool of distinct base sentences is embedded once with the
real model; each stored memory is a base sentence with a few extra words, and
its vector is the base sentence's vector plus small Gaussian noise,
re-normalised. The vectors therefore have the distribution of real e5 vectors,
the texts the lexical statistics of real sentences, and every query is still
embedded by the real model at search time.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

NAMES = (
    "Alice Bruno Chen Dana Elif Farid Grace Hugo Ines Jonas Keiko Liam Maya Nadia Omar Priya "
    "Quinn Rosa Sven Tara Umar Vera Wen Xavi Yara Zoe"
).split()
PLACES = (
    "Lisbon Berlin Kyoto Austin Nairobi Oslo Lima Porto Seoul Dublin Cairo Denver Hanoi Turin "
    "Quebec Zagreb"
).split()
TOPICS = {
    "food": "coffee tea sushi pasta ramen curry tacos bread cheese chocolate salad soup".split(),
    "sport": "running cycling climbing tennis swimming yoga football chess rowing skiing".split(),
    "work": "budget roadmap deadline launch review hiring report meeting invoice demo".split(),
    "home": "garden kitchen plants cat dog bike piano books sofa balcony".split(),
    "travel": "flight hotel train visa museum beach hiking trip passport ferry".split(),
    "health": "doctor allergy sleep dentist vitamins knee therapy diet gym headache".split(),
}
TEMPLATES = (
    "{name} prefers {a} over {b} most days.",
    "{name} is planning a {topic} weekend in {place} with a focus on {a}.",
    "Remind {name} about the {a} before the trip to {place}.",
    "{name} said the {a} in {place} was much better than the {b}.",
    "{name} wants to get better at {a} and maybe try {b} next month.",
    "Last week {name} talked about {a}, {b} and moving to {place}.",
    "{name} never wants {a} scheduled on Mondays.",
    "{name} bought new gear for {a} and is excited about {b}.",
)
FILLER = "really quite often lately again together usually finally maybe carefully".split()
QUESTIONS = (
    "What does {name} prefer, {a} or {b}?",
    "Where is {name} going for {a}?",
    "What should I remember about {name} and {a}?",
    "Did {name} mention anything about {place}?",
    "What does {name} think about {a}?",
)

Vectors = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Sentence:
    text: str
    base: int


def base_sentences(count: int, seed: int = 7) -> list[str]:
    """``count`` distinct base sentences."""
    rng = random.Random(seed)
    seen: dict[str, None] = {}
    while len(seen) < count:
        seen[_fill(rng, rng.choice(TEMPLATES))] = None
    return list(seen)


def memories(pool: Sequence[str], count: int, seed: int) -> Iterator[Sentence]:
    """``count`` memory texts, each a base sentence of ``pool`` with up to three extra words."""
    rng = random.Random(seed)
    for _ in range(count):
        base = rng.randrange(len(pool))
        extra = " ".join(rng.sample(FILLER, rng.randint(0, 3)))
        yield Sentence(text=f"{pool[base]} {extra}".strip(), base=base)


def questions(count: int, seed: int) -> list[str]:
    """``count`` search questions in the same vocabulary."""
    rng = random.Random(seed)
    return [_fill(rng, rng.choice(QUESTIONS)) for _ in range(count)]


def noisy(vectors: Vectors, rng: np.random.Generator, sigma: float = 0.01) -> Vectors:
    """``vectors`` plus Gaussian noise, re-normalised to unit length."""
    noisy_vectors = vectors + rng.normal(0.0, sigma, vectors.shape).astype(np.float32)
    norms = np.linalg.norm(noisy_vectors, axis=1, keepdims=True)
    return (noisy_vectors / norms).astype(np.float32)


def _fill(rng: random.Random, template: str) -> str:
    topic = rng.choice(list(TOPICS))
    a, b = rng.sample(TOPICS[topic], 2)
    return template.format(name=rng.choice(NAMES), place=rng.choice(PLACES), topic=topic, a=a, b=b)
