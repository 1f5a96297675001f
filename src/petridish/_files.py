"""Atomic file writes for everything the library writes for the user (reports, figures).

``atomic_write`` writes to a fresh temporary file in the target's folder and renames it over
the target, so a reader never sees a half-written file and a crash leaves the old file (or
none). The temporary file is created with ``os.open(..., 0o666)``, so the kernel applies the
process umask exactly as ``open(path, "w")`` would: with umask 022 the file is 0o644, with
077 it is 0o600. (``tempfile.mkstemp`` always creates 0o600, which made reports private.)
Reading the umask would need ``os.umask`` to set it, which is not thread-safe; this does not.
"""

from __future__ import annotations

import io
import os
import secrets
from pathlib import Path
from typing import Any, Protocol

__all__ = ["atomic_write", "atomic_write_figure"]

_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


def _open_temp(path: Path) -> tuple[int, Path]:
    """A new, exclusively created temporary file next to ``path``: (fd, its path)."""
    for _ in range(100):
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(tmp, _FLAGS, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a temporary file next to {path}")


def atomic_write(path: str | os.PathLike[str], data: bytes | str) -> Path:
    """Write ``data`` (text is UTF-8 encoded) to ``path`` atomically; create its folder.

    The file's mode is ``0o666 & ~umask``, as for a plain ``open(path, "w")`` of a new file.
    Returns ``path`` as a ``Path``.
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = _open_temp(out)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return out


class _SavesFigures(Protocol):
    def savefig(self, fname: Any, **kwargs: Any) -> None: ...


def atomic_write_figure(fig: _SavesFigures, path: str | os.PathLike[str], **kwargs: Any) -> Path:
    """``fig.savefig`` (a matplotlib figure) into ``path`` through ``atomic_write``.

    The format is the file's suffix (``png`` when there is none); ``kwargs`` go to
    ``savefig`` (e.g. ``bbox_inches="tight"``).
    """
    out = Path(path)
    buf = io.BytesIO()
    fig.savefig(buf, format=kwargs.pop("format", out.suffix.lstrip(".") or "png"), **kwargs)
    return atomic_write(out, buf.getvalue())
