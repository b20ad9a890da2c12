"""The table of rules the offline extractor tries, in order, on each clause.

Each :class:`Rule` pairs a kind with an anchored pattern and a renderer that
turns the match into third-person content (or refuses it, returning ``None``).
Word lists that keep precision up — reactions that are not preferences ("I love
that!"), filler that is not a plan ("I'll keep you posted"), vague objects
("I did it") — live here with the patterns they guard.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from mnemo.lifecycle.extraction.candidates import CandidateKind
from mnemo.lifecycle.extraction.clauses import Clause
from mnemo.lifecycle.extraction.english import third_person

__all__ = [
    "EVENT_SUBJECT",
    "NOT_EVENTS",
    "PERFECT_EVENT",
    "RELATIONS",
    "RULES",
    "Rule",
    "Voice",
    "is_vague",
    "rx",
]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


@dataclass(frozen=True, slots=True)
class Voice:
    """Who speaks, to whom, and on which day."""

    speaker: str
    addressee: str
    today: date


Render = Callable[[re.Match[str], Clause, Voice], str | None]


@dataclass(frozen=True, slots=True)
class Rule:
    kind: CandidateKind
    pattern: re.Pattern[str]
    confidence: float
    render: Render


def rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def _whole(match: re.Match[str], clause: Clause, voice: Voice) -> str | None:
    """The clause itself, in the third person."""
    return third_person(clause.text, voice.speaker, voice.addressee)


def _wants(prefix: str = "", suffix: str = "") -> Render:
    """'<speaker> wants <addressee> to <prefix><body><suffix>', for instructions."""

    def render(match: re.Match[str], clause: Clause, voice: Voice) -> str | None:
        body = third_person(match["body"], voice.speaker, voice.addressee)
        body = body[:1].lower() + body[1:]
        if re.match(r"(?:I|I'm|we)\b", match["body"]):  # "from now on I will ..." is no instruction
            return None
        return f"{voice.speaker} wants {voice.addressee} {prefix}{body}{suffix}"

    return render


def _reminder(match: re.Match[str], clause: Clause, voice: Voice) -> str | None:
    body = third_person(match["body"], voice.speaker, voice.addressee)
    return f"{voice.speaker} wants to be reminded to {body[:1].lower()}{body[1:]}"


def _called(match: re.Match[str], clause: Clause, voice: Voice) -> str | None:
    return f"{voice.speaker} wants to be called {match['name']}"


def _object_is_real(group: str, render: Render = _whole) -> Render:
    """Refuse reactions ("I love that!", "I like your photo") that name no real object."""

    def check(match: re.Match[str], clause: Clause, voice: Voice) -> str | None:
        obj = match[group]
        if _REACTION.match(obj) or is_vague(obj) or len(obj.split()) > 25:
            return None
        return render(match, clause, voice)

    return check


def _object_is_concrete(group: str, render: Render = _whole) -> Render:
    """Refuse clauses whose object says nothing ("I did it", "had a great time")."""

    def check(match: re.Match[str], clause: Clause, voice: Voice) -> str | None:
        return None if is_vague(match[group]) else render(match, clause, voice)

    return check


_VAGUE_WORDS = _words(
    "it this that these those them something anything stuff thing things one ones lot ton bit "
    "so much too well there here out up back again yet already a an the to of in on at for "
    "with and really just all pic pics photo photos picture time times great good fun blast "
    "nice day some ya you me us my our your it's that's share news"
)


def is_vague(text: str) -> bool:
    words = re.findall(r"[a-z']+", text.lower())
    return not any(len(word) >= 3 and word not in _VAGUE_WORDS for word in words)


_REACTION = rx(
    r"(?:that|this|it|those|these|them|you|your|yours|how|what|when|where|the way|hearing|"
    r"seeing|reading about|to hear|to see|the (?:photo|pic|picture|idea|sound|thought|vibe)|"
    r"so much|too)\b|\W*$"
)
_ASSISTANT_VERBS = (
    r"answer|reply|respond|write|use|call|address|format|include|cite|show|explain|tell|ask|"
    r"suggest|recommend|speak|talk|send|add|start|end|summari[sz]e|translate|refer|assume|"
    r"list|put|mention|greet|provide|quote|give me|keep (?:it|answers|responses|replies)"
)
_ADVERB = (
    r"(?:(?:really|absolutely|totally|just|also|truly|genuinely|still|definitely|do|kinda|"
    r"kind of|sort of|especially|actually|honestly|personally|seriously|pretty much)\s+)*"
)
_NOT_A_PLAN = (
    r"(?!(?:not|never|try|see|think|do (?:that|it|so)|keep (?:you|that|it|this|in)|let you|"
    r"let (?:\w+ )?know|take (?:that|it|your)|remember (?:that|this|it)|check (?:it|that|them) out|"
    r"be (?:there|fine|ok|okay|good)|talk(?: to you)? (?:soon|later)|see you|catch you|"
    r"definitely|for sure|bet|have to say|have to admit|need to say|say|admit|"
    r"give it a (?:try|shot)|"
    r"keep (?:ya|u|going|pushing|working|trying|fighting|plugging|at it|it up|doing|on|moving|up|"
    r"an eye|(?:my|our) fingers)|make it(?: happen)?|get through|be sure|do (?:my|our|your) best|"
    r"never give up|stay (?:positive|strong|tuned|optimistic|focused)|figure (?:it|things) out|"
    r"reach out|start thinking|think about|have fun|enjoy|make (?:this|it|that) work|"
    r"have to (?:check|see|try)"
    r")\b)"
)
RELATIONS = (
    r"dog|cat|puppy|kitten|pet|horse|son|daughter|husband|wife|partner|boyfriend|girlfriend|"
    r"fianc[eé]e?|brother|sister|mom|mother|dad|father|friend|best friend|boss|coworker|"
    r"colleague|cousin|aunt|uncle|grandma|grandmother|grandpa|grandfather|niece|nephew|kid|"
    r"baby|roommate|neighbou?r|therapist|doctor|teacher|coach|bird|fish|rabbit|hamster|turtle"
)

RULES: tuple[Rule, ...] = (
    # instructions
    Rule("instruction", rx(r"^(?:please\s+)?call me (?P<name>[A-Z][\w'-]+)$"), 0.85, _called),
    Rule(
        "instruction",
        rx(
            r"^(?:please\s+)?(?:from now on|going forward|moving forward|"
            r"in (?:the )?future|henceforth),?\s+(?:please\s+)?(?P<body>.+)$"
        ),
        0.85,
        _wants("to ", " from now on"),
    ),
    Rule("instruction", rx(r"^please\s+(?:don't|do not)\s+(?P<body>.+)$"), 0.8, _wants("not to ")),
    Rule(
        "instruction",
        rx(r"^please\s+(?P<body>(?:always|never|stop|avoid|make sure|remember to)\b.+)$"),
        0.8,
        _wants("to "),
    ),
    Rule(
        "instruction",
        rx(rf"^(?P<body>(?:always|never)\s+(?:{_ASSISTANT_VERBS})\b.+)$"),
        0.75,
        _wants("to "),
    ),
    Rule(
        "instruction",
        rx(rf"^(?:don't|do not)\s+(?:ever\s+)?(?P<body>(?:{_ASSISTANT_VERBS})\b.+)$"),
        0.7,
        _wants("not to "),
    ),
    Rule(
        "instruction",
        rx(r"^I(?:'d| would)? (?:like|prefer|want|need) you to\s+(?P<body>.+)$"),
        0.8,
        _wants("to "),
    ),
    # commitments
    Rule(
        "commitment", rx(r"^(?:please\s+)?remind me (?:to|about)\s+(?P<body>.+)$"), 0.85, _reminder
    ),
    Rule(
        "commitment", rx(rf"^(?:I|we)(?:'ll| will| shall)\s+{_NOT_A_PLAN}\w+.*\s\w+"), 0.7, _whole
    ),
    Rule(
        "commitment",
        rx(
            rf"^(?:I'm|I am|we're|we are)\s+{_ADVERB}(?:going to|gonna|planning "
            rf"(?:to|on)|about to|aiming to|intending to|set to|committed to)\s+{_NOT_A_PLAN}\w+"
        ),
        0.7,
        _whole,
    ),
    Rule(
        "commitment",
        rx(
            rf"^(?:I|we)\s+{_ADVERB}(?:plan|intend|promise|aim|have decided|decided|"
            rf"have to|need to|have got to|'ve got to|got to)\s+(?:to\s+)?{_NOT_A_PLAN}\w+.*\s\w+"
        ),
        0.65,
        _whole,
    ),
    Rule(
        "commitment",
        rx(rf"^(?:I'm|I am|we're|we are)\s+{_ADVERB}hoping to\s+{_NOT_A_PLAN}\w+"),
        0.5,
        _whole,
    ),
    # preferences
    Rule(
        "preference",
        rx(
            rf"^(?:I|we)\s+{_ADVERB}(?:love|like|enjoy|adore|prefer|hate|dislike|"
            r"detest|can't stand|cannot stand|can't get enough of)\s+(?P<object>.+)$"
        ),
        0.75,
        _object_is_real("object"),
    ),
    Rule(
        "preference",
        rx(
            rf"^(?:I'm|I am|we're|we are|I've\s+(?:always\s+)?been|I have\s+"
            rf"(?:always\s+)?been)\s+{_ADVERB}(?:(?:a )?(?:big |huge |massive )?"
            r"fan of|into|obsessed with|passionate about|crazy about|fond of|not a fan of)\s+"
            r"(?P<object>.+)$"
        ),
        0.75,
        _object_is_real("object"),
    ),
    Rule(
        "preference",
        rx(
            rf"^(?:I|we)\s+{_ADVERB}(?:don't|do not)\s+(?:really\s+)?(?:like|enjoy|"
            r"care for|eat|drink)\s+(?P<object>.+)$"
        ),
        0.7,
        _object_is_real("object"),
    ),
    Rule(
        "preference",
        rx(
            r"^my (?:absolute |all-time |personal )?favou?rite\s+[\w\s-]{2,40}?\s+"
            r"(?:is|are|has to be)\s+(?P<object>.+)$"
        ),
        0.8,
        _object_is_real("object"),
    ),
    # facts
    Rule(
        "fact",
        rx(
            rf"^I(?:'m| am)\s+{_ADVERB}(?:now\s+|currently\s+|originally\s+)?(?:a|an)\s+"
            r"(?!(?:bit|little|lot|fan|big fan|huge fan|sucker|mess|wreck|part of it)\b)\w+"
        ),
        0.8,
        _whole,
    ),
    Rule(
        "fact",
        rx(
            rf"^I(?:'m| am)\s+{_ADVERB}(?:now\s+|currently\s+|originally\s+)?(?:from|based "
            r"in|married|single|divorced|engaged|pregnant|retired|allergic to|vegan|vegetarian|"
            r"left-handed|\d+ years old|studying|majoring in|working (?:at|as|for|on|in)|learning|"
            r"training for|taking (?:a |an )?(?:class|course|lessons)|in a relationship|"
            r"a member of|"
            r"part of|living in|moving to|raising|volunteering)\b"
        ),
        0.75,
        _whole,
    ),
    Rule(
        "fact",
        rx(
            rf"^I\s+{_ADVERB}(?:now\s+|currently\s+)?(?:work (?:at|for|as|in)|live (?:in|"
            r"near|with|on)|teach|study|volunteer (?:at|with|for)|grew up|was born|was raised|"
            r"go to (?:school|college|university)|attend|own|speak|"
            r"play (?:the )?\w+ (?:in|for|with)|"
            r"moved to)\b"
        ),
        0.75,
        _whole,
    ),
    Rule(
        "fact",
        rx(
            rf"^(?:I|we)(?:'ve| have)\s+(?:got\s+)?{_ADVERB}(?:a|an|two|three|four|five|"
            r"\d+)\s+(?:\w+\s+)?(?:kids?|children|sons?|daughters?|dogs?|cats?|pets?|brothers?|"
            r"sisters?|siblings|husband|wife|partner|boyfriend|girlfriend|car|house|apartment|"
            r"job|degree|business|company|shop|band|blog|podcast|garden|puppy|puppies|baby|"
            r"grandchildren|grandkids|twins|horses?|allergy|condition)\b"
        ),
        0.75,
        _whole,
    ),
    Rule(
        "fact",
        rx(
            r"^(?:I|we)(?:'ve| have) been\s+(?:\w+ing|an?\s+\w+)\b.*\b(?:for|since)\s+"
            r"(?:\w+\s+)?(?:years?|months?|decades?|weeks?|\d{4}|I was)\b"
        ),
        0.7,
        _whole,
    ),
    Rule(
        "fact",
        rx(
            r"^(?:I|we)(?:'ve| have) been\s+(?!thinking|wondering|feeling|meaning|trying|"
            r"looking forward)\w+ing\s+(?P<object>.+)$"
        ),
        0.6,
        _object_is_concrete("object"),
    ),
    Rule(
        "fact",
        rx(
            r"^(?:I'm|I am|we're|we are)\s+(?:now|currently|still)\s+(?!thinking|feeling|"
            r"trying|loving|hoping|wondering)\w+ing\s+(?P<object>.+)$"
        ),
        0.65,
        _object_is_concrete("object"),
    ),
    Rule(
        "fact",
        rx(
            r"^my (?:\w+\s)?(?:name|birthday|job|profession|occupation|hometown|age|"
            r"major|background|degree|native language)\s+(?:is|was)\s+\w+"
        ),
        0.8,
        _whole,
    ),
)
PERFECT_EVENT = Rule(
    "event",
    rx(
        r"^(?:I|we)(?:'ve| have)\s+(?:(?:just|recently|finally|already|also)\s+)*"
        r"(?P<verb>\w+ed|got|made|won|found|bought|met|begun|written|taken|given|seen|done|built|"
        r"sold|grown|chosen|become|lost)\s+(?P<object>.+)$"
    ),
    0.55,
    _object_is_concrete("object"),
)
EVENT_SUBJECT = rx(
    r"^(?:I|we|my \w+(?: \w+)?|our \w+|me and (?:my )?\w+|\w+ and I)\s+"
    rf"(?:{_ADVERB}|(?:finally|recently|already)\s+)*(?P<verb>[a-z']+)\b"
)


#: Past verbs that report a state of mind, not something that happened.
NOT_EVENTS = _words(
    "was were felt thought loved liked wanted needed knew meant said told guessed hoped "
    "wished forgot realized realised noticed decided figured believed remembered imagined"
)
