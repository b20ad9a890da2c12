"""LoCoMo-format files (session or per-turn dates) read into conversations; bad ones refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from mnemo.errors import InvalidInput
from mnemo.evaluation import Conversation, first_turns, load_conversations
from mnemo.evaluation.dataset import normalise_evidence, parse_conversations


def turn(dia_id: str, speaker: str, text: str, **extra: Any) -> dict[str, Any]:
    return {"speaker": speaker, "dia_id": dia_id, "text": text, **extra}


def locomo_sample() -> dict[str, Any]:
    """One conversation as LoCoMo's files give it (the keys at the top level)."""
    return {
        "speaker_a": "Caroline",
        "speaker_b": "Melanie",
        "session_1_date_time": "1:56 pm on 8 May, 2023",
        "session_1": [
            turn("D1:1", "Caroline", "I went to a support group yesterday."),
            turn("D1:2", "Melanie", "Look at my painting!", blip_caption="a sunrise over a lake"),
        ],
        "session_2_date_time": "10:04 am on 19 June, 2023",
        "session_2": [turn("D2:1", "Caroline", "I am applying to adoption agencies.")],
        "session_3_date_time": "9:00 am on 1 July, 2023",  # stamped, but no turns
        "qa": [
            {"question": "When did Caroline go?", "answer": "7 May", "evidence": ["D1:1"],
             "category": 2},
            {"question": "What did both do?", "answer": "x", "evidence": ["D1:1; D2:1", "D:1:2"],
             "category": 1},
            {"question": "What did Melanie paint?", "evidence": ["D1:2", "D9:9", "D"],
             "category": 4},
            {"question": "Unanswerable?", "evidence": ["D1:1"], "category": 5,
             "adversarial_answer": "no"},
            {"question": "Nothing to find", "evidence": ["D7:1"], "category": 3},
        ],
    }  # fmt: skip


