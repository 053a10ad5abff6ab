"""Config code shipped with the package (mmpose ships its own as ``mmpose.configs``): the pieces
that make a stock MMPose config an adaptation config (:mod:`.adaptation`)."""
from . import adaptation

__all__ = ['adaptation']
