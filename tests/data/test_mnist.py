"""MNIST loader: shapes, checksums, corrupt/truncated files, and the download path offline."""

from __future__ import annotations

import functools
import gzip
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from petridish.data.mnist import (
    FILES,
    ChecksumError,
    Mnist,
    MnistUnavailableError,
    load_mnist,
    paper_split,
)
from shared_paths import SHARED_DATA

SHARED_MNIST = SHARED_DATA / "mnist"

needs_mnist = pytest.mark.skipif(
    not all((SHARED_MNIST / name).is_file() for name in FILES),
    reason=f"MNIST files not found in {SHARED_MNIST} (shared test data absent)",
)


@pytest.fixture(scope="module")
def mnist() -> Mnist:
    if not all((SHARED_MNIST / name).is_file() for name in FILES):
        pytest.skip(f"MNIST files not found in {SHARED_MNIST} (shared test data absent)")
    return load_mnist(SHARED_MNIST, download=False)


@needs_mnist
def test_shapes_dtypes_and_labels(mnist: Mnist) -> None:
    assert mnist.train_images.shape == (60_000, 28, 28)
    assert mnist.train_labels.shape == (60_000,)
    assert mnist.test_images.shape == (10_000, 28, 28)
    assert mnist.test_labels.shape == (10_000,)
    for array in (mnist.train_images, mnist.train_labels, mnist.test_images, mnist.test_labels):
        assert array.dtype == np.uint8
        assert not array.flags.writeable
    assert set(np.unique(mnist.train_labels).tolist()) == set(range(10))
    assert set(np.unique(mnist.test_labels).tolist()) == set(range(10))
    # The well-known first training labels.
    assert mnist.train_labels[:5].tolist() == [5, 0, 4, 1, 9]


@needs_mnist
def test_paper_split(mnist: Mnist) -> None:
    x_train, y_train, x_val, y_val = paper_split(mnist)
    assert x_train.shape == (50_000, 784) and x_val.shape == (10_000, 784)
    assert y_train.shape == (50_000,) and y_val.shape == (10_000,)
    assert x_train.dtype == np.float32
    assert x_train.min() >= 0.0 and x_train.max() == 1.0
    np.testing.assert_array_equal(y_val, mnist.train_labels[50_000:])
    np.testing.assert_allclose(x_val[0], mnist.train_images[50_000].reshape(-1) / 255.0, rtol=1e-6)


@needs_mnist
def test_env_var_and_mnist_subfolder(monkeypatch: pytest.MonkeyPatch, no_env: Path) -> None:
    # PETRIDISH_DATA_DIR may name the parent holding mnist/.
    monkeypatch.setenv("PETRIDISH_DATA_DIR", str(SHARED_DATA))
    loaded = load_mnist(download=False)
    assert loaded.test_images.shape == (10_000, 28, 28)
    assert not no_env.exists()  # nothing was downloaded into the cache


def _copy_with(tmp_path: Path, name: str, content: bytes) -> Path:
    folder = tmp_path / "mnist_bad"
    folder.mkdir()
    for other in FILES:
        if other != name:
            shutil.copy(SHARED_MNIST / other, folder / other)
    (folder / name).write_bytes(content)
    return folder


@needs_mnist
def test_corrupted_file_is_named(tmp_path: Path, no_env: Path) -> None:
    name = "t10k-labels-idx1-ubyte.gz"
    payload = bytearray(gzip.decompress((SHARED_MNIST / name).read_bytes()))
    payload[100] ^= 0xFF  # one flipped label byte, then a perfectly valid gzip wrapper
    folder = _copy_with(tmp_path, name, gzip.compress(bytes(payload)))
    with pytest.raises(ChecksumError, match=name) as info:
        load_mnist(folder, download=True, mirrors=["http://127.0.0.1:9/"])
    assert "md5" in str(info.value)
    assert isinstance(info.value, ValueError)


