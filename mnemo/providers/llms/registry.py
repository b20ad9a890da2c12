"""Find an LLM by name through the ``mnemo.llms`` entry-point group.

Built-ins register exactly as a third-party package would, in its ``pyproject.toml``::

    [project.entry-points."mnemo.llms"]
    mycloud = "mnemo_mycloud:MyCloudLLM"

so adding a provider is a new package or file, never an edit here.
"""

from __future__ import annotations

import importlib
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from mnemo.errors import ConfigurationError
from mnemo.providers.llms.base import LLM

__all__ = ["ENTRY_POINT_GROUP", "available_llms", "load_llm"]

ENTRY_POINT_GROUP = "mnemo.llms"


def available_llms() -> list[str]:
    """Names registered in the ``mnemo.llms`` group, sorted."""
    return sorted({ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)})


def load_llm(spec: str | LLM, **options: Any) -> LLM:
    """Build the LLM ``spec`` names, passing ``options`` to its factory.

    ``spec`` is a registered name (``"ollama"``), a name and a model
    (``"ollama:llama3.1"``, ``"openai:gpt-4o-mini"``), an import path
    (``"package.module:Factory"``), or an :class:`LLM` instance, returned as is.
    Raises :class:`~mnemo.errors.ConfigurationError` for unknown names or
    factories that do not build an :class:`LLM`.
    """
    if isinstance(spec, LLM):
        return spec
    factory, model = _resolve(spec.strip())
    if model:
        options.setdefault("model", model)
    try:
        llm = factory(**options)
    except TypeError as exc:
        raise ConfigurationError(f"LLM {spec!r} does not take these options: {exc}") from exc
    if not isinstance(llm, LLM):
        raise ConfigurationError(f"LLM {spec!r} built a {type(llm).__name__}, not an LLM")
    return llm


def _resolve(spec: str) -> tuple[Any, str | None]:
    """The factory and model named by ``spec``."""
    name, _, model = spec.partition(":")
    registered = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    if name in registered:
        return _load(registered[name]), model or None
    if "." in name and model:  # an import path, "package.module:Factory"
        return _import(name, model), None
    known = ", ".join(sorted(registered)) or "none"
    raise ConfigurationError(f"unknown LLM {name!r}; registered in {ENTRY_POINT_GROUP}: {known}")


def _load(entry_point: EntryPoint) -> Any:
    try:
        return entry_point.load()
    except (ImportError, AttributeError) as exc:
        raise ConfigurationError(f"LLM {entry_point.name!r} cannot be loaded: {exc}") from exc


def _import(module_name: str, attribute: str) -> Any:
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise ConfigurationError(f"cannot import {module_name}:{attribute}: {exc}") from exc
