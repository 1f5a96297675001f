"""MNIST from the four standard IDX files, verified by checksum, downloaded if missing.

Contract:

* ``load_mnist`` looks for each of the four files (``FILES``) in, in order: the ``data_dir``
  argument (or, when it is ``None``, the directory named by the environment variable
  ``PETRIDISH_DATA_DIR``), that directory's ``mnist/`` subfolder, and the cache directory
  (``$PETRIDISH_CACHE_DIR/mnist``, default ``~/.cache/petridish/mnist``).
* Every file is verified by the md5 of its *uncompressed* content (the gzip wrappers in
  circulation differ byte-wise, the payload does not). A corrupt or truncated file raises
  ``ChecksumError`` (a ``ValueError``) naming the file; it is never silently replaced.
* Files found nowhere are downloaded, when ``download`` is true, from ``MIRRORS`` (or the
  ``mirrors`` argument, or the comma-separated URLs in ``$PETRIDISH_MNIST_MIRRORS``) into
  the cache directory. A download is written to a temporary file
  in the same directory, verified, then renamed into place, so a bad or partial download
  never lands under the final name. If no mirror delivers a good copy,
  ``MnistUnavailableError`` says which files are expected and how to provide them.
  A download that failed is not tried again in the same process (same file, mirrors and
  cache directory): the same error is raised at once, and its warning is not repeated.
* The IDX headers (magic number, dimensions) are checked by our own parser.
* Arrays are returned as ``uint8`` NumPy arrays in a frozen ``Mnist`` record; nothing is
  mutated afterwards (the arrays are marked read-only).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
import urllib.error
import urllib.request
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from petridish._logging import logger

__all__ = [
    "FILES",
    "MIRRORS",
    "ChecksumError",
    "Mnist",
    "MnistUnavailableError",
    "default_cache_dir",
    "load_mnist",
    "paper_split",
]

# File name -> md5 of the uncompressed IDX payload.
FILES: dict[str, str] = {
    "train-images-idx3-ubyte.gz": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte.gz": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte.gz": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte.gz": "27ae3e4e09519cfbb04c329615203637",
}

# Tried in order; each must serve the four file names above directly under the URL.
MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)

DATA_DIR_ENV = "PETRIDISH_DATA_DIR"
CACHE_DIR_ENV = "PETRIDISH_CACHE_DIR"
MIRRORS_ENV = "PETRIDISH_MNIST_MIRRORS"

# IDX magic: two zero bytes, a type code (0x08 = unsigned byte), the number of dimensions.
_IDX_UBYTE = 0x08
_N_TRAIN = 60_000
_N_TEST = 10_000
_SIDE = 28
_DOWNLOAD_TIMEOUT_S = 60.0


class ChecksumError(ValueError):
    """A file is corrupt, truncated or not the expected MNIST file."""


class DataUnavailableError(FileNotFoundError):
    """A dataset's files are neither on disk nor downloadable.

    ``searched`` lists the folders looked in, ``failures`` what each download attempt
    answered (empty when downloading was off).
    """

    def __init__(
        self, message: str, *, searched: Sequence[str] = (), failures: Sequence[str] = ()
    ) -> None:
        super().__init__(message)
        self.searched = tuple(searched)
        self.failures = tuple(failures)


class MnistUnavailableError(DataUnavailableError):
    """The MNIST files are neither on disk nor downloadable (see ``DataUnavailableError``)."""


# (file name, mirrors, cache dir) -> the failures of its download in this process.
_FAILED_DOWNLOADS: dict[tuple[str, tuple[str, ...], str], tuple[str, ...]] = {}


@dataclass(frozen=True, eq=False)
class Mnist:
    """The MNIST arrays (read-only ``uint8``)."""

    train_images: np.ndarray  # (60000, 28, 28) uint8
    train_labels: np.ndarray  # (60000,) uint8 in 0..9
    test_images: np.ndarray  # (10000, 28, 28) uint8
    test_labels: np.ndarray  # (10000,) uint8 in 0..9


def default_cache_dir() -> Path:
    """``$PETRIDISH_CACHE_DIR/mnist`` if the variable is set, else ``~/.cache/petridish/mnist``."""
    root = os.environ.get(CACHE_DIR_ENV)
    base = Path(root).expanduser() if root else Path.home() / ".cache" / "petridish"
    return base / "mnist"


def _default_mirrors() -> tuple[str, ...]:
    """``$PETRIDISH_MNIST_MIRRORS`` (comma-separated base URLs) when set, else ``MIRRORS``."""
    text = os.environ.get(MIRRORS_ENV, "").strip()
    if not text:
        return MIRRORS
    return tuple(u.strip() for u in text.split(",") if u.strip())


def _search_dirs(data_dir: str | os.PathLike[str] | None, cache_dir: Path) -> list[Path]:
    """Directories searched for the files, most specific first."""
    given: str | os.PathLike[str] | None = data_dir
    if given is None:
        given = os.environ.get(DATA_DIR_ENV) or None
    dirs: list[Path] = []
    if given is not None:
        root = Path(given).expanduser()
        dirs += [root, root / "mnist"]
    dirs.append(cache_dir)
    return dirs


def _decompress_verified(path: Path, name: str, raw: bytes | None = None) -> bytes:
    """The uncompressed content of ``path`` after checking its md5; ``ChecksumError`` if bad."""
    try:
        data = gzip.decompress(path.read_bytes() if raw is None else raw)
    except (OSError, EOFError, zlib.error) as err:
        raise ChecksumError(
            f"MNIST file {path} is not a readable gzip file ({err}); it is corrupt or "
            f"truncated. Delete it and provide a good copy of {name!r} (or let "
            "load_mnist download it)."
        ) from err
    digest = hashlib.md5(data).hexdigest()
    if digest != FILES[name]:
        raise ChecksumError(
            f"MNIST file {path} has uncompressed md5 {digest}, expected {FILES[name]}; it is "
            f"corrupt, truncated or not {name!r}. Delete it and provide a good copy (or let "
            "load_mnist download it)."
        )
    return data


def _download(
    name: str, cache_dir: Path, mirrors: Sequence[str], searched: Sequence[Path] = ()
) -> tuple[Path, bytes]:
    """Fetch ``name`` from the first mirror that serves a verified copy; atomic write.

    A download of the same file from the same mirrors into the same cache that failed
    earlier in this process fails again at once, with the same message.
    """
    where = [str(d) for d in searched]
    key = (name, tuple(mirrors), str(cache_dir))
    if key in _FAILED_DOWNLOADS:
        failures_before = _FAILED_DOWNLOADS[key]
        raise MnistUnavailableError(
            _unavailable_message(name, cache_dir, failures_before),
            searched=where,
            failures=failures_before,
        )
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        failures_mkdir = (f"cannot create the cache directory {cache_dir}: {err}",)
        _FAILED_DOWNLOADS[key] = failures_mkdir
        raise MnistUnavailableError(
            _unavailable_message(name, cache_dir, failures_mkdir),
            searched=where,
            failures=failures_mkdir,
        ) from None
    target = cache_dir / name
    failures: list[str] = []
    for mirror in mirrors:
        url = mirror if mirror.endswith("/") else mirror + "/"
        url += name
        logger.info("downloading %s", url)
        try:
            with urllib.request.urlopen(url, timeout=_DOWNLOAD_TIMEOUT_S) as response:
                raw = response.read()
        except (urllib.error.URLError, OSError, ValueError) as err:
            failures.append(f"{url}: {err}")
            # Not a warning: the error raised below lists every failed mirror.
            logger.info("download of %s failed: %s", url, err)
            continue
        # Verify before anything lands under the final name.
        fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=cache_dir)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(raw)
            data = _decompress_verified(tmp, name, raw)
            os.replace(tmp, target)
        except ChecksumError as err:
            failures.append(f"{url}: bad content ({err})")
            logger.warning("mirror %s served a bad copy of %s", mirror, name)
            continue
        finally:
            if tmp.exists():
                tmp.unlink()
        return target, data
    _FAILED_DOWNLOADS[key] = tuple(failures)
    raise MnistUnavailableError(
        _unavailable_message(name, cache_dir, failures), searched=where, failures=failures
    )


def _unavailable_message(name: str, cache_dir: Path, failures: Sequence[str]) -> str:
    tried = "; ".join(failures) if failures else "download disabled"
    return (
        f"MNIST file {name!r} was not found and could not be downloaded ({tried}). Provide "
        f"the four files {sorted(FILES)} in a directory and pass it as data_dir= or set "
        f"{DATA_DIR_ENV} to it (the directory itself or its parent holding 'mnist/'), or put "
        f"them in the cache directory {cache_dir}."
    )


def _parse_idx(data: bytes, name: str, dims: tuple[int, ...]) -> np.ndarray:
    """Parse an unsigned-byte IDX payload and check that its dimensions equal ``dims``."""
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ChecksumError(f"MNIST file {name!r} does not start with an IDX magic number")
    if data[2] != _IDX_UBYTE or data[3] != len(dims):
        raise ChecksumError(
            f"MNIST file {name!r} has IDX type 0x{data[2]:02x} with {data[3]} dimensions, "
            f"expected unsigned bytes (0x08) with {len(dims)}"
        )
    header = 4 + 4 * len(dims)
    found = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=len(dims), offset=4))
    if found != dims or len(data) != header + int(np.prod(dims)):
        raise ChecksumError(
            f"MNIST file {name!r} has dimensions {found} and {len(data) - header} data bytes, "
            f"expected {dims}"
        )
    array = np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)
    array.flags.writeable = False
    return array


def load_mnist(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    download: bool = True,
    mirrors: Sequence[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Mnist:
    """Load and verify MNIST; see the module docstring for where files are looked for.

    ``cache_dir`` overrides the cache directory (where downloads go) for this call.
    """
    cache = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    dirs = _search_dirs(data_dir, cache)
    chosen_mirrors = tuple(_default_mirrors() if mirrors is None else mirrors)
    payloads: dict[str, bytes] = {}
    for name in FILES:
        found = next((d / name for d in dirs if (d / name).is_file()), None)
        if found is not None:
            payloads[name] = _decompress_verified(found, name)
            logger.debug("verified %s", found)
        elif download:
            _, payloads[name] = _download(name, cache, chosen_mirrors, dirs)
        else:
            raise MnistUnavailableError(
                _unavailable_message(name, cache, [f"searched {[str(d) for d in dirs]}"]),
                searched=[str(d) for d in dirs],
            )
    return Mnist(
        train_images=_parse_idx(
            payloads["train-images-idx3-ubyte.gz"], "train-images", (_N_TRAIN, _SIDE, _SIDE)
        ),
        train_labels=_parse_idx(
            payloads["train-labels-idx1-ubyte.gz"], "train-labels", (_N_TRAIN,)
        ),
        test_images=_parse_idx(
            payloads["t10k-images-idx3-ubyte.gz"], "t10k-images", (_N_TEST, _SIDE, _SIDE)
        ),
        test_labels=_parse_idx(payloads["t10k-labels-idx1-ubyte.gz"], "t10k-labels", (_N_TEST,)),
    )


def paper_split(mnist: Mnist) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The paper's split: first 50,000 training images to train, last 10,000 to validate.

    Returns ``(x_train, y_train, x_val, y_val)``: images flattened to float32 in [0, 1],
    shapes ``(50000, 784)``, ``(50000,)``, ``(10000, 784)``, ``(10000,)``; labels int32.
    """
    x = mnist.train_images.reshape(len(mnist.train_images), -1).astype(np.float32) / 255.0
    y = mnist.train_labels.astype(np.int32)
    n_train = len(x) - _N_TEST
    return x[:n_train], y[:n_train], x[n_train:], y[n_train:]
