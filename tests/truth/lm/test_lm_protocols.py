"""Protocols: named, frozen, JSON-ready, and matching their sources."""

from __future__ import annotations

import dataclasses
import json
import zipfile

import pytest

from petridish.truth.lm import PROTOCOLS, LMProtocol, darts_search, get_protocol
from shared_paths import SHARED_REFERENCE

REFERENCE_ZIP = SHARED_REFERENCE / "nasbench_nlp_wikitext2_logs.zip"


def test_registry_names_and_records() -> None:
    assert set(PROTOCOLS) >= {"nao", "darts_search", "nasbench_nlp", "cpu"}
    for name, proto in PROTOCOLS.items():
        assert proto.name == name
        record = json.loads(json.dumps(proto.as_dict()))
        assert LMProtocol(**record) == proto  # the record rebuilds the protocol
        assert proto.source, f"protocol {name} cites no source"
        assert get_protocol(name) is proto
    with pytest.raises(dataclasses.FrozenInstanceError):
        PROTOCOLS["cpu"].lr = 1.0  # type: ignore[misc]


def test_paper_protocols_hold_the_cited_settings() -> None:
    nao = PROTOCOLS["nao"]
    assert (nao.embedding, nao.hidden, nao.batch, nao.bptt, nao.epochs) == (850, 850, 64, 35, 600)
    assert (nao.optimizer, nao.lr, nao.clip, nao.weight_decay) == ("nt_asgd", 20.0, 0.25, 8e-7)
    assert (nao.dropout_output, nao.dropout_recurrent, nao.dropout_cell_input) == (0.75, 0.25, 0.75)
    assert nao.dropout_embedding == 0.2
    darts = darts_search(7)
    assert darts.name == "darts_search_e7" and darts.epochs == 7
    assert get_protocol("darts_search_e7") == darts
    assert (darts.embedding, darts.batch, darts.lr, darts.weight_decay) == (300, 256, 20.0, 5e-7)
    assert PROTOCOLS["darts_search"].epochs == 50
    nb = PROTOCOLS["nasbench_nlp"]
    assert nb.layer_sizes == ((400, 600), (600, 600), (600, 400)) and nb.is_tied


def test_nasbench_nlp_protocol_matches_its_logs() -> None:
    if not REFERENCE_ZIP.is_file():
        pytest.skip(f"NAS-Bench-NLP logs not found at {REFERENCE_ZIP} (optional resource)")
    with zipfile.ZipFile(REFERENCE_ZIP) as zf:
        member = next(n for n in zf.namelist() if n.endswith(".json"))
        log = json.loads(zf.read(member))
    nb = PROTOCOLS["nasbench_nlp"]
    assert (log["emsize"], log["nhid"], log["nlayers"]) == (nb.embedding, nb.hidden, nb.layers)
    assert (log["batch_size"], log["bptt"], log["epochs"]) == (nb.batch, nb.bptt, nb.epochs)
    assert (log["lr"], log["clip"], log["wdecay"]) == (nb.lr, nb.clip, nb.weight_decay)
    assert (log["dropout"], log["dropouth"], log["dropouti"], log["dropoute"], log["wdrop"]) == (
        nb.dropout_output,
        nb.dropout_layers,
        nb.dropout_embedding,
        nb.dropout_words,
        nb.weight_drop,
    )
    assert (log["alpha"], log["beta"], log["tied"], log["eval_batch_size"]) == (
        nb.ar_alpha,
        nb.tar_beta,
        nb.tied,
        nb.eval_batch,
    )


def test_invalid_protocols_rejected() -> None:
    with pytest.raises(ValueError, match="unknown language-model protocol 'fast'"):
        get_protocol("fast")
    with pytest.raises(ValueError, match="dropout_output"):
        PROTOCOLS["cpu"].with_(dropout_output=1.0)
    with pytest.raises(ValueError, match="optimizer"):
        PROTOCOLS["cpu"].with_(optimizer="rmsprop")


def test_cpu_is_the_capped_protocol_and_cpu_large_the_phase1_one() -> None:
    cpu, large = PROTOCOLS["cpu"], PROTOCOLS["cpu_large"]
    assert cpu.vocab_cap == 2000 and large.vocab_cap is None
    assert (large.hidden, large.epochs, large.tokens_per_epoch) == (64, 3, 200_000)
    assert cpu.epochs * (cpu.tokens_per_epoch or 0) < large.epochs * (large.tokens_per_epoch or 0)
    with pytest.raises(ValueError, match="vocab_cap"):
        cpu.with_(vocab_cap=0)
    # cpu_short is cpu at 2 epochs (the setting before the sweep chose 5), nothing else.
    short = PROTOCOLS["cpu_short"]
    assert (cpu.epochs, short.epochs) == (5, 2)
    assert short.with_(name="cpu", epochs=5, source=cpu.source) == cpu


def test_the_store_key_changes_with_any_setting_and_only_then() -> None:
    cpu = get_protocol("cpu")
    assert cpu.key == f"cpu@{cpu.digest()}" and len(cpu.digest()) == 10
    # Same settings: same key whatever the source text; a changed setting: a new key
    # under the same name (a retuned protocol never reads the old results back).
    assert cpu.with_(source="other words").key == cpu.key
    assert cpu.with_(lr=cpu.lr * 2).key != cpu.key
    assert cpu.with_(lr=cpu.lr * 2).key.startswith("cpu@")
    assert cpu.with_(name="renamed").digest() == cpu.digest()
    assert len({p.digest() for p in PROTOCOLS.values()}) == len(PROTOCOLS)
