"""Networks by name: the one place the dish looks a motif-network up.

Contract
--------
* ``register_network(name, factory)`` makes ``name`` a valid ``DishConfig.network``.
  ``factory(config)`` receives the dish configuration (anything with the attributes of
  ``NetworkConfig``), reads the fields its network uses, checks them (a ``ValueError``
  naming the field, e.g. a network without a time axis given ``seq_len > 1``) and returns
  a ``MotifNet``. It must be cheap and free of JAX operations: configs call it when they
  are built, to validate. Registering a taken name is a ``ValueError`` unless
  ``replace=True``.
* ``build_network(name, config)`` returns ``factory(config)``; an unknown name is a
  ``ValueError`` listing the known ones. ``network_names()`` lists them, sorted.
* The built-in networks register themselves when their module is imported;
  ``petridish.nets`` imports them all, and importing this module imports that package
  first. A new network is a new module calling ``register_network`` plus one import line
  in ``petridish/nets/__init__.py``; a new motif kind with an ``activation`` hook runs on
  the MLP blueprint with one line: ``register_network(name, mlp_network(Kind))``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from petridish.nets.base import MotifNet

__all__ = [
    "NetworkConfig",
    "NetworkFactory",
    "build_network",
    "network_names",
    "register_network",
    "unregister_network",
]


class NetworkConfig(Protocol):
    """The configuration fields a network factory may read (``DishConfig`` has them)."""

    @property
    def network(self) -> str: ...

    @property
    def layer_sizes(self) -> tuple[int, ...]: ...

    @property
    def seq_len(self) -> int: ...

    @property
    def max_nodes(self) -> int: ...

    @property
    def max_slots(self) -> int: ...

    @property
    def max_inputs(self) -> int: ...


NetworkFactory = Callable[[NetworkConfig], MotifNet]

_FACTORIES: dict[str, NetworkFactory] = {}


def register_network(name: str, factory: NetworkFactory, *, replace: bool = False) -> None:
    """Make ``name`` buildable by ``build_network``; see the module contract."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"a network name must be a non-empty string, got {name!r}")
    if name in _FACTORIES and not replace and _FACTORIES[name] is not factory:
        raise ValueError(f"network {name!r} is already registered")
    _FACTORIES[name] = factory


def unregister_network(name: str) -> None:
    """Forget ``name`` (for plug-ins registered for a while, e.g. in tests)."""
    _FACTORIES.pop(name, None)


def network_names() -> tuple[str, ...]:
    """The registered network names, sorted."""
    return tuple(sorted(_FACTORIES))


def build_network(name: str, config: NetworkConfig) -> MotifNet:
    """The network ``name`` configured by ``config``; unknown names are a ``ValueError``."""
    factory = _FACTORIES.get(name)
    if factory is None:
        raise ValueError(f"unknown network {name!r}; known: {list(network_names())}")
    return factory(config)
