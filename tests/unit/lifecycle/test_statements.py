"""Reading statements without a model: words, slots, duplicates, refinements, conflicts."""

from __future__ import annotations

import pytest

from mnemo.lifecycle.statements import (
    SimilarityRules,
    analyse,
    conflicts,
    refines,
    same_statement,
    slot_of,
)

RULES = SimilarityRules()


def test_analyse_splits_words_numbers_names_and_negation() -> None:
    statement = analyse("Caroline didn't go to the LGBTQ support group on 7 May 2023.")
    assert statement.negated
    assert {"caroline", "go", "lgbtq", "support", "group"} <= statement.words
    assert statement.numbers == {"7", "2023"}
    assert {"lgbtq", "may"} <= statement.names
    assert "the" not in statement.words


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("Alice loves hiking.", "Alice hates hiking now."),
        ("Alice lives in Paris.", "Alice moved to Berlin in April 2024."),
        ("Alice lives in Paris.", "Alice no longer lives in Paris."),
        ("Alice's favourite colour is blue.", "Alice's favourite colour is green."),
        ("Alice works at Google.", "Alice works at Microsoft."),
        ("Alice is 34 years old.", "Alice is 35 years old."),
        ("Alice wants to be called Al.", "Alice wants to be called Ally."),
        ("Alice likes coffee.", "Alice doesn't like coffee."),
        ("Alice is a fan of jazz.", "Alice is not a fan of jazz."),
        (
            "Alice wants the assistant to always answer in French.",
            "Alice wants the assistant to never answer in French.",
        ),
    ],
)
def test_a_new_value_for_a_single_valued_attribute_conflicts(old: str, new: str) -> None:
    assert conflicts(analyse(new), analyse(old), 0.9, RULES)
    assert not same_statement(analyse(new), analyse(old), 0.9, RULES)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("Alice loves hiking.", "Alice loves skiing."),  # both can be true
        ("Alice lives in Paris.", "Bob lives in Berlin."),  # someone else
        ("Alice has a dog.", "Alice has a cat."),  # not a single-valued slot
        ("Alice visited Lisbon on 4 May 2023.", "Alice visited Porto on 5 May 2023."),
    ],
)
def test_statements_that_can_both_be_true_do_not_conflict(old: str, new: str) -> None:
    assert not conflicts(analyse(new), analyse(old), 0.95, RULES)


def test_prefers_competes_only_within_one_topic() -> None:
    tea, coffee = analyse("Alice prefers tea."), analyse("Alice prefers coffee.")
    assert conflicts(coffee, tea, 0.94, RULES)
    assert not conflicts(analyse("Alice prefers window seats."), tea, 0.85, RULES)


def test_slot_values_ignore_trailing_time_words() -> None:
    assert slot_of("Alice hates hiking now.") == slot_of("Alice hates hiking these days.")
    assert slot_of("Alice adopted a puppy.") is None


@pytest.mark.parametrize(
    ("old", "new", "cosine"),
    [
        ("Alice loves hiking.", "Alice loves hiking.", 0.5),  # the same words
        ("Alice loves hiking.", "Alice really enjoys hiking.", 0.986),  # a paraphrase
        ("Alice loves hiking on weekends.", "Alice loves hiking.", 0.95),  # says less
    ],
)
def test_same_statement(old: str, new: str, cosine: float) -> None:
    assert same_statement(analyse(new), analyse(old), cosine, RULES)


@pytest.mark.parametrize(
    ("old", "new", "cosine"),
    [
        ("Alice prefers dark roast coffee.", "Alice prefers light roast coffee.", 0.973),
        ("Sam visited Lisbon on 4 May 2023.", "Sam visited Porto on 4 May 2023.", 0.971),
        ("Sam visited Lisbon on 4 May 2023.", "Sam visited Lisbon on 9 May 2023.", 0.99),
        ("Alice has a dog.", "Alice has a dog named Max.", 0.94),  # more detail
        ("Alice likes coffee.", "Alice doesn't like coffee.", 0.99),
    ],
)
def test_different_facts_are_not_duplicates_however_close(
    old: str, new: str, cosine: float
) -> None:
    assert not same_statement(analyse(new), analyse(old), cosine, RULES)


def test_refines_needs_every_old_word_and_more() -> None:
    dog, named = analyse("Alice has a dog."), analyse("Alice has a dog named Max.")
    assert refines(named, dog, 0.94, RULES)
    assert not refines(dog, named, 0.94, RULES)
    assert not refines(named, dog, 0.70, RULES)  # too far apart to be the same fact
