"""Embedders by name, through the ``mnemo.embedders`` entry-point group.

Built-ins register exactly as a third-party package would, in its pyproject::

    [project.entry-points."mnemo.embedders"]
    cohere = "mnemo_cohere:CohereEmbedder"

The target is any callable returning an ``Embedder``. ``load_embedder("name:model",
**options)`` calls it as ``target("model", **options)``, or ``target(**options)``
when the spec names no model.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points
from typing import Any

from mnemo.errors import ConfigurationError
from mnemo.providers.embedders.base import Embedder

GROUP = "mnemo.embedders"


def available_embedders() -> list[str]:
    """The names ``load_embedder`` accepts, sorted."""
    return sorted({entry_point.name for entry_point in entry_points(group=GROUP)})


def load_embedder(spec: str, **options: Any) -> Embedder:
    """Build the embedder ``spec`` names: ``"name"`` or ``"name:model"``.

    ``options`` go to the provider as keyword arguments (``api_key``,
    ``base_url``, ``num_threads``...). Nothing is loaded or contacted here: that
    happens in the embedder's ``open()``. Raises ``ConfigurationError`` for an
    unknown name, options the provider does not take, or a target that does
    not build an ``Embedder``.
    """
    name, _, model = spec.partition(":")
    factory = _entry_point(name.strip().lower()).load()
    args = (model,) if model else ()
    try:
        embedder = factory(*args, **options)
    except TypeError as exc:  # a missing or unexpected argument in the spec or options
        raise ConfigurationError(f"cannot build embedder {spec!r}: {exc}") from exc
    if not isinstance(embedder, Embedder):
        raise ConfigurationError(f"embedder {name!r} built a {type(embedder).__name__}")
    return embedder


def _entry_point(name: str) -> EntryPoint:
    matches = {ep.value: ep for ep in entry_points(group=GROUP) if ep.name == name}
    if not matches:
        known = ", ".join(available_embedders()) or "none (is mnemo installed?)"
        raise ConfigurationError(f"unknown embedder {name!r}; known embedders: {known}")
    if len(matches) > 1:
        raise ConfigurationError(
            f"embedder {name!r} is registered more than once: {sorted(matches)}"
        )
    return next(iter(matches.values()))
