"""Where the read-only shared test resources are: one answer for every test file.

``shared/`` holds ``data/`` (MNIST, PTB, WikiText-2) and ``reference/`` (the paper's slope
table, the NAS-Bench-NLP logs). It is the first of:

1. ``$PETRIDISH_SHARED_DIR``;
2. the parent of ``$PETRIDISH_DATA_DIR`` when that folder is named ``data`` (the layout of
   ``shared/``, so a checkout anywhere finds the references beside its data);
3. ``shared/`` beside the repository root (``<checkout>/../shared``), which only works when
   the checkout sits next to it.

The paths are returned whether or not they exist: a test that needs a file skips with a
message naming the path it looked at.

Test modules import this as ``from shared_paths import SHARED`` (``tests/`` is on
``sys.path`` once ``tests/conftest.py`` is loaded, which re-exports the names). The module
is not ``conftest`` itself because every ``conftest.py`` outside a package is imported under
that same module name, so ``from conftest import ...`` finds whichever was loaded last.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

__all__ = ["REPO_ROOT", "SHARED", "SHARED_DATA", "SHARED_REFERENCE", "find_shared"]

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR_ENV = "PETRIDISH_SHARED_DIR"
DATA_DIR_ENV = "PETRIDISH_DATA_DIR"


def find_shared(environ: Mapping[str, str] | None = None) -> Path:
    """The shared folder by the rules of the module docstring (``environ``: ``os.environ``)."""
    env = os.environ if environ is None else environ
    explicit = env.get(SHARED_DIR_ENV, "").strip()
    if explicit:
        return Path(explicit).expanduser()
    data = env.get(DATA_DIR_ENV, "").strip()
    if data:
        data_dir = Path(data).expanduser()
        if data_dir.name == "data":
            return data_dir.parent
    return REPO_ROOT.parent / "shared"


SHARED = find_shared()
SHARED_DATA = SHARED / "data"
SHARED_REFERENCE = SHARED / "reference"
