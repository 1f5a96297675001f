"""The space registry: name -> ``SpaceSpec``.

Each space module registers its spec (``register_space(SPEC)`` at its bottom);
``petridish.search.spaces`` imports every built-in module, so the table is full once the
package is imported. A new space is a new module plus one import line in the package
``__init__``. The CLI takes its ``--space`` choices and help from here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from petridish.search.spaces.base import SpaceSpec

__all__ = ["register_space", "space_names", "space_spec", "space_specs"]

_SPACES: dict[str, SpaceSpec] = {}


def register_space(spec: SpaceSpec) -> SpaceSpec:
    """Add ``spec`` under ``spec.name``; a name registered twice is a ``ValueError``."""
    if not spec.name or spec.name in _SPACES:
        raise ValueError(f"space {spec.name!r} is empty or registered twice")
    _SPACES[spec.name] = spec
    return spec


def space_names() -> tuple[str, ...]:
    """The registered space names, in registration order."""
    return tuple(_SPACES)


def space_specs() -> tuple[SpaceSpec, ...]:
    return tuple(_SPACES.values())


def space_spec(name: str) -> SpaceSpec:
    """The spec of ``name``; ``KeyError`` listing the known names if there is none."""
    try:
        return _SPACES[name]
    except KeyError:
        raise KeyError(f"unknown space {name!r}; known: {', '.join(space_names())}") from None
