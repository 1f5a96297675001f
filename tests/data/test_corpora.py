"""Corpus loaders: checksums, token counts and vocabularies, offline download, corrupt files."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import shared_paths
from petridish.data.corpora import (
    CORPORA,
    EOS,
    Corpus,
    CorpusUnavailableError,
    load_corpus,
    tokenize,
)
from petridish.data.mnist import ChecksumError


def _shared_data() -> Path:
    """The read-only shared data folder: ``$PETRIDISH_DATA_DIR``, else ``shared/data``
    where ``shared_paths`` finds it."""
    env = os.environ.get("PETRIDISH_DATA_DIR")
    candidates = [Path(env)] if env else []
    candidates.append(shared_paths.SHARED_DATA)
    return next((c for c in candidates if (c / "ptb").is_dir()), candidates[-1])


SHARED_DATA = _shared_data()


def _have(name: str) -> bool:
    spec = CORPORA[name]
    return all((SHARED_DATA / spec.folder / f).is_file() for f, _ in spec.files.values())


def _corpus(name: str) -> Corpus:
    if not _have(name):
        pytest.skip(f"{name} files not found under {SHARED_DATA} (shared test data absent)")
    return load_corpus(name, SHARED_DATA, download=False)


@pytest.fixture(scope="module")
def ptb() -> Corpus:
    return _corpus("ptb")


@pytest.fixture(scope="module")
def wikitext2() -> Corpus:
    return _corpus("wikitext2")


def test_tokenize_one_eos_per_line() -> None:
    assert tokenize(" a b \n\n c\n") == ["a", "b", EOS, EOS, "c", EOS]


def test_ptb_counts_and_vocabulary(ptb: Corpus) -> None:
    # Figures from ../shared/data/README.md.
    assert len(ptb.train) == 929_589
    assert ptb.vocab_size == 10_000
    assert EOS in ptb.vocab and "<unk>" in ptb.vocab
    assert int(ptb.train.max()) == ptb.vocab_size - 1 and int(ptb.train.min()) == 0
    assert ptb.valid.dtype.name == "int32" and not ptb.valid.flags.writeable
    # 42,068 training lines -> as many <eos>.
    assert int((ptb.train == ptb.vocab.index(EOS)).sum()) == 42_068


def test_wikitext2_counts_and_vocabulary(wikitext2: Corpus) -> None:
    assert (len(wikitext2.train), len(wikitext2.valid), len(wikitext2.test)) == (
        2_088_628,
        217_646,
        245_569,
    )
    assert wikitext2.vocab_size == 33_278


def test_unigram_loss_is_a_proper_cross_entropy(ptb: Corpus) -> None:
    loss = ptb.unigram_loss("valid")
    # Far better than uniform over the vocabulary, far worse than any trained model.
    assert 5.0 < loss < 0.8 * float(__import__("math").log(ptb.vocab_size))


def test_memoised_per_files(ptb: Corpus) -> None:
    assert load_corpus("ptb", SHARED_DATA, download=False) is ptb


def test_unknown_corpus_named() -> None:
    with pytest.raises(ValueError, match="unknown corpus 'penn'"):
        load_corpus("penn")


def test_corrupt_file_is_named(tmp_path: Path, no_env: Path) -> None:
    if not _have("ptb"):
        pytest.skip(f"ptb files not found under {SHARED_DATA} (shared test data absent)")
    folder = tmp_path / "ptb"
    shutil.copytree(SHARED_DATA / "ptb", folder)
    valid = folder / "ptb.valid.txt"
    valid.write_bytes(valid.read_bytes()[:-100])  # truncated
    with pytest.raises(ChecksumError, match=r"ptb\.valid\.txt"):
        load_corpus("ptb", tmp_path, download=False)
    assert valid.is_file()  # never silently replaced


def test_missing_without_download_says_how_to_provide(tmp_path: Path, no_env: Path) -> None:
    with pytest.raises(CorpusUnavailableError, match="PETRIDISH_DATA_DIR") as info:
        load_corpus("wikitext2", tmp_path, download=False)
    assert "wiki.train.tokens" in str(info.value)
    assert str(tmp_path) in info.value.searched


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """A local HTTP server on 127.0.0.1 serving the shared data folder (offline mirror)."""
    if not _have("ptb"):
        pytest.skip(f"ptb files not found under {SHARED_DATA} (shared test data absent)")
    handler = functools.partial(_QuietHandler, directory=str(SHARED_DATA))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def test_download_from_local_mirror(
    server: str, tmp_path: Path, no_env: Path, ptb: Corpus, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PETRIDISH_CORPUS_MIRRORS", f"http://127.0.0.1:9/nothing/, {server}")
    got = load_corpus("ptb", tmp_path / "empty")
    cache = no_env / "ptb"
    assert sorted(p.name for p in cache.iterdir()) == sorted(
        f for f, _ in CORPORA["ptb"].files.values()
    )
    assert got.vocab == ptb.vocab and len(got.train) == len(ptb.train)
    # Second load reads the verified cache, no server needed.
    assert len(load_corpus("ptb", mirrors=[]).valid) == len(ptb.valid)


def test_download_rejects_a_bad_copy(server: str, tmp_path: Path, no_env: Path) -> None:
    # A mirror template that serves the wrong file for every split.
    bad = server + "ptb/ptb.test.txt?wanted={file}"  # the query string is ignored
    with pytest.raises(CorpusUnavailableError, match="bad content") as info:
        load_corpus("ptb", tmp_path, mirrors=[bad])
    assert info.value.failures
    assert not (no_env / "ptb" / "ptb.train.txt").exists()
