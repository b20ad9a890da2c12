"""The pgvector tutorial's free functions, run as its users write them.

The snippet is the tutorial's usage example verbatim, with ``from mnemo import ...``
in front; it runs in a fresh interpreter on the test's database (MNEMO_DATABASE_URL),
so the default store is opened by the first call and closed at exit for real.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from mnemo import Memory, MnemoConfig
from tests.conftest import repo_root

TUTORIAL = """\
# Store a new memory
add_to_memory(
    conversation_id=123,
    content="The user mentioned they prefer Python over JavaScript"
)

# Retrieve relevant memories
relevant_memories = get_relevant_memories(
    conversation_id=123,
    query="What programming languages were discussed?",
    limit=5
)
"""

# Runs after mnemo's own exit handler (atexit is last-in, first-out, and this one is
# registered before the first call), so it sees whether the default store was closed.
WATCH_EXIT = """\
import atexit
import mnemo.default_memory
atexit.register(lambda: print("closed at exit:", mnemo.default_memory._default is None))
"""


def run(code: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MNEMO_DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=repo_root(), capture_output=True,
        text=True, timeout=180, check=False,
    )  # fmt: skip


def test_tutorial_snippet_runs_with_only_the_import_changed(
    database_url: str, config: MnemoConfig
) -> None:
    code = (
        WATCH_EXIT
        + "from mnemo import add_to_memory, get_relevant_memories\n"
        + TUTORIAL
        + "print(repr(relevant_memories))\n"
    )
    done = run(code, database_url)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines == [
        "['The user mentioned they prefer Python over JavaScript']",
        "closed at exit: True",
    ]
    with Memory(config) as memory:  # stored for real, in conversation 123's scope
        assert memory.get_relevant_memories(123, "languages?") == [
            "The user mentioned they prefer Python over JavaScript"
        ]
        assert memory.list(user_id="124") == []


def test_free_functions_keep_conversations_apart_and_rank(
    database_url: str, config: MnemoConfig
) -> None:
    code = textwrap.dedent(
        """\
        from mnemo import add_to_memory, get_relevant_memories
        import mnemo.default_memory as default
        add_to_memory(conversation_id=1, content="The user is vegetarian")
        add_to_memory(conversation_id=1, content="The user lives in Lisbon")
        add_to_memory(conversation_id=2, content="Another conversation likes Rust")
        first = default.default_memory()
        print(get_relevant_memories(conversation_id=1, query="Where does the user live?", limit=1))
        print(len(get_relevant_memories(conversation_id=1, query="anything")))
        print(get_relevant_memories(conversation_id=3, query="anything"))
        print(default.default_memory() is first)
        """
    )
    done = run(code, database_url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["['The user lives in Lisbon']", "2", "[]", "True"]


def test_import_opens_nothing_and_bad_input_is_typed(database_url: str) -> None:
    code = textwrap.dedent(
        """\
        import mnemo
        import mnemo.default_memory as default
        assert default._default is None, "import opened the store"
        try:
            mnemo.get_relevant_memories(conversation_id=1, query="x", limit=0)
        except mnemo.InvalidInput as exc:
            print("InvalidInput:", type(exc).__name__)
        try:
            mnemo.add_to_memory(conversation_id=1, content="")
        except mnemo.InvalidInput:
            print("InvalidInput")
        print(mnemo.get_relevant_memories(conversation_id=1, query="x"))
        """
    )
    done = run(code, database_url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["InvalidInput: InvalidInput", "InvalidInput", "[]"]
