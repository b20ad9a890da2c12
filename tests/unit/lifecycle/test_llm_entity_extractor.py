"""Checking an LLM's entity reply, and the prompt it is sent (no server)."""

from __future__ import annotations

from datetime import UTC, datetime

from mnemo.core.entities import Relation
from mnemo.core.entity_extraction import KnownEntities, Utterance
from mnemo.lifecycle.extraction.entities import _extract_messages, extracted_from_reply

T0 = datetime(2025, 1, 1, tzinfo=UTC)
UTTERANCES = [Utterance("Mel met Bob.", "Jon", T0), Utterance("Bob lives in Oslo.", "Ann", T0)]


def test_reply_items_are_checked_and_merged_per_utterance() -> None:
    reply = {
        "entities": [
            {
                "utterance": 1,
                "name": " Melanie  ",
                "type": "Person",
                "aliases": ["Mel", ""],
                "facts": ["Melanie met Bob."],
            },
            {
                "utterance": 1,
                "name": "melanie",
                "type": "concept",
                "aliases": ["Mels"],
                "facts": ["x" * 500],
            },
            {"utterance": 2, "name": "Oslo", "type": "GPE", "aliases": [], "facts": []},
            {"utterance": 3, "name": "Nowhere", "type": "place", "aliases": [], "facts": []},
            {"utterance": 2, "name": "Zorg", "type": "alien", "aliases": [], "facts": []},
            {"utterance": 2, "name": "   ", "type": "person", "aliases": [], "facts": []},
        ],
        "relations": [
            {"utterance": 2, "subject": "Bob", "predicate": "Lives In", "object": "Oslo"},
            {"utterance": 0, "subject": "Bob", "predicate": "x", "object": "Oslo"},
            {"utterance": 2, "subject": "", "predicate": "x", "object": "Oslo"},
        ],
    }
    first, second = extracted_from_reply(reply, UTTERANCES)
    (melanie,) = first.entities
    assert (melanie.name, melanie.type, melanie.aliases) == ("Melanie", "person", ("Mel", "Mels"))
    assert melanie.facts == ("Melanie met Bob.", "x" * 400)
    assert [(e.name, e.type) for e in second.entities] == [("Oslo", "place")]
    assert second.relations == (Relation("Bob", "lives_in", "Oslo"),)
    assert first.relations == ()


def test_prompt_lists_known_names_and_numbered_utterances() -> None:
    known = KnownEntities({"Mel": "Melanie"}, frozenset({"Melanie"}), frozenset({"Oslo"}))
    system, user = _extract_messages(UTTERANCES, known)
    assert system.role == "system" and "proper names only" in system.content
    assert "- Melanie\n- Oslo\n- Mel -> Melanie" in user.content
    assert "[1] Jon: Mel met Bob.\n[2] Ann: Bob lives in Oslo." in user.content
