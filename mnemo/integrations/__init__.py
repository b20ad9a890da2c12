"""Framework adapters: mnemo as the memory of LangChain, LangGraph, the OpenAI Agents
SDK and LlamaIndex. Each module needs its framework, installed by its extra:

- ``mnemo.integrations.langchain``      ``pip install 'mnemo[langchain]'``
- ``mnemo.integrations.langgraph``      ``pip install 'mnemo[langgraph]'``
- ``mnemo.integrations.openai_agents``  ``pip install 'mnemo[openai-agents]'``
- ``mnemo.integrations.llamaindex``     ``pip install 'mnemo[llamaindex]'``

Every adapter takes a ``Memory`` or an ``AsyncMemory`` and a fixed scope (user,
optionally agent, session and tenant); ``_bridge`` runs its operations on either face.
See docs/integrations.md.
"""
