"""Building blocks shared by many models."""

from gancourse.nn.blocks import down_block, up_block

__all__ = ["up_block", "down_block"]
