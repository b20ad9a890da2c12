"""The offline rules extractor: what it catches, what it must leave alone, and dates."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from mnemo.lifecycle.extraction import CandidateMemory, Extractor, RulesExtractor, Turn
from mnemo.lifecycle.extraction.dates import find_time_mention
from mnemo.lifecycle.extraction.english import third_person, third_person_singular

#: Monday 8 May 2023, 13:56 UTC — the turns' timestamp unless a test says otherwise.
NOW = datetime(2023, 5, 8, 13, 56, tzinfo=UTC)


def extract(
    text: str, *, speaker: str | None = "Alice", when: datetime = NOW
) -> list[CandidateMemory]:
    turn = Turn(id="t1", role="user", speaker=speaker, content=text, created_at=when)
    return RulesExtractor().extract_sync([turn])


def only(text: str, **kwargs: object) -> CandidateMemory:
    found = extract(text, **kwargs)  # type: ignore[arg-type]
    assert len(found) == 1, f"expected one candidate from {text!r}, got {found}"
    return found[0]


# --- positives: (sentence, kind, content) --------------------------------------------

PREFERENCES = [
    ("I love dark roast coffee.", "Alice loves dark roast coffee."),
    ("I really like hiking in the mountains!", "Alice really likes hiking in the mountains."),
    ("I prefer tea over coffee.", "Alice prefers tea over coffee."),
    ("I hate waking up early.", "Alice hates waking up early."),
    ("I can't stand loud music.", "Alice can't stand loud music."),
    ("I enjoy painting landscapes.", "Alice enjoys painting landscapes."),
    ("I don't like mushrooms.", "Alice doesn't like mushrooms."),
    ("I'm a huge fan of jazz.", "Alice is a huge fan of jazz."),
    ("I'm really into board games.", "Alice is really into board games."),
    ("My favorite color is blue.", "Alice's favorite color is blue."),
    ("Oh, I absolutely adore my cats.", "Alice absolutely adores Alice's cats."),
    (
        "I've always been passionate about veterans' rights.",
        "Alice has always been passionate about veterans' rights.",
    ),
]
FACTS = [
    ("I'm a nurse.", "Alice is a nurse."),
    ("I am an engineer at a startup.", "Alice is an engineer at a startup."),
    ("I work at Google.", "Alice works at Google."),
    ("I live in Berlin with my wife.", "Alice lives in Berlin with Alice's wife."),
    ("I'm from Sweden.", "Alice is from Sweden."),
    ("I grew up in a small town.", "Alice grew up in a small town."),
    ("I have two kids.", "Alice has two kids."),
    ("I've got a dog.", "Alice has got a dog."),
    ("I'm allergic to peanuts.", "Alice is allergic to peanuts."),
    ("I'm vegetarian.", "Alice is vegetarian."),
    ("I've been painting for 5 years.", "Alice has been painting for 5 years."),
    ("My name is Alice.", "Alice's name is Alice."),
    ("I study biology.", "Alice studies biology."),
    (
        "I'm now mentoring the younger players on my team.",
        "Alice is now mentoring the younger players on Alice's team.",
    ),
    ("I speak French and Spanish.", "Alice speaks French and Spanish."),
]
COMMITMENTS = [
    ("I will call the dentist.", "Alice will call the dentist."),
    ("I'll send you the recipe.", "Alice will send the assistant the recipe."),
    ("I'm going to start a pottery class.", "Alice is going to start a pottery class."),
    ("I'm planning to visit my parents.", "Alice is planning to visit Alice's parents."),
    ("I need to renew my passport.", "Alice needs to renew Alice's passport."),
    ("Remind me to water the plants.", "Alice wants to be reminded to water the plants."),
    ("Please remind me to call my mom.", "Alice wants to be reminded to call Alice's mom."),
    ("Gonna continue my studies.", "Alice is gonna continue Alice's studies."),
    ("I promise to finish the report.", "Alice promises to finish the report."),
]
INSTRUCTIONS = [
    ("Always answer in French.", "Alice wants the assistant to always answer in French."),
    ("Never use emojis in replies.", "Alice wants the assistant to never use emojis in replies."),
    ("Please don't use bullet points.", "Alice wants the assistant not to use bullet points."),
    (
        "Please always cite your sources.",
        "Alice wants the assistant to always cite the assistant's sources.",
    ),
    (
        "From now on, answer in metric units.",
        "Alice wants the assistant to answer in metric units from now on.",
    ),
    ("Don't mention the weather.", "Alice wants the assistant not to mention the weather."),
    ("I'd like you to keep answers short.", "Alice wants the assistant to keep answers short."),
    ("Call me Al.", "Alice wants to be called Al."),
]
ENTITIES = [
    ("My dog is named Max.", "Alice's dog is named Max."),
    ("My sister's name is Lisa.", "Alice's sister is named Lisa."),
    ("I went hiking with my friend Jen.", "Alice's friend is named Jen."),
    ("We adopted a cat, my cat is called Luna.", "Alice's cat is named Luna."),
]


@pytest.mark.parametrize(("text", "content"), PREFERENCES)
def test_preferences(text: str, content: str) -> None:
    found = only(text)
    assert (found.kind, found.content) == ("preference", content)


@pytest.mark.parametrize(("text", "content"), FACTS)
def test_facts(text: str, content: str) -> None:
    found = only(text)
    assert (found.kind, found.content) == ("fact", content)


@pytest.mark.parametrize(("text", "content"), COMMITMENTS)
def test_commitments(text: str, content: str) -> None:
    found = only(text)
    assert (found.kind, found.content) == ("commitment", content)


@pytest.mark.parametrize(("text", "content"), INSTRUCTIONS)
def test_instructions(text: str, content: str) -> None:
    found = only(text)
    assert (found.kind, found.content) == ("instruction", content)


@pytest.mark.parametrize(("text", "content"), ENTITIES)
def test_entities(text: str, content: str) -> None:
    entities = [c for c in extract(text) if c.kind == "entity"]
    assert [c.content for c in entities] == [content]


# --- dated events: (sentence, content, event_date) --------------------------------------

EVENTS = [
    ("Yesterday I went hiking.", "Alice went hiking on 7 May 2023.", date(2023, 5, 7)),
    (
        "I went to a support group yesterday and it was powerful.",
        "Alice went to a support group on 7 May 2023 and it was powerful.",
        date(2023, 5, 7),
    ),
    (
        "Last week, we went camping.",
        "Alice and others went camping in the week of 1 May 2023.",
        date(2023, 5, 1),
    ),
    (
        "The day before yesterday I ran a marathon.",
        "Alice ran a marathon on 6 May 2023.",
        date(2023, 5, 6),
    ),
    ("On May 1 I started a new job.", "Alice started a new job on 1 May 2023.", date(2023, 5, 1)),
    ("I visited Rome on 3 March.", "Alice visited Rome on 3 March 2023.", date(2023, 3, 3)),
    (
        "I adopted a puppy two weeks ago.",
        "Alice adopted a puppy around 24 April 2023.",
        date(2023, 4, 24),
    ),
    (
        "I finished my thesis last month.",
        "Alice finished Alice's thesis in April 2023.",
        date(2023, 4, 1),
    ),
    ("Last year I moved to Lisbon.", "Alice moved to Lisbon in 2022.", date(2022, 1, 1)),
    (
        "Last weekend we painted the fence.",
        "Alice and others painted the fence on the weekend of 6 May 2023.",
        date(2023, 5, 6),
    ),
    (
        "I saw a great concert last Friday.",
        "Alice saw a great concert on 5 May 2023.",
        date(2023, 5, 5),
    ),
    (
        "Last night I cooked lasagna for my family.",
        "Alice cooked lasagna for Alice's family on 7 May 2023.",
        date(2023, 5, 7),
    ),
    ("Last summer I went to Japan.", "Alice went to Japan in summer 2022.", date(2022, 6, 1)),
    ("I got married in 2019.", "Alice got married in 2019.", date(2019, 1, 1)),
]


@pytest.mark.parametrize(("text", "content", "day"), EVENTS)
def test_dated_events(text: str, content: str, day: date) -> None:
    found = only(text)
    assert (found.kind, found.content, found.event_date) == ("event", content, day)


FUTURE = [
    ("I'll call the bank tomorrow.", "Alice will call the bank on 9 May 2023.", date(2023, 5, 9)),
    (
        "I'm going to the beach next week.",
        "Alice is going to the beach in the week of 15 May 2023.",
        date(2023, 5, 15),
    ),
    (
        "Remind me to call my mom on Friday.",
        "Alice wants to be reminded to call Alice's mom on 12 May 2023.",
        date(2023, 5, 12),
    ),
    (
        "Next month I'm going to run a half marathon.",
        "Alice is going to run a half marathon in June 2023.",
        date(2023, 6, 1),
    ),
]


@pytest.mark.parametrize(("text", "content", "day"), FUTURE)
def test_commitments_get_absolute_dates(text: str, content: str, day: date) -> None:
    found = only(text)
    assert (found.kind, found.content, found.event_date) == ("commitment", content, day)


# --- negatives: nothing should come out -------------------------------------------------

NOTHING = [
    # questions
    "Do you like coffee?",
    "What do you love most about painting?",
    "Are you going to the party?",
    "I love hiking, do you?",
    # hypotheticals and wishes
    "If I had money I would buy a boat.",
    "I'd love to visit Japan someday.",
    "Maybe I'll learn to play the guitar.",
    "I wish I lived by the sea.",
    "I would never eat that.",
    "I could work at Google one day.",
    # cancelled plans and past states
    "I was going to go to the gym.",
    "I wanted to join the club but it was full.",
    "I used to live in Paris.",
    "I don't work there anymore.",
    "I no longer eat meat.",
    # negated plans
    "I won't go to the party.",
    "I'm not going to apply.",
    "I will not be there.",
    # reactions, not preferences
    "I love that!",
    "I love your painting!",
    "I like how you think.",
    "I love it when you do that.",
    "Wow, I really like this photo.",
    "Yeah, I love to.",
    # filler "commitments"
    "I'll let you know.",
    "I will!",
    "I'll keep you posted.",
    "I'll think about it.",
    "I'm gonna make it happen.",
    "We'll get through this.",
    "I'll keep that in mind.",
    "I'm gonna make this work.",
    # moods, not facts
    "I'm a bit tired.",
    "I'm a little nervous about it.",
    "I'm so happy for you!",
    # motivational imperatives, not instructions
    "Never give up!",
    "Always be yourself.",
    "Don't worry about it.",
    "Keep up the great work!",
    # vague past
    "I did it yesterday.",
    "We had a great time last weekend.",
    # no first person
    "The weather is nice today.",
    "That sounds amazing.",
    "Hey Mel! Good to see you!",
    "",
]


@pytest.mark.parametrize("text", NOTHING)
def test_no_candidate(text: str) -> None:
    assert extract(text) == []


# --- behaviour ------------------------------------------------------------------------


def test_a_cancelled_plan_is_dropped_but_what_happened_is_kept() -> None:
    found = extract("I was going to go to the party, but I got sick.")
    assert [(c.kind, c.content) for c in found] == [("event", "Alice got sick.")]


def test_unknown_speaker_is_the_user() -> None:
    assert only("I love green tea.", speaker=None).content == "The user loves green tea."


def test_you_is_the_other_speaker() -> None:
    turns = [
        Turn(id="a", role="user", speaker="Bob", content="How was the trip?", created_at=NOW),
        Turn(
            id="b",
            role="user",
            speaker="Alice",
            content="I'll send you the photos.",
            created_at=NOW,
        ),
    ]
    [found] = RulesExtractor().extract_sync(turns)
    assert found.content == "Alice will send Bob the photos."
    assert found.source_turn_ids == ("b",)


def test_assistant_turns_are_ignored_by_default() -> None:
    turns = [
        Turn(id="u", role="user", content="I love sushi.", created_at=NOW),
        Turn(
            id="a",
            role="assistant",
            content="I love helping you! I'm an AI assistant.",
            created_at=NOW,
        ),
    ]
    found = RulesExtractor().extract_sync(turns)
    assert [c.content for c in found] == ["The user loves sushi."]


def test_several_clauses_give_several_candidates() -> None:
    found = extract("Thanks, Mel! I'm a teacher and I live in Boston. I love jazz.")
    assert [(c.kind, c.content) for c in found] == [
        ("fact", "Alice is a teacher."),
        ("fact", "Alice lives in Boston."),
        ("preference", "Alice loves jazz."),
    ]


def test_repeats_are_merged_with_all_their_sources() -> None:
    turns = [
        Turn(id=f"t{i}", role="user", speaker="Alice", content="I love jazz.", created_at=NOW)
        for i in range(3)
    ]
    [found] = RulesExtractor().extract_sync(turns)
    assert found.source_turn_ids == ("t0", "t1", "t2")


def test_hedges_lower_confidence() -> None:
    plain = only("I'll take a pottery class.")
    hedged = only("I think I'll take a pottery class.")
    assert hedged.content == plain.content
    assert hedged.confidence < plain.confidence


def test_scores_are_in_range_and_instructions_matter_most() -> None:
    found = extract("Always answer in French. I love jazz. Yesterday I went hiking.")
    assert all(0 <= c.confidence <= 1 and 0 <= c.importance <= 1 for c in found)
    by_kind = {c.kind: c.importance for c in found}
    assert by_kind["instruction"] == max(by_kind.values())


def test_kinds_can_be_restricted() -> None:
    turn = Turn(id="t", role="user", content="I love jazz. I'm a nurse.", created_at=NOW)
    found = RulesExtractor(kinds={"fact"}).extract_sync([turn])
    assert [c.kind for c in found] == ["fact"]


def test_undated_events_can_be_turned_off() -> None:
    turn = Turn(id="t", role="user", content="I adopted a puppy from the shelter.", created_at=NOW)
    assert [c.kind for c in RulesExtractor().extract_sync([turn])] == ["event"]
    assert RulesExtractor(undated_events=False).extract_sync([turn]) == []


async def test_it_is_an_extractor() -> None:
    extractor = RulesExtractor()
    assert isinstance(extractor, Extractor)
    turn = Turn(id="t", role="user", content="I love jazz.", created_at=NOW)
    extraction = await extractor.extract([turn], context=["ignored"])
    assert not extraction.truncated
    assert [c.content for c in extraction.candidates] == ["The user loves jazz."]


def test_curly_apostrophes_and_emoji_are_handled() -> None:
    assert only("I\u2019m a nurse \U0001f600").content == "Alice is a nurse."


# --- dates and grammar on their own ---------------------------------------------------

TODAY = date(2023, 5, 8)  # a Monday


@pytest.mark.parametrize(
    ("text", "future", "day", "phrase"),
    [
        ("yesterday", False, date(2023, 5, 7), "on 7 May 2023"),
        ("earlier today", False, date(2023, 5, 8), "on 8 May 2023"),
        ("tomorrow", True, date(2023, 5, 9), "on 9 May 2023"),
        ("3 days ago", False, date(2023, 5, 5), "on 5 May 2023"),
        ("a few days ago", False, date(2023, 5, 5), "around 5 May 2023"),
        ("a couple of weeks ago", False, date(2023, 4, 24), "around 24 April 2023"),
        ("two months ago", False, date(2023, 3, 1), "in March 2023"),
        ("last week", False, date(2023, 5, 1), "in the week of 1 May 2023"),
        ("next week", True, date(2023, 5, 15), "in the week of 15 May 2023"),
        ("last weekend", False, date(2023, 5, 6), "on the weekend of 6 May 2023"),
        ("this weekend", True, date(2023, 5, 13), "on the weekend of 13 May 2023"),
        ("this weekend", False, date(2023, 5, 6), "on the weekend of 6 May 2023"),
        ("last Monday", False, date(2023, 5, 1), "on 1 May 2023"),
        ("last Fri", False, date(2023, 5, 5), "on 5 May 2023"),
        ("on Friday", False, date(2023, 5, 5), "on 5 May 2023"),
        ("on Friday", True, date(2023, 5, 12), "on 12 May 2023"),
        ("next Monday", True, date(2023, 5, 15), "on 15 May 2023"),
        ("on May 7", False, date(2023, 5, 7), "on 7 May 2023"),
        ("on May 20", False, date(2022, 5, 20), "on 20 May 2022"),  # later this year: so last year
        ("on May 20", True, date(2023, 5, 20), "on 20 May 2023"),
        ("on the 3rd of March", False, date(2023, 3, 3), "on 3 March 2023"),
        ("Dec 25, 2021", False, date(2021, 12, 25), "on 25 December 2021"),
        ("in June", False, date(2022, 6, 1), "in June 2022"),
        ("in June", True, date(2023, 6, 1), "in June 2023"),
        ("last month", False, date(2023, 4, 1), "in April 2023"),
        ("last year", False, date(2022, 1, 1), "in 2022"),
        ("in 2019", False, date(2019, 1, 1), "in 2019"),
        ("last summer", False, date(2022, 6, 1), "in summer 2022"),
        ("in two weeks", True, date(2023, 5, 22), "around 22 May 2023"),
    ],
)
def test_time_mentions(text: str, future: bool, day: date, phrase: str) -> None:
    mention = find_time_mention(f"I did it {text} really", TODAY, future=future)
    assert mention is not None
    assert (mention.day, mention.phrase) == (day, phrase)


def test_relative_dates_cross_year_and_month_ends() -> None:
    new_year = date(2024, 1, 1)
    assert find_time_mention("yesterday", new_year).day == date(2023, 12, 31)  # type: ignore[union-attr]
    assert find_time_mention("last month", new_year).phrase == "in December 2023"  # type: ignore[union-attr]
    assert find_time_mention("last week", new_year).day == date(2023, 12, 25)  # type: ignore[union-attr]


def test_turn_timestamp_anchors_the_date() -> None:
    found = only("Yesterday I went hiking.", when=datetime(2020, 3, 1, 9, 0, tzinfo=UTC))
    assert found.event_date == date(2020, 2, 29)  # a leap year
    assert found.content == "Alice went hiking on 29 February 2020."


@pytest.mark.parametrize(
    "text",
    [
        "I may 5 times",
        "we went on sun holidays",
        "the sat nav",
        "nothing here",
        "I mar the table",
        "we talked about last week's game",
    ],
)
def test_words_that_are_not_dates(text: str) -> None:
    assert find_time_mention(text, TODAY) is None


@pytest.mark.parametrize(
    ("verb", "expected"),
    [
        ("love", "loves"),
        ("go", "goes"),
        ("watch", "watches"),
        ("study", "studies"),
        ("play", "plays"),
        ("have", "has"),
        ("am", "is"),
        ("don't", "doesn't"),
        ("will", "will"),
        ("went", "went"),
        ("finished", "finished"),
        ("fix", "fixes"),
    ],
)
def test_third_person_singular(verb: str, expected: str) -> None:
    assert third_person_singular(verb) == expected


def test_third_person_rewrites_every_person() -> None:
    text = "I told you my plan, and we're taking our kids with us"
    assert third_person(text, "Alice", "Bob") == (
        "Alice told Bob Alice's plan, and Alice and others are taking Alice's kids "
        "with Alice and others"
    )


@pytest.mark.parametrize(
    ("verb", "expected"),
    [
        ("do", "does"),
        ("be", "is"),
        ("are", "is"),
        ("haven't", "hasn't"),
        ("try", "tries"),
        ("worry", "worries"),
        ("enjoy", "enjoys"),
        ("miss", "misses"),
        ("wash", "washes"),
        ("teach", "teaches"),
        ("relax", "relaxes"),
        ("veto", "vetoes"),
        ("can", "can"),
        ("can't", "can't"),
        ("won't", "won't"),
        ("should", "should"),
        ("need", "needs"),
        ("adopted", "adopted"),
    ],
)
def test_third_person_singular_knows_the_patterns(verb: str, expected: str) -> None:
    assert third_person_singular(verb) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # every verb coordinated with the first one is conjugated
        (
            "I love espresso and prefer dark roast coffee",
            "The user loves espresso and prefers dark roast coffee",
        ),
        ("I go to the gym and do yoga", "The user goes to the gym and does yoga"),
        ("I watch movies and go hiking", "The user watches movies and goes hiking"),
        ("I love my job and have two kids", "The user loves the user's job and has two kids"),
        (
            "I love hiking, play guitar and study math",
            "The user loves hiking, plays guitar and studies math",
        ),
        ("I fix bikes and teach kids", "The user fixes bikes and teaches kids"),
        ("I worry and try to relax", "The user worries and tries to relax"),
        ("I love it, hate it and miss it", "The user loves it, hates it and misses it"),
        (
            "I really love jazz and also play the piano",
            "The user really loves jazz and also plays the piano",
        ),
        ("I'm a nurse and love my job", "The user is a nurse and loves the user's job"),
        ("I moved to Paris and love it", "The user moved to Paris and loves it"),
        ("I do love tea and have two cups a day", "The user does love tea and has two cups a day"),
        # negations
        (
            "I don't eat meat and don't drink milk",
            "The user doesn't eat meat and doesn't drink milk",
        ),
        ("I don't smoke or drink", "The user doesn't smoke or drink"),
        ("I can't swim and don't dance", "The user can't swim and doesn't dance"),
        # what stays bare: after a modal, inside an infinitive, past forms
        ("I can swim and dance", "The user can swim and dance"),
        ("I'll call and ask", "The user will call and ask"),
        ("I work at Google and can code", "The user works at Google and can code"),
        ("I want to travel and see the world", "The user wants to travel and see the world"),
        ("I love to cook and bake bread", "The user loves to cook and bake bread"),
        ("I went home and read a book", "The user went home and read a book"),
        # what is not a coordinated verb
        ("I love cats and dogs and fish", "The user loves cats and dogs and fish"),
        ("I like music and dance", "The user likes music and dance"),
        (
            "I think they love cats and prefer dogs",
            "The user thinks they love cats and prefer dogs",
        ),
        (
            "I have a dog that loves walks and hates cats",
            "The user has a dog that loves walks and hates cats",
        ),
    ],
)
def test_coordinated_verbs_are_conjugated(text: str, expected: str) -> None:
    assert third_person(text, "the user") == expected


def test_the_seed_preference_reads_as_a_sentence() -> None:
    turn = Turn(
        id="t1",
        role="user",
        speaker=None,
        content="I love espresso and prefer dark roast coffee",
        created_at=NOW,
    )
    (memory,) = RulesExtractor().extract_sync([turn])
    assert memory.kind == "preference"
    assert memory.content == "The user loves espresso and prefers dark roast coffee."
