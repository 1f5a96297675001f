"""The library's one logger. The library never prints; the CLI configures handlers."""

import logging

logger = logging.getLogger("petridish")
logger.addHandler(logging.NullHandler())
