"""FreiHand to COCO json, in the shared hand order (FreiHand's own).

Raw layout (``FreiHAND_pub_v2``)::

    <root>/training_xyz.json   N x 21 x [x, y, z], camera coordinates in metres
    <root>/training_K.json     N x 3 x 3 camera intrinsics
    <root>/training/rgb/%08d.jpg   4 * N images of 224x224

Image ``i`` shows annotation ``i % N``: the four versions of a frame (``gs``, green screen; then
``hom``, ``sample``, ``auto``: backgrounds composited three ways) are ``N`` apart. Keypoints are
the pinhole projection ``K @ xyz`` divided by depth, all visible (FreiHand has no visibility).

Split: FreiHand's public evaluation set has no 2D labels to train with, so a deterministic holdout
of ``test_fraction`` of the annotations (drawn with ``np.random.RandomState(42).permutation``) is
the test set; all versions of an annotation stay on the same side, so no frame is seen in both.
Image ids are FreiHand's image indices. Outputs ``freihand_train.json``, ``freihand_test.json``.
"""
import json
import os.path as osp
from typing import Dict, Optional, Sequence

import numpy as np

from .coco_writer import (HAND21, CocoBuilder, ConversionError, check_array, finish, holdout,
                          reading, require_image)

VERSIONS = ('gs', 'hom', 'sample', 'auto')
IMAGE_SIZE = 224


def project(xyz: np.ndarray, K: np.ndarray, where: str) -> np.ndarray:
    """The ``(21, 2)`` pixel coordinates of camera-space points ``xyz`` through ``K``."""
    uvw = xyz @ K.T
    if np.any(uvw[:, 2] <= 0):
        raise ConversionError(f'{where}: keypoints {np.flatnonzero(uvw[:, 2] <= 0).tolist()} '
                              'are at or behind the camera (projected depth <= 0)')
    return uvw[:, :2] / uvw[:, 2:]


def _load_list(path: str) -> list:
    with open(path) as f, reading(path, 'json'):
        values = json.load(f)
    if not isinstance(values, list):
        raise ConversionError(f'{path}: expected a list with one entry per annotation, got '
                              f'{type(values).__name__}')
    return values


def convert_freihand(root: str,
                     out_dir: Optional[str] = None,
                     versions: Sequence[str] = ('gs', ),
                     test_fraction: float = 0.1,
                     seed: int = 42) -> Dict[str, dict]:
    """Convert FreiHand's training set to ``freihand_{train,test}.json``.

    Args:
        root (str): the folder holding ``training_xyz.json``, ``training_K.json``, ``training/``.
        out_dir (str, optional): where to write the json files; None writes nothing.
        versions (Sequence[str]): which image versions to include, of ``VERSIONS``.
        test_fraction (float): the share of annotations held out for testing.
        seed (int): the seed of the holdout draw.

    Returns:
        dict: ``{file name: COCO dict}``.
    """
    unknown = set(versions) - set(VERSIONS)
    if unknown:
        raise ConversionError(f'unknown FreiHand versions {sorted(unknown)}; expected some of '
                              f'{VERSIONS}')
    xyz_file, k_file = osp.join(root, 'training_xyz.json'), osp.join(root, 'training_K.json')
    xyz_all, k_all = _load_list(xyz_file), _load_list(k_file)
    if len(xyz_all) != len(k_all):
        raise ConversionError(f'{xyz_file} has {len(xyz_all)} annotations but {k_file} has '
                              f'{len(k_all)}; expected one camera per annotation')
    num = len(xyz_all)
    is_test = holdout(num, int(round(test_fraction * num)), seed)
    points = [
        project(check_array(xyz_all[i], (21, 3), f'{xyz_file}: record {i}', 'x, y, z in metres'),
                check_array(k_all[i], (3, 3), f'{k_file}: record {i}', 'camera intrinsics'),
                f'{xyz_file}: record {i}') for i in range(num)
    ]
    builders = {name: CocoBuilder(HAND21, f'FreiHand training, {split} holdout, versions '
                                  f'{", ".join(versions)}')
                for name, split in (('freihand_train.json', 'train'),
                                    ('freihand_test.json', 'test'))}
    visible = np.ones(21, dtype=bool)
    for version in sorted(versions, key=VERSIONS.index):
        for i in range(num):
            image_id = i + VERSIONS.index(version) * num
            file_name = f'training/rgb/{image_id:08d}.jpg'
            require_image(root, file_name, f'{xyz_file}: record {i} ({version} version)')
            builder = builders['freihand_test.json' if is_test[i] else 'freihand_train.json']
            builder.add(image_id, file_name, IMAGE_SIZE, IMAGE_SIZE, points[i], visible)
    return finish(builders, out_dir)
