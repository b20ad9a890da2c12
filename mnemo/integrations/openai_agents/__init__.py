"""OpenAI Agents SDK face of mnemo (``pip install 'mnemo[openai-agents]'``).

- ``MnemoSession``: the SDK's ``Session`` protocol over one mnemo session's turns.
- ``memory_tools(...)``: ``remember``, ``recall`` and ``forget`` function tools.

See docs/integrations.md.
"""

try:
    import agents  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the install
    raise ImportError(
        "mnemo.integrations.openai_agents needs the OpenAI Agents SDK: "
        "pip install 'mnemo[openai-agents]'"
    ) from exc

from mnemo.integrations.openai_agents.session import MnemoSession
from mnemo.integrations.openai_agents.tools import memory_tools

__all__ = ["MnemoSession", "memory_tools"]
