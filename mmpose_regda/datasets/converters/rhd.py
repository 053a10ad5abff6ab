"""Rendered Hand Pose (RHD) to COCO json, in the shared hand order.

Raw layout (``RHD_published_v2``)::

    <root>/training/anno_training.pickle      <root>/training/color/%05d.png
    <root>/evaluation/anno_evaluation.pickle  <root>/evaluation/color/%05d.png

Each pickle is ``{sample id: {'uv_vis': (42, 3), 'xyz': (42, 3), 'K': (3, 3)}}``; ``uv_vis``
rows are ``[u, v, visible]`` pixels of the 320x320 image, rows 0-20 the left hand and 21-41 the
right. Within a hand RHD lists the wrist, then each finger from TIP to base; the shared order
goes base to tip, so each finger's four joints are reversed (``RHD_TO_SHARED_ORDER``, the same
permutation the datasets use to read RHD-ordered files).

Each hand is one instance (annotation field ``hand_type``: ``'left'``/``'right'``, which
``MirrorToChirality`` reads to mirror right hands as the reference does), kept only if it has
more than ``min_visible`` (16) visible keypoints and is more than ``min_box_size`` (64) px on
its longer side. Outputs: ``rhd_train.json`` (training) and ``rhd_test.json`` (evaluation).

By default the box written and measured is the tight box of the visible keypoints, clipped to
the image. The reference implementation selects and crops hands differently; each of its rules
is an option (all three: ``--reference`` on the command line):

- ``box='all'``: the box of all 21 keypoints, hidden ones included (RHD gives their
  positions), which is the box the reference crops around;
- ``size_of='crop'``: ``min_box_size`` is compared with the reference's crop of that box (a
  square 1.5 times its longer side, kept in the image: ``reference_square_box``), not with the
  box: hands from about 43 px are kept;
- ``max_overlap=0.3``: a hand is left out when the other hand's box (all keypoints) covers at
  least this fraction of its crop, so that a crop rarely shows two hands.
"""
import os.path as osp
from typing import Dict, Optional, Sequence

import numpy as np

from ..keypoint_coco_dataset import RHD_TO_SHARED_ORDER
from ..transforms.square_crop import reference_square_box
from .coco_writer import (HAND21, CocoBuilder, ConversionError, finish, read_array, reading,
                          require_image, visible_box)
from .safe_pickle import load_pickle

SPLITS = {'train': 'training', 'test': 'evaluation'}
IMAGE_SIZE = 320
HANDS = (('left', 0), ('right', 21))
# the reference's crop: a square 1.5 times the keypoints' box
REFERENCE_CROP_PADDING = 1.5


def load_rhd_annotations(ann_file: str) -> dict:
    """The ``{sample id: record}`` dict of an RHD pickle (written by Python 2: numpy arrays in
    it need ``encoding='latin1'``), read by the restricted unpickler: a crafted file that names
    anything but numpy arrays and plain containers is refused before it runs."""
    with reading(ann_file, 'a pickle'):
        annotations = load_pickle(ann_file, encoding='latin1')
    if not isinstance(annotations, dict):
        raise ConversionError(f'{ann_file}: expected a dict {{sample id: record}}, got '
                              f'{type(annotations).__name__}')
    for sample_id in annotations:
        if not isinstance(sample_id, (int, np.integer)):
            raise ConversionError(f'{ann_file}: sample id {sample_id!r} is not an integer '
                                  '(images are named color/%05d.png after it)')
    return annotations


