"""Leeds Sports Pose (LSP) to COCO json, in the 16-keypoint MPII layout.

Raw layout::

    <root>/joints.mat   'joints': (3, 14, 2000) x, y, flag (LSP);
                                  (14, 3, 10000) (LSP-extended, read too)
    <root>/images/im%04d.jpg   (LSP-extended: im%05d.jpg)

LSP's 14 joints (0-5 right ankle, knee, hip, left hip, knee, ankle; 6-11 right wrist, elbow,
shoulder, left shoulder, elbow, wrist; 12 neck, 13 head top) map onto MPII's 16 by
``LSP_TO_MPII``: the neck becomes the upper neck; pelvis and thorax, which LSP lacks, are stored
as not labelled.

The flag. Both releases' readmes call the third value "visibility", but in the original LSP it
is reported to be set for OCCLUDED joints (most joints carry 0), while LSP-extended sets it for
visible ones; no copy of either was at hand to check. Hence ``visibility``:
``'flag_is_occluded'``, ``'flag_is_visible'``, ``'ignore_flag'`` (every joint labelled and
visible: LSP places occluded joints too) or the default ``'auto'``, which takes
``flag_is_occluded`` for the (3, 14, N) original and ``flag_is_visible`` for the (14, 3, N)
extended file. With the right choice most joints are visible: the outputs' ``num_keypoints``
show it. A joint marked not visible is stored with ``v = 0``.

Splits: the first ``num_train`` (1000) images train, the rest test; ``'all'`` takes every image,
as the reference does (it adapts to all 2000). Image ids are LSP's image numbers (from 1); image
sizes are read from the files. Outputs ``lsp_<split>.json``.
"""
import os.path as osp
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import scipy.io

from .coco_writer import (BODY16, CocoBuilder, ConversionError, check_array, finish,
                          read_image_size, require_image)

# for each MPII joint, its LSP joint (None: LSP lacks it)
LSP_TO_MPII = (0, 1, 2, 3, 4, 5, None, None, 12, 13, 6, 7, 8, 9, 10, 11)
VISIBILITY = ('auto', 'flag_is_visible', 'flag_is_occluded', 'ignore_flag')
SPLITS = ('train', 'test', 'all')


def load_lsp_joints(mat_file: str) -> Tuple[np.ndarray, bool]:
    """LSP's joints as ``(N, 14, 3)`` and whether the file is LSP-extended's ``(14, 3, N)``."""
    try:
        mat = scipy.io.loadmat(mat_file, variable_names=['joints'])
    except Exception as e:  # scipy raises several types for an unreadable file
        raise ConversionError(f'{mat_file}: cannot be read as a .mat file ({e})') from None
    if 'joints' not in mat:
        raise ConversionError(f'{mat_file}: field `joints` is missing; expected (3, 14, N) or '
                              '(14, 3, N) x, y, flag')
    joints = check_array(mat['joints'], [(3, 14, None), (14, 3, None)],
                         f'{mat_file}: field `joints`', 'x, y, flag of 14 joints per image')
    extended = joints.shape[0] == 14
    return joints.transpose(2, 0, 1) if extended else joints.transpose(2, 1, 0), extended


def convert_lsp(root: str,
                out_dir: Optional[str] = None,
                splits: Sequence[str] = ('train', 'test'),
                num_train: int = 1000,
                visibility: str = 'auto',
                image_pattern: Optional[str] = None) -> Dict[str, dict]:
    """Convert LSP's ``joints.mat`` to ``lsp_<split>.json``.

    Args:
        root (str): the folder holding ``joints.mat`` and ``images/``.
        out_dir (str, optional): where to write the json files; None writes nothing.
        splits (Sequence[str]): of ``'train'`` (first ``num_train`` images), ``'test'`` (the
            rest), ``'all'``.
        num_train (int): how many images (from the first) train.
        visibility (str): how to read the flag, one of ``VISIBILITY`` (see the module).
        image_pattern (str, optional): image file names in ``images/``; by default
            ``im%04d.jpg`` (LSP) or ``im%05d.jpg`` (LSP-extended).

    Returns:
        dict: ``{file name: COCO dict}``.
    """
    if visibility not in VISIBILITY or not set(splits) <= set(SPLITS):
        raise ConversionError(f'visibility must be one of {VISIBILITY} (got {visibility!r}) '
                              f'and splits some of {SPLITS} (got {list(splits)})')
    mat_file = osp.join(root, 'joints.mat')
    joints, extended = load_lsp_joints(mat_file)
    if visibility == 'auto':
        visibility = 'flag_is_visible' if extended else 'flag_is_occluded'
    image_pattern = image_pattern or ('im%05d.jpg' if extended else 'im%04d.jpg')
    ranges = dict(train=range(min(num_train, len(joints))), test=range(num_train, len(joints)),
                  all=range(len(joints)))
    lsp_index = [0 if j is None else j for j in LSP_TO_MPII]
    labelled = np.array([j is not None for j in LSP_TO_MPII])
    builders = {}
    for split in splits:
        builder = builders[f'lsp_{split}.json'] = CocoBuilder(
            BODY16, f'LSP{"-extended" if extended else ""} {split}, flag read as {visibility}, '
            'MPII 16-keypoint layout')
        for i in ranges[split]:
            file_name = f'images/{image_pattern % (i + 1)}'
            path = require_image(root, file_name, f'{mat_file}: image {i + 1} (index {i})')
            flag = joints[i, lsp_index, 2] > 0
            visible = labelled & {'flag_is_visible': flag, 'flag_is_occluded': ~flag,
                                  'ignore_flag': True}[visibility]
            width, height = read_image_size(path)
            builder.add(i + 1, file_name, width, height, joints[i, lsp_index, :2], visible)
    return finish(builders, out_dir)
