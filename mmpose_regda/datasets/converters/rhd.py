"""Rendered Hand Pose (RHD) to COCO json, in the shared hand order.

Raw layout (``RHD_published_v2``)::

    <root>/training/anno_training.pickle      <root>/training/color/%05d.png
    <root>/evaluation/anno_evaluation.pickle  <root>/evaluation/color/%05d.png

Each pickle is ``{sample id: {'uv_vis': (42, 3), 'xyz': (42, 3), 'K': (3, 3)}}``; ``uv_vis``
rows are ``[u, v, visible]`` pixels of the 320x320 image, rows 0-20 the left hand and 21-41 the
right. Within a hand RHD lists the wrist, then each finger from TIP to base; the shared order
goes base to tip, so each finger's four joints are reversed (``RHD_TO_SHARED_ORDER``, the same
permutation the datasets use to read RHD-ordered files).

Each hand is one instance (annotation field ``hand_type``: ``'left'``/``'right'``), kept as the
reference does only if it has more than ``min_visible`` (16) visible keypoints and its box is
more than ``min_box_size`` (64) px on its longer side; the box is the one written, around the
visible keypoints and clipped to the image. Outputs: ``rhd_train.json`` (training) and
``rhd_test.json`` (evaluation).
"""
import os.path as osp
import pickle
from typing import Dict, Optional, Sequence

import numpy as np

from ..keypoint_coco_dataset import RHD_TO_SHARED_ORDER
from .coco_writer import (HAND21, CocoBuilder, ConversionError, finish, read_array, reading,
                          require_image, visible_box)

SPLITS = {'train': 'training', 'test': 'evaluation'}
IMAGE_SIZE = 320
HANDS = (('left', 0), ('right', 21))


def load_rhd_annotations(ann_file: str) -> dict:
    """The ``{sample id: record}`` dict of an RHD pickle (written by Python 2: numpy arrays in
    it need ``encoding='latin1'``)."""
    with open(ann_file, 'rb') as f, reading(ann_file, 'a pickle'):
        annotations = pickle.load(f, encoding='latin1')
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
                splits: Sequence[str] = ('train', 'test')) -> Dict[str, dict]:
    """Convert RHD's pickles to ``rhd_<split>.json``.

    Args:
        root (str): the folder holding ``training/`` and ``evaluation/``.
        out_dir (str, optional): where to write the json files; None writes nothing.
        min_visible (int): keep hands with MORE visible keypoints than this.
        min_box_size (float): keep hands whose box's longer side is MORE than this (px).
        splits (Sequence[str]): ``'train'`` (RHD's training) and/or ``'test'`` (evaluation).

    Returns:
        dict: ``{file name: COCO dict}``.
    """
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
            for hand_type, first in HANDS:
                hand = uv_vis[first:first + 21][RHD_TO_SHARED_ORDER]
                xy, visible = hand[:, :2], hand[:, 2] > 0
                box = visible_box(xy, visible, IMAGE_SIZE, IMAGE_SIZE)
                if visible.sum() <= min_visible:
                    builder.skip(f'with at most {min_visible} visible keypoints')
                elif max(box[2:]) <= min_box_size:
                    builder.skip(f'with a box of at most {min_box_size:g} px')
                else:
                    builder.add(sample_id, file_name, IMAGE_SIZE, IMAGE_SIZE, xy, visible,
                                bbox=box, hand_type=hand_type)
    return finish(builders, out_dir)