def convert_rhd(root: str,
                out_dir: Optional[str] = None,
                min_visible: int = 16,
                min_box_size: float = 64.,
                splits: Sequence[str] = ('train', 'test'),
                box: str = 'visible',
                size_of: str = 'box',
                max_overlap: Optional[float] = None) -> Dict[str, dict]:
    """Convert RHD's pickles to ``rhd_<split>.json``.

    Args:
        root (str): the folder holding ``training/`` and ``evaluation/``.
        out_dir (str, optional): where to write the json files; None writes nothing.
        min_visible (int): keep hands with MORE visible keypoints than this.
        min_box_size (float): keep hands whose box (or crop, see ``size_of``) is MORE than this
            on its longer side (px).
        splits (Sequence[str]): ``'train'`` (RHD's training) and/or ``'test'`` (evaluation).
        box (str): the box written: ``'visible'`` (tight box of the visible keypoints) or
            ``'all'`` (of all 21 keypoints, as the reference). Both clipped to the image.
        size_of (str): what ``min_box_size`` measures: ``'box'`` (the written box) or
            ``'crop'`` (the reference's square crop around all keypoints).
        max_overlap (float, optional): leave out a hand when the other hand's box covers at
            least this fraction of its crop (the reference: 0.3). None keeps overlapping hands.

    Returns:
        dict: ``{file name: COCO dict}``.
    """
    if box not in ('visible', 'all') or size_of not in ('box', 'crop'):
        raise ConversionError(f"RHD: box must be 'visible' or 'all' (got {box!r}) and size_of "
                              f"'box' or 'crop' (got {size_of!r})")
    builders = {}
    for split in splits:
        folder = SPLITS[split]
        ann_file = osp.join(root, folder, f'anno_{folder}.pickle')
        builder = builders[f'rhd_{split}.json'] = CocoBuilder(
            HAND21, f'RHD {folder} hands, shared 21-keypoint order')
        for sample_id, record in sorted(load_rhd_annotations(ann_file).items()):
            where = f'{ann_file}: sample {sample_id}'
            uv_vis = read_array(record, 'uv_vis', (42, 3), where,
                                '[u, v, visible] for 21 left-hand then 21 right-hand keypoints')
            file_name = f'{folder}/color/{sample_id:05d}.png'
            require_image(root, file_name, where)
            hands = {hand_type: uv_vis[first:first + 21][RHD_TO_SHARED_ORDER]
                     for hand_type, first in HANDS}
            for hand_type, hand in hands.items():
                xy, visible = hand[:, :2], hand[:, 2] > 0
                written = visible if box == 'visible' else np.ones(len(xy), dtype=bool)
                bbox = visible_box(xy, written, IMAGE_SIZE, IMAGE_SIZE)
                crop = reference_square_box(keypoint_box(xy), IMAGE_SIZE, IMAGE_SIZE,
                                            REFERENCE_CROP_PADDING)
                size = (max(crop[2] - crop[0], crop[3] - crop[1]) if size_of == 'crop'
                        else max(bbox[2:]))
                other = hands['right' if hand_type == 'left' else 'left'][:, :2]
                if visible.sum() <= min_visible:
                    builder.skip(f'with at most {min_visible} visible keypoints')
                elif size <= min_box_size:
                    builder.skip(f'with a {size_of} of at most {min_box_size:g} px')
                elif max_overlap is not None and overlap(crop, keypoint_box(other)) >= max_overlap:
                    builder.skip(f'whose crop the other hand covers by at least {max_overlap:g}')
                else:
                    builder.add(sample_id, file_name, IMAGE_SIZE, IMAGE_SIZE, xy, visible,
                                bbox=bbox, hand_type=hand_type)
    return finish(builders, out_dir)


def keypoint_box(xy: np.ndarray) -> tuple:
    """``(x0, y0, x1, y1)`` around all the points, not clipped (the reference's
    ``get_bounding_box``)."""
    return (*xy.min(axis=0), *xy.max(axis=0))


def overlap(crop: tuple, other: tuple) -> float:
    """The share of ``crop`` (inclusive pixel corners) that the box ``other`` covers, with the
    reference's ``area`` (``(right - left + 1) * (lower - upper + 1)``, 0 when empty)."""
    def area(left, upper, right, lower):
        return max(right - left + 1, 0) * max(lower - upper + 1, 0)
    inter = (max(crop[0], other[0]), max(crop[1], other[1]), min(crop[2], other[2]),
             min(crop[3], other[3]))
    return area(*inter) / area(*crop)
