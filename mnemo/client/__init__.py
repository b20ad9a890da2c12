"""HTTP clients of the mnemo service, with the method names and return types of ``Memory``.

Moving from the embedded library to the service is one line::

    m = Memory()                                                  # embedded
    m = MnemoClient("http://127.0.0.1:8000", api_key="mk_...")    # the service

``AsyncMnemoClient`` is the same for ``AsyncMemory``. Errors come back as the
``mnemo.errors`` classes the service raised (``NotFound``, ``InvalidInput``, ...);
an unreachable service raises ``StoreUnavailable``.
"""

from __future__ import annotations

from mnemo.client.clients import AsyncMnemoClient, MnemoClient

__all__ = ["AsyncMnemoClient", "MnemoClient"]