@needs_mnist
def test_truncated_file_is_named(tmp_path: Path, no_env: Path) -> None:
    name = "train-labels-idx1-ubyte.gz"
    raw = (SHARED_MNIST / name).read_bytes()
    folder = _copy_with(tmp_path, name, raw[: len(raw) // 2])
    with pytest.raises(ChecksumError, match=name):
        load_mnist(folder, download=False)


def test_missing_files_without_download(tmp_path: Path, no_env: Path) -> None:
    with pytest.raises(MnistUnavailableError, match="PETRIDISH_DATA_DIR") as info:
        load_mnist(tmp_path / "nowhere", download=False)
    assert "train-images-idx3-ubyte.gz" in str(info.value)


# --------------------------------------------------------------------- offline download


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        pass


@pytest.fixture
def serve() -> Iterator[functools.partial[str]]:
    """Start local HTTP servers on free ports; yields ``serve(folder) -> base URL``."""
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(folder: Path) -> str:
        handler = functools.partial(_QuietHandler, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield functools.partial(start)
    for server in servers:
        server.shutdown()
        server.server_close()


@needs_mnist
def test_download_from_local_mirror(
    tmp_path: Path, no_env: Path, serve: functools.partial[str], mnist: Mnist
) -> None:
    url = serve(SHARED_MNIST)
    cache = tmp_path / "cache"
    loaded = load_mnist(tmp_path / "empty", mirrors=[url], cache_dir=cache)
    assert sorted(p.name for p in cache.iterdir()) == sorted(FILES)  # no temp files left
    np.testing.assert_array_equal(loaded.test_labels, mnist.test_labels)
    # A second load finds the cached files and needs no mirror.
    again = load_mnist(tmp_path / "empty", mirrors=[], cache_dir=cache)
    np.testing.assert_array_equal(again.train_labels, mnist.train_labels)


@needs_mnist
def test_bad_mirror_is_skipped(tmp_path: Path, no_env: Path, serve: functools.partial[str]) -> None:
    bad = tmp_path / "bad_mirror"
    bad.mkdir()
    for name in FILES:  # well-formed gzip, wrong content
        (bad / name).write_bytes(gzip.compress(b"not mnist"))
    cache = tmp_path / "cache"
    loaded = load_mnist(
        tmp_path / "empty", mirrors=[serve(bad), serve(SHARED_MNIST)], cache_dir=cache
    )
    assert loaded.train_images.shape == (60_000, 28, 28)
    assert sorted(p.name for p in cache.iterdir()) == sorted(FILES)


def test_all_mirrors_failing(tmp_path: Path, no_env: Path, serve: functools.partial[str]) -> None:
    bad = tmp_path / "bad_mirror"
    bad.mkdir()
    (bad / "train-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b truncated")
    empty = tmp_path / "empty_mirror"
    empty.mkdir()
    cache = tmp_path / "cache"
    with pytest.raises(MnistUnavailableError) as info:
        load_mnist(tmp_path / "empty", mirrors=[serve(bad), serve(empty)], cache_dir=cache)
    message = str(info.value)
    assert "train-images-idx3-ubyte.gz" in message
    assert "PETRIDISH_DATA_DIR" in message and "data_dir" in message
    assert list(cache.iterdir()) == []  # a bad download never lands in the cache


def test_mirrors_from_the_environment_and_one_attempt_per_process(
    tmp_path: Path, no_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``$PETRIDISH_MNIST_MIRRORS`` replaces the mirror list; a failed download is not tried
    again in the same process (a search asks for MNIST once per evaluation batch)."""
    import urllib.error

    from petridish.data import mnist as mnist_module

    urls: list[str] = []

    def refuse(url: str, timeout: float) -> object:
        urls.append(url)
        raise urllib.error.URLError("connection refused")

    monkeypatch.setattr(mnist_module.urllib.request, "urlopen", refuse)
    monkeypatch.setenv("PETRIDISH_MNIST_MIRRORS", "http://127.0.0.1:1/, http://127.0.0.1:2")
    with pytest.raises(MnistUnavailableError) as first:
        load_mnist(tmp_path / "empty")
    assert urls == [
        "http://127.0.0.1:1/train-images-idx3-ubyte.gz",
        "http://127.0.0.1:2/train-images-idx3-ubyte.gz",
    ]
    assert first.value.failures and all("refused" in f for f in first.value.failures)
    assert str(tmp_path / "empty") in first.value.searched
    with pytest.raises(MnistUnavailableError) as second:
        load_mnist(tmp_path / "empty")
    assert len(urls) == 2  # not tried again
    assert str(second.value) == str(first.value)
    # Another cache directory (or other mirrors) is another download.
    with pytest.raises(MnistUnavailableError):
        load_mnist(tmp_path / "empty", cache_dir=tmp_path / "other_cache")
    assert len(urls) == 4
