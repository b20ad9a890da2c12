"""The engine: ``AsyncMemory``, the one async engine every face runs on."""

from mnemo.engine.async_memory import AsyncMemory

__all__ = ["AsyncMemory"]