def write(tmp_path: Path, data: Any, name: str = "conv.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_a_locomo_file_gives_turns_dates_and_scoreable_questions(tmp_path: Path) -> None:
    [conv] = load_conversations(write(tmp_path, locomo_sample(), "26.json"))

    assert conv.conv_id == "26"
    assert conv.speakers == ("Caroline", "Melanie")
    assert [t.dia_id for t in conv.turns] == ["D1:1", "D1:2", "D2:1"]
    assert [t.position for t in conv.turns] == [0, 1, 2]
    assert conv.turns[0].content == "Caroline: I went to a support group yesterday."
    assert conv.turns[1].created_at == datetime(2023, 5, 8, 13, 56, tzinfo=UTC)
    assert conv.turns[2].created_at == datetime(2023, 6, 19, 10, 4, tzinfo=UTC)
    assert conv.turns[1].blip_caption == "a sunrise over a lake"
    assert [(q.category, q.evidence) for q in conv.questions] == [
        ("temporal", ("D1:1",)),
        ("multi-hop", ("D1:1", "D2:1", "D1:2")),
        ("single-hop", ("D1:2",)),
    ]
    assert (conv.skipped_adversarial, conv.skipped_no_evidence) == (1, 1)
    assert conv.dropped_evidence == 3  # D9:9 and "D" name no turn; D7:1 neither


def test_the_release_shapes_conversation_key_and_lists_of_samples(tmp_path: Path) -> None:
    sample = locomo_sample()
    qa = sample.pop("qa")
    nested = {"sample_id": "conv-26", "conversation": sample, "qa": qa}
    [one] = load_conversations(write(tmp_path, nested))
    two = load_conversations(write(tmp_path, [nested, {"conversation": sample}], "all.json"))

    assert one.conv_id == "conv-26" and len(one.questions) == 3
    assert [c.conv_id for c in two] == ["conv-26", "all-2"]
    assert two[1].questions == ()


def test_turns_with_their_own_date_time_need_no_session_date(tmp_path: Path) -> None:
    data = {
        "session_1": [
            turn("S1:1", "Ana", "We start the trip today.", date_time="2024-03-01T09:15:00Z"),
            turn("S1:2", "Ben", "Great, I booked the hotel.", date_time="2024-03-01 21:40"),
        ],
        "session_2_date_time": "2024-03-05",
        "session_2": [
            turn("S2:1", "Ana", "Back home now.", date_time="March 4, 2024, 6:05 PM"),
            turn("S2:2", "Ben", "Welcome back!"),  # falls back to its session's date
        ],
        "qa": [{"question": "Who booked the hotel?", "evidence": ["S1:2"],
                "category": "inferential"}],
    }  # fmt: skip
    [conv] = load_conversations(write(tmp_path, data))

    assert [t.created_at for t in conv.turns] == [
        datetime(2024, 3, 1, 9, 15, tzinfo=UTC),
        datetime(2024, 3, 1, 21, 40, tzinfo=UTC),
        datetime(2024, 3, 4, 18, 5, tzinfo=UTC),
        datetime(2024, 3, 5, tzinfo=UTC),
    ]
    [question] = conv.questions
    assert (question.category, question.evidence) == ("inferential", ("S1:2",))


def test_raw_categories_keep_numbers_as_written(tmp_path: Path) -> None:
    [conv] = load_conversations(write(tmp_path, locomo_sample()), locomo_categories=False)
    assert [q.category for q in conv.questions] == ["2", "1", "4", "5"]
    assert conv.skipped_adversarial == 0


def test_a_directory_is_read_in_numeric_order(tmp_path: Path) -> None:
    write(tmp_path, locomo_sample(), "30.json")
    write(tmp_path, locomo_sample(), "4.json")
    assert [c.conv_id for c in load_conversations(tmp_path)] == ["4", "30"]


def test_first_turns_keeps_the_questions_whose_evidence_it_keeps(tmp_path: Path) -> None:
    [conv] = load_conversations(write(tmp_path, locomo_sample()))
    cut = first_turns(conv, 2)
    assert [t.dia_id for t in cut.turns] == ["D1:1", "D1:2"]
    assert [q.question for q in cut.questions] == [
        "When did Caroline go?",
        "What did Melanie paint?",
    ]


def test_evidence_strings_are_normalised() -> None:
    assert normalise_evidence(["D8:6; D9:17", " D 3 : 4", "D:11:26", "D", "D8:6"]) == (
        "D8:6",
        "D9:17",
        "D3:4",
        "D11:26",
    )


def sample_with(**changes: Any) -> dict[str, Any]:
    return {**locomo_sample(), **changes}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"speaker_a": "A", "qa": []}, "c: no conversation found: expected LoCoMo's"),
        ([], "c: an empty list holds no conversation"),
        ("just text", "c: no conversation found"),
        (sample_with(session_1={"not": "a list"}), "c: session_1 must be a list of turns"),
        (sample_with(session_1=["hello"]), "c: session_1 turn 1: a turn must be an object"),
        (sample_with(session_1=[{"speaker": "A", "text": "hi"}]),
         "c: session_1 turn 1: `dia_id` must be a non-empty string, got None"),
        (sample_with(session_1=[turn("D1:1", "", "hi")]), "`speaker` must be a non-empty string"),
        (sample_with(session_1=[turn("D1:1", "A", None)]), "`text` must be a string, got None"),
        (sample_with(session_1_date_time=None),
         "c: session_1 turn 1: no `date_time`, and no `session_1_date_time`"),
        (sample_with(session_1_date_time="sometime in May"),
         "c: session_1 turn 1: `session_1_date_time`: unrecognised date/time 'sometime in May'"),
        (sample_with(session_1=[turn("D1:1", "A", "hi", date_time="13/13/2023")]),
         "c: session_1 turn 1: `date_time`: '13/13/2023' is not a date, month or day first"),
        (sample_with(session_2=[turn("D1:1", "A", "again")]),
         "c: session_2 turn 1: dia_id 'D1:1' is used twice"),
        (sample_with(qa={"question": "x"}), "c: `qa` must be a list of questions"),
        (sample_with(qa=[{"evidence": ["D1:1"]}]),
         "c: qa 1: a question must be an object with a `question` string"),
    ],
)  # fmt: skip
def test_bad_documents_are_refused_saying_where_and_what(data: Any, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_conversations(data, name="c")
    assert message in str(caught.value)


def test_bad_files_are_refused(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"session_1": [', encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"broken.json: not JSON: .* at line 1"):
        load_conversations(broken)
    latin = tmp_path / "latin.json"
    latin.write_bytes(b'{"text": "caf\xe9"}')
    with pytest.raises(InvalidInput, match=r"latin\.json: not UTF-8 text"):
        load_conversations(latin)
    with pytest.raises(InvalidInput, match=r"nowhere\.json: no such file or directory"):
        load_conversations(tmp_path / "nowhere.json")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InvalidInput, match=r"empty: no \*.json file in this directory"):
        load_conversations(empty)


def test_two_conversations_with_one_id_are_refused(tmp_path: Path) -> None:
    nested = {"sample_id": "same", "conversation": locomo_sample()}
    with pytest.raises(InvalidInput, match="two conversations are called 'same'"):
        load_conversations(write(tmp_path, [nested, nested]))


def slashed_chat(*stamps: str, sample_id: str = "chat") -> dict[str, Any]:
    """A chat stamped per turn with ``stamps``, the first turn dated by its session."""
    first, *rest = stamps
    return {
        "sample_id": sample_id,
        "conversation": {
            "session_1_date_time": first,
            "session_1": [turn("D1:1", "A", "hi")]
            + [turn(f"D1:{i}", "B", "yo", date_time=s) for i, s in enumerate(rest, start=2)],
        },
        "qa": [{"question": "?", "evidence": ["D1:1"], "category": 1}],
    }


def dates(conv: Conversation) -> list[datetime]:
    return [t.created_at for t in conv.turns]


def test_slashed_dates_that_read_either_way_are_read_month_first_and_said_so() -> None:
    [conv] = parse_conversations(slashed_chat("5/8/2023", "5/8/2023, 1:56 pm", "6/1/23 09:00"),
                                 name="c")  # fmt: skip
    assert dates(conv) == [
        datetime(2023, 5, 8, tzinfo=UTC),
        datetime(2023, 5, 8, 13, 56, tzinfo=UTC),
        datetime(2023, 6, 1, 9, tzinfo=UTC),
    ]
    assert (conv.date_order, conv.date_order_assumed) == ("mdy", True)


def test_one_date_with_a_part_over_12_decides_the_whole_file() -> None:
    day_first = [slashed_chat("5/8/2023", sample_id="a"),
                 slashed_chat("6/8/2023", "13/8/2023 20:00", sample_id="b")]  # fmt: skip
    a, b = parse_conversations(day_first, name="c")
    assert dates(a) == [datetime(2023, 8, 5, tzinfo=UTC)]  # decided by b, same file
    assert dates(b) == [datetime(2023, 8, 6, tzinfo=UTC), datetime(2023, 8, 13, 20, tzinfo=UTC)]
    assert (
        (a.date_order, a.date_order_assumed)
        == (b.date_order, b.date_order_assumed)
        == (
            "dmy",
            False,
        )
    )

    [month_first] = parse_conversations(slashed_chat("5/8/2023", "5/13/2023"), name="c")
    assert dates(month_first)[0] == datetime(2023, 5, 8, tzinfo=UTC)
    assert (month_first.date_order, month_first.date_order_assumed) == ("mdy", False)

    [decided] = parse_conversations(slashed_chat("13/8/2023", "2023-08-14"), name="c")
    assert decided.date_order is None  # nothing there depends on the order


def test_each_file_of_a_directory_is_decided_on_its_own(tmp_path: Path) -> None:
    write(tmp_path, slashed_chat("5/8/2023", "13/8/2023", sample_id="a"), "1.json")
    write(tmp_path, slashed_chat("5/8/2023", sample_id="b"), "2.json")
    a, b = load_conversations(tmp_path)
    assert dates(a)[0] == datetime(2023, 8, 5, tzinfo=UTC)
    assert dates(b)[0] == datetime(2023, 5, 8, tzinfo=UTC)
    assert [(c.date_order, c.date_order_assumed) for c in (a, b)] == [("dmy", False),
                                                                     ("mdy", True)]  # fmt: skip


def test_the_order_can_be_given(tmp_path: Path) -> None:
    path = write(tmp_path, slashed_chat("5/8/2023", "13/8/2023"))
    [conv] = load_conversations(path, date_order="dmy")
    assert dates(conv)[0] == datetime(2023, 8, 5, tzinfo=UTC)
    assert (conv.date_order, conv.date_order_assumed) == ("dmy", False)
    [conv] = parse_conversations(slashed_chat("5/8/2023"), name="c", date_order="mdy")
    assert (dates(conv)[0], conv.date_order_assumed) == (datetime(2023, 5, 8, tzinfo=UTC), False)
    with pytest.raises(InvalidInput, match=r"chat: session_1 turn 2: `date_time`: "
                       r"'13/8/2023' is not a date read month first \(mdy\)"):  # fmt: skip
        load_conversations(path, date_order="mdy")
    with pytest.raises(InvalidInput, match="date order must be one of auto, mdy, dmy, got 'ymd'"):
        load_conversations(path, date_order="ymd")  # type: ignore[arg-type]


def test_dates_that_contradict_each_other_are_refused_naming_both_turns() -> None:
    mixed = [slashed_chat("5/8/2023", "13/8/2023", sample_id="a"),
             slashed_chat("8/14/2023", sample_id="b")]  # fmt: skip
    with pytest.raises(InvalidInput) as caught:
        parse_conversations(mixed, name="c")
    assert str(caught.value) == (
        "c: slashed dates in both orders: a: session_1 turn 2: `date_time` '13/8/2023' is only "
        "a date day first, b: session_1 turn 1: `session_1_date_time` '8/14/2023' only month "
        "first"
    )


def test_first_turns_keeps_how_dates_were_read() -> None:
    [conv] = parse_conversations(slashed_chat("5/8/2023", "6/8/2023"), name="c")
    cut = first_turns(conv, 1)
    assert (cut.date_order, cut.date_order_assumed) == ("mdy", True)
