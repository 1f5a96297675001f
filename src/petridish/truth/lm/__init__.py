"""Language-model ground truth for recurrent cells (Penn Treebank, WikiText-2).

``LanguageModelEvaluator(corpus="ptb", protocol="cpu")`` trains any ``Cell`` as a word-level
language model and reports its validation loss; ``train_cells`` is the batched trainer
underneath; ``PROTOCOLS`` the named training protocols (``nao``, ``darts_search``,
``nasbench_nlp``, ``cpu``).
"""

from petridish.truth.lm.evaluator import LanguageModelEvaluator, outcome_from_result
from petridish.truth.lm.protocols import PROTOCOLS, LMProtocol, darts_search, get_protocol
from petridish.truth.lm.trainer import LMResult, train_cells, unigram_perplexity

__all__ = [
    "PROTOCOLS",
    "LMProtocol",
    "LMResult",
    "LanguageModelEvaluator",
    "darts_search",
    "get_protocol",
    "outcome_from_result",
    "train_cells",
    "unigram_perplexity",
]
