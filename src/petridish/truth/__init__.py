"""Ground truth: tables of measured scores, the bundled slope table, the MNIST MLP trainer.

``slope_table()`` returns the bundled ``(slopes, accuracies)`` arrays measured with this
package's own trainer (``petridish.truth.mnist_mlp``); ``load_table(path)`` reads a CSV.
``cell_table(name)`` returns a bundled ``(cells, losses)`` language-model table (e.g.
``"nao_ptb"``, measured by ``petridish truth --space nao``: ``petridish.truth.lm.table``).
``TrainingProtocol`` (old name ``Protocol``, kept as an alias) says how that trainer measures.
"""

from petridish.truth.bundled import slope_table, slope_table_protocol
from petridish.truth.cell_tables import cell_table, cell_table_meta, read_cell_table
from petridish.truth.mnist_mlp import Protocol, TrainingProtocol
from petridish.truth.table import SlopeTable, TableError, read_slope_csv


def bundled_table() -> SlopeTable:
    """The bundled slope table as a validated ``SlopeTable``."""
    slopes, accuracies = slope_table()
    return SlopeTable(slopes, accuracies, source="petridish bundled slope table")


__all__ = [
    "Protocol",
    "SlopeTable",
    "TableError",
    "TrainingProtocol",
    "bundled_table",
    "cell_table",
    "cell_table_meta",
    "read_cell_table",
    "read_slope_csv",
    "slope_table",
    "slope_table_protocol",
]
