"""Converters from the raw public formats of the paper's datasets to COCO keypoint json, in the
plugin's shared layouts (hands: ``metainfo/hand21.py``; bodies: ``metainfo/body16.py``).

One module per dataset, each with a ``convert_<name>`` function that returns ``{file name: COCO
dict}`` and writes the files when given an output folder; ``tools/dataset_converters/*2coco.py``
are their command lines. What they share (checks, boxes, the all-or-nothing write) is in
``coco_writer``.
"""
from .coco_writer import ConversionError, write_outputs
from .freihand import convert_freihand
from .h3d import convert_h3d
from .h36m import convert_h36m
from .lsp import convert_lsp
from .rhd import convert_rhd
from .surreal import convert_surreal

__all__ = [
    'ConversionError', 'write_outputs', 'convert_rhd', 'convert_h3d', 'convert_freihand',
    'convert_surreal', 'convert_h36m', 'convert_lsp'
]
