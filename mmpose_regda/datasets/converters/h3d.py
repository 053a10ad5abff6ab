"""Hand-3D-Studio (H3D) to COCO json, in the shared hand order.

THE RAW LAYOUT BELOW IS ASSUMED. H3D's own release could not be obtained while this converter
was written, so it reads a minimal layout defined here; bring a download into it (a short script
over H3D's files) or adapt :func:`load_h3d_records`::

    <root>/images/<any/sub/path>.jpg
    <root>/annotations.json   a list of records:
        {"image": "<any/sub/path>.jpg",   # relative to <root>/images
         "width": 1920, "height": 1080,
         "keypoints": [[x, y], ...]}      # 21 points, or [x, y, v] with v > 0 for visible

Keypoints are in H3D's order, which is the shared one (wrist, then each finger base to tip);
without ``v`` all 21 are visible.

Split, as the reference: ``num_test`` (3200) records drawn with
``np.random.RandomState(42).permutation`` over the records in file order form the test set, the
rest the training set; both keep file order. Image ids are record index + 1. Outputs
``h3d_train.json`` and ``h3d_test.json``.
"""
import json
import os.path as osp
from typing import Dict, Optional

import numpy as np

from .coco_writer import (HAND21, CocoBuilder, ConversionError, finish, holdout, read_array,
                          reading, require_image)


def load_h3d_records(ann_file: str) -> list:
    """The list of records of ``annotations.json``."""
    with open(ann_file) as f, reading(ann_file, 'json'):
        records = json.load(f)
    if not isinstance(records, list):
        raise ConversionError(f'{ann_file}: expected a list of records, got '
                              f'{type(records).__name__}')
    return records


def convert_h3d(root: str, out_dir: Optional[str] = None, num_test: int = 3200,
                seed: int = 42) -> Dict[str, dict]:
    """Convert H3D (assumed layout, see the module) to ``h3d_{train,test}.json``.

    Args:
        root (str): the folder holding ``images/`` and ``annotations.json``.
        out_dir (str, optional): where to write the json files; None writes nothing.
        num_test (int): how many records the test set draws.
        seed (int): the seed of the draw.

    Returns:
        dict: ``{file name: COCO dict}``.
    """
    ann_file = osp.join(root, 'annotations.json')
    records = load_h3d_records(ann_file)
    is_test = holdout(len(records), num_test, seed)
    builders = {name: CocoBuilder(HAND21, f'H3D {split} hands, shared 21-keypoint order')
                for name, split in (('h3d_train.json', 'train'), ('h3d_test.json', 'test'))}
    for index, record in enumerate(records):
        where = f'{ann_file}: record {index}'
        image = record.get('image') if isinstance(record, dict) else None
        if not isinstance(image, str) or not image:
            raise ConversionError(f'{where}: field `image` must be a path relative to '
                                  f'{osp.join(root, "images")}, got {image!r}')
        file_name = f'images/{image}'
        require_image(root, file_name, where)
        width = read_array(record, 'width', (), where, 'image width in px')
        height = read_array(record, 'height', (), where, 'image height in px')
        keypoints = read_array(record, 'keypoints', [(21, 2), (21, 3)], where,
                               '21 keypoints as [x, y] or [x, y, v]')
        visible = keypoints[:, 2] > 0 if keypoints.shape[1] == 3 else np.ones(21, dtype=bool)
        builder = builders['h3d_test.json' if is_test[index] else 'h3d_train.json']
        builder.add(index + 1, file_name, width, height, keypoints[:, :2], visible)
    return finish(builders, out_dir)
