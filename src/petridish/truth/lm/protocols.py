"""Language-model training protocols: named, frozen, recorded with every result.

A ``LMProtocol`` fixes everything that decides a cell's loss besides the cell, the corpus
and the seed. Its ``name`` identifies it in the store (two protocols with different settings
never share a name). ``PROTOCOLS`` holds the registered ones; ``get_protocol`` looks one up
by name, and ``darts_search(epochs)`` builds the DARTS search protocol for any epoch count.

Dropout semantics (all "locked"/variational: one mask per BPTT window, shared over time):

* ``dropout_words``: whole embedding rows (AWD-LSTM's ``dropoute``);
* ``dropout_embedding``: the embedding output, i.e. the first layer's input (``dropouti``);
* ``dropout_cell_input``: each cell's input ``x`` inside the cell (DARTS/NAO ``dropoutx``);
* ``dropout_recurrent``: the hidden states fed back into the cell (DARTS/NAO ``dropouth``);
* ``dropout_layers``: the outputs of all but the last layer (AWD-LSTM's ``dropouth``);
* ``dropout_output``: the last layer's output before the decoder (``dropout``);
* ``weight_drop``: DropConnect on every hidden-side weight matrix of the cell (``wdrop``).

Optimisers: ``"sgd"`` (plain SGD), ``"adam"``, and ``"nt_asgd"`` (AWD-LSTM's non-monotonically
triggered averaged SGD: plain SGD until the validation loss fails to beat the best of all but
the last ``nonmono`` epochs, then SGD whose evaluated weights are the running average of the
iterates since the switch). Gradients are clipped to global norm ``clip`` (0: no clipping);
``weight_decay`` is L2 added to the gradient after clipping (PyTorch's ``weight_decay``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from petridish._validation import positive_int

__all__ = [
    "PROTOCOLS",
    "LMProtocol",
    "darts_search",
    "get_protocol",
]

Optimizer = Literal["sgd", "adam", "nt_asgd"]

# Part of every protocol's digest (and so of the store key): raised whenever the trainer
# gives different results for the same settings, so that older results are not read back.
# 2: cells are trained as their live part (``motifs.cell.live_part``).
# 3: a finite loss above ``trainer.BLOWUP_FACTOR * log(V)`` is a divergence, not a result.
TRAINER_REVISION = 3


@dataclass(frozen=True)
class LMProtocol:
    """How a cell is trained as a language model; see the module docstring.

    ``tokens_per_epoch``: training tokens per epoch (per batch row times ``batch``); ``None``
    is the whole training split. Successive epochs continue through the split (wrapping
    around), so a budget below the split still sees new text every epoch.
    ``val_tokens``: how many validation (and test) tokens are scored; ``None`` is all.
    ``vocab_cap``: the vocabulary is cut to the ``vocab_cap`` most frequent training words
    plus one out-of-vocabulary token (``trainer.capped_splits``); ``None`` keeps it whole.
    Losses under a cap are over the capped vocabulary (not comparable to uncapped ones).
    ``tied``: decoder weights tied to the embedding (needs the last layer's width to equal
    ``embedding``; with more than one layer the last layer is ``embedding`` wide, as in
    AWD-LSTM).
    """

    name: str
    embedding: int
    hidden: int
    layers: int
    batch: int
    bptt: int
    epochs: int
    optimizer: Optimizer
    lr: float
    clip: float = 0.25
    weight_decay: float = 0.0
    dropout_words: float = 0.0
    dropout_embedding: float = 0.0
    dropout_cell_input: float = 0.0
    dropout_recurrent: float = 0.0
    dropout_layers: float = 0.0
    dropout_output: float = 0.0
    weight_drop: float = 0.0
    ar_alpha: float = 0.0
    tar_beta: float = 0.0
    nonmono: int = 5
    tied: bool = True
    init_range: float = 0.1
    tokens_per_epoch: int | None = None
    val_tokens: int | None = None
    eval_batch: int = 10
    vocab_cap: int | None = None
    source: str = ""

    def __post_init__(self) -> None:
        for f in ("embedding", "hidden", "layers", "batch", "bptt", "epochs", "eval_batch"):
            positive_int(getattr(self, f), f"LMProtocol.{f}")
        if self.optimizer not in ("sgd", "adam", "nt_asgd"):
            raise ValueError(
                f"LMProtocol.optimizer must be sgd, adam or nt_asgd, got {self.optimizer!r}"
            )
        for f in (
            "dropout_words",
            "dropout_embedding",
            "dropout_cell_input",
            "dropout_recurrent",
            "dropout_layers",
            "dropout_output",
            "weight_drop",
        ):
            p = getattr(self, f)
            if not 0.0 <= p < 1.0:
                raise ValueError(f"LMProtocol.{f} must be in [0, 1), got {p!r}")
        if self.lr <= 0 or self.clip < 0 or self.weight_decay < 0:
            raise ValueError("LMProtocol needs lr > 0, clip >= 0 and weight_decay >= 0")
        for f in ("tokens_per_epoch", "val_tokens", "vocab_cap"):
            v = getattr(self, f)
            if v is not None and (not isinstance(v, int) or v < 1):
                raise ValueError(f"LMProtocol.{f} must be None or a positive int, got {v!r}")

    @property
    def layer_sizes(self) -> tuple[tuple[int, int], ...]:
        """``(input width, hidden width)`` of each layer."""
        sizes = []
        for i in range(self.layers):
            d_in = self.embedding if i == 0 else self.hidden
            last = i == self.layers - 1
            d_h = self.embedding if (last and self.tied and self.layers > 1) else self.hidden
            sizes.append((d_in, d_h))
        return tuple(sizes)

    @property
    def is_tied(self) -> bool:
        """Whether the decoder is really tied (the last layer's width equals the embedding)."""
        return self.tied and self.layer_sizes[-1][1] == self.embedding

    def with_(self, **changes: Any) -> LMProtocol:
        """A copy with ``changes``; give it a new ``name`` if it is to be stored."""
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        """The protocol's fields, JSON-ready (recorded with every result)."""
        return asdict(self)

    def digest(self) -> str:
        """10 hex digits of SHA-256 over every setting but ``name`` and ``source``, and the
        trainer's revision: equal for equal settings, different (up to hash collisions) when
        any setting, or the trainer's behaviour, differs."""
        settings = {k: v for k, v in self.as_dict().items() if k not in ("name", "source")}
        settings["trainer_revision"] = TRAINER_REVISION
        text = json.dumps(settings, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]

    @property
    def key(self) -> str:
        """``name@digest``: the protocol as results are stored under it, so that a protocol
        whose settings change (a retuned ``cpu``) never reads back the old settings'
        results, and a renamed one with the same settings still does not mix with others."""
        return f"{self.name}@{self.digest()}"


_NAO_SOURCE = (
    "NAO (Luo et al. 2018) PTB setup as used by the Synthetic Petri Dish paper (Rawal et al. "
    "2020, Appendix A.3.1); settings as listed in petridish issue 15: embedding = hidden = "
    "850, batch 64, BPTT 35, SGD lr 20 then averaged SGD, clip 0.25, dropouts 0.75 output / "
    "0.25 hidden / 0.75 input / 0.2 embedding, weight decay 8e-7, 600 epochs"
)
_DARTS_SOURCE = (
    "DARTS (Liu et al. 2019) recurrent search phase on PTB (train_search.py): sizes 300, batch "
    "256, BPTT 35, SGD lr 20, weight decay 5e-7, clip 0.25, dropouts 0.2 embedding / 0.75 "
    "cell input / 0.25 hidden / 0.75 output; 50 search epochs by default"
)
_NASBENCH_SOURCE = (
    "NAS-Bench-NLP (Klyuchnikov et al. 2020) WikiText-2 logs (every one of the 345 logs "
    "records the same settings): 3 layers, emsize 400, nhid 600, batch 20, BPTT 70, 50 epochs, "
    "lr 0.001, wdecay 1.2e-6, clip 0.25, dropout 0.1, dropouth 0.25, dropouti 0.4, dropoute "
    "0.0, wdrop 0.1, alpha 2, beta 1, tied, eval batch 50. The logs do not name the optimizer; "
    "the benchmark's released training script (main_one_model_train.py in "
    "fmsnew/nas-bench-nlp-release) uses Adam with lr 1e-3 and weight decay 1.2e-6, and its "
    "cell (custom_rnn.py) draws every cell weight from U(-1/sqrt(hidden), 1/sqrt(hidden)), as "
    "the trainer here does. Not reproduced: its random BPTT length per batch (70, or 35 with "
    "probability 0.05, plus N(0, 5) noise, lr scaled by length / 70)"
)
_CPU_SOURCE = (
    "petridish's cheap CPU protocol (issue 15, chosen by measurement against NAS-Bench-NLP's "
    "WikiText-2 logs, scripts/lm_protocol_sweep.py): embedding = hidden = 64, one layer, "
    "batch 32, BPTT 35, Adam lr 3e-3, clip 0.25, the vocabulary capped to the 2000 most "
    "frequent training words plus <unk> (the full softmax was about 95% of the cost), 5 "
    "epochs of 100k tokens, 10k validation tokens. On 30 cells spread over the logs' loss "
    "range its Kendall tau against the 50-epoch losses rose with epochs: 0.19, 0.04, 0.21, "
    "0.25, 0.30, 0.29 after epochs 1-6 (many cells sit at the unigram level for 3-4 epochs "
    "before they learn); Adam lr 1e-2 ranked no better (0.27 after 6 epochs, 2 diverged of "
    "30). The 2-epoch setting is kept as cpu_short"
)
_CPU_SHORT_SOURCE = (
    "petridish's first cheap CPU protocol (the cpu protocol until its retuning): cpu with 2 "
    "epochs. Kendall tau against NAS-Bench-NLP's 50-epoch WikiText-2 losses 0.10 on 60 cells "
    "(5 diverged) and 0.04 on the 30-cell sweep: fast, but it does not rank"
)
_CPU_LARGE_SOURCE = (
    "petridish's cheap CPU protocol, phase 1 setting (named cpu until phase 2) chosen by a "
    "short measurement on PTB: "
    "with it an LSTM recipe reached validation perplexity 326 (unigram model: 685) in 206 s "
    "on 2 busy cores; Adam lr 1e-2 trained the LSTM and GRU faster in one epoch but left an "
    "Elman cell worse than the unigram model, so lr 3e-3 (robust). To be tuned against "
    "NAS-Bench-NLP's logs in a later phase"
)


def darts_search(epochs: int = 50) -> LMProtocol:
    """DARTS's search-phase PTB protocol trained for ``epochs`` epochs (named
    ``darts_search`` at DARTS's 50 epochs, ``darts_search_e<epochs>`` otherwise)."""
    name = "darts_search" if epochs == 50 else f"darts_search_e{epochs}"
    return LMProtocol(
        name=name,
        embedding=300,
        hidden=300,
        layers=1,
        batch=256,
        bptt=35,
        epochs=epochs,
        optimizer="sgd",
        lr=20.0,
        clip=0.25,
        weight_decay=5e-7,
        dropout_embedding=0.2,
        dropout_cell_input=0.75,
        dropout_recurrent=0.25,
        dropout_output=0.75,
        source=_DARTS_SOURCE,
    )


PROTOCOLS: dict[str, LMProtocol] = {
    "nao": LMProtocol(
        name="nao",
        embedding=850,
        hidden=850,
        layers=1,
        batch=64,
        bptt=35,
        epochs=600,
        optimizer="nt_asgd",
        lr=20.0,
        clip=0.25,
        weight_decay=8e-7,
        dropout_embedding=0.2,
        dropout_cell_input=0.75,
        dropout_recurrent=0.25,
        dropout_output=0.75,
        source=_NAO_SOURCE,
    ),
    "darts_search": darts_search(50),
    "nasbench_nlp": LMProtocol(
        name="nasbench_nlp",
        embedding=400,
        hidden=600,
        layers=3,
        batch=20,
        bptt=70,
        epochs=50,
        optimizer="adam",
        lr=1e-3,
        clip=0.25,
        weight_decay=1.2e-6,
        dropout_words=0.0,
        dropout_embedding=0.4,
        dropout_layers=0.25,
        dropout_output=0.1,
        weight_drop=0.1,
        ar_alpha=2.0,
        tar_beta=1.0,
        eval_batch=50,
        source=_NASBENCH_SOURCE,
    ),
    "cpu": LMProtocol(
        name="cpu",
        embedding=64,
        hidden=64,
        layers=1,
        batch=32,
        bptt=35,
        epochs=5,
        optimizer="adam",
        lr=3e-3,
        clip=0.25,
        tokens_per_epoch=100_000,
        val_tokens=10_000,
        eval_batch=40,
        vocab_cap=2000,
        source=_CPU_SOURCE,
    ),
    "cpu_large": LMProtocol(
        name="cpu_large",
        embedding=64,
        hidden=64,
        layers=1,
        batch=32,
        bptt=35,
        epochs=3,
        optimizer="adam",
        lr=3e-3,
        clip=0.25,
        tokens_per_epoch=200_000,
        val_tokens=20_000,
        eval_batch=40,
        source=_CPU_LARGE_SOURCE,
    ),
}


# cpu at its former 2 epochs, nothing else changed.
PROTOCOLS["cpu_short"] = PROTOCOLS["cpu"].with_(
    name="cpu_short", epochs=2, source=_CPU_SHORT_SOURCE
)


def get_protocol(name: str | LMProtocol) -> LMProtocol:
    """The registered protocol ``name`` (a ``LMProtocol`` passes through); ``darts_search_e<N>``
    builds DARTS's search protocol for N epochs."""
    if isinstance(name, LMProtocol):
        return name
    if name in PROTOCOLS:
        return PROTOCOLS[name]
    if name.startswith("darts_search_e") and name[len("darts_search_e") :].isdigit():
        return darts_search(int(name[len("darts_search_e") :]))
    raise ValueError(f"unknown language-model protocol {name!r}; known: {sorted(PROTOCOLS)}")
