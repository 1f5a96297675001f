import json

import numpy as np
import pytest

from petridish import DishConfig


def test_for_slopes_matches_table2_defaults() -> None:
    c = DishConfig.for_slopes()
    assert c.layer_sizes == (10, 1, 1, 10)
    assert (c.n_samples, c.init_scale) == (10, 1.0)
    assert (c.inner_lr, c.inner_l2, c.inner_steps) == (0.01, 1e-5, 250)
    assert (c.outer_lr, c.outer_decay, c.outer_decay_first, c.outer_decay_every) == (
        0.05,
        0.4,
        20,
        30,
    )
    assert (c.outer_l2, c.outer_steps, c.motif_batch) == (1e-5, 60, 40)


def test_overrides_and_json_round_trip() -> None:
    c = DishConfig.for_slopes(n_samples=20, layer_sizes=[10, 2, 2, 10])
    assert c.n_samples == 20 and c.layer_sizes == (10, 2, 2, 10)
    assert DishConfig.from_json(c.to_json()) == c
    assert hash(c) == hash(DishConfig.from_json(c.to_json()))


@pytest.mark.parametrize(
    "field,value",
    [
        ("n_samples", 0),
        ("inner_steps", -1),
        ("inner_lr", 0.0),
        ("outer_lr", float("nan")),
        ("inner_l2", -1e-5),
        ("motif_batch", 1.5),
        ("restarts", True),
        ("outer_steps", True),
        ("retries", False),
        ("patience", True),
        ("init_scale", True),
        ("outer_noise", "0.3"),
        ("min_train_spearman", True),
        ("val_fraction", None),
        ("network", "cnn"),
        ("layer_sizes", (10,)),
    ],
)
def test_bad_config_names_field(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        DishConfig.for_slopes(**{field: value})


def test_unknown_json_field() -> None:
    with pytest.raises(ValueError, match="bogus"):
        DishConfig.from_json({"bogus": 1})


def test_describe_names_the_preset_and_what_differs() -> None:
    assert DishConfig.for_cells().describe() == "DishConfig.for_cells()"
    assert DishConfig.for_slopes().describe() == "DishConfig.for_slopes()"
    text = DishConfig.for_cells(outer_steps=0, outer_loss="pairwise").describe()
    assert text == "DishConfig.for_cells() with outer_steps=0, outer_loss='pairwise'"
    assert DishConfig.for_slopes(n_samples=20).describe().endswith("with n_samples=20")


def test_network_is_validated_by_the_registry_and_its_factory() -> None:
    from petridish.nets import network_names

    assert {"slope_mlp", "cell"} <= set(network_names())
    with pytest.raises(ValueError, match="unknown DishConfig.network 'lstm'; known: "):
        DishConfig.for_slopes(network="lstm")
    # Checks specific to one network come from its factory, naming the field.
    with pytest.raises(ValueError, match="seq_len must be 1, got 3"):
        DishConfig.for_slopes(seq_len=3)
    with pytest.raises(ValueError, match=r"needs layer_sizes \(input, hidden, output\)"):
        DishConfig.for_cells(layer_sizes=(10, 3, 3, 10))
    # The sample shapes are the network's.
    assert DishConfig.for_slopes().input_shape == (10,)
    assert DishConfig.for_slopes().label_shape == (10,)
    assert DishConfig.for_cells(seq_len=4).input_shape == (4, 10)
    assert DishConfig.for_cells(seq_len=4).label_shape == (4, 10)


def test_bad_values_keep_their_messages() -> None:
    with pytest.raises(ValueError, match=r"DishConfig.restarts must be a positive int, got True"):
        DishConfig.for_slopes(restarts=True)
    with pytest.raises(ValueError, match=r"DishConfig.outer_steps must be an int >= 0, got -1"):
        DishConfig.for_slopes(outer_steps=-1)
    with pytest.raises(ValueError, match=r"DishConfig.inner_lr must be finite and > 0, got 0.0"):
        DishConfig.for_slopes(inner_lr=0.0)
    with pytest.raises(ValueError, match=r"DishConfig.outer_l2 must be finite and >= 0, got -1"):
        DishConfig.for_slopes(outer_l2=-1)
    with pytest.raises(ValueError, match=r"min_train_spearman must be in \[-1, 1\], got 1.5"):
        DishConfig.for_slopes(min_train_spearman=1.5)
    # Ints are accepted wherever a float is; NumPy ints become plain ints (JSON-ready).
    assert DishConfig.for_slopes(init_scale=2).init_scale == 2
    cfg = DishConfig.for_slopes(restarts=np.int64(3), patience=np.int32(2))
    assert type(cfg.restarts) is int and type(cfg.patience) is int
    assert cfg == DishConfig.for_slopes(restarts=3, patience=2)
    assert DishConfig.from_json(json.loads(json.dumps(cfg.to_json()))) == cfg
