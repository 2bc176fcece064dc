"""Building blocks shared by many models."""

from gancourse.nn.blocks import down_block, up_block
from gancourse.nn.norm import NORMS, norm_layer
from gancourse.nn.resblocks import (
    FirstResBlockDown,
    ResBlock,
    ResBlockDown,
    ResBlockUp,
)

__all__ = [
    "up_block",
    "down_block",
    "norm_layer",
    "NORMS",
    "ResBlockUp",
    "ResBlockDown",
    "ResBlock",
    "FirstResBlockDown",
]
