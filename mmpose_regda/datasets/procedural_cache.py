"""What the procedural benchmarks share: caching generated splits as PNG files + COCO json.

A generator (``synthetic_hands``, ``synthetic_sprites``) draws ``(images, keypoints)`` from a
seed; this module turns them into a folder that mmpose reads like real data, once:

- :func:`cache_root` names the folder of one generator setting. The name carries the seed, the
  size and a hash of everything that changes the drawing (the generator's version and its
  parameters), so a change to the drawing never reuses images drawn before it;
- :func:`ensure_split` generates ``<root>/<domain>_<split>/`` (images and
  ``annotations.json``) unless it is already there. It writes to a temporary folder and renames
  it (:func:`~mmpose_regda.utils.atomic_output`), so an interrupted run never leaves a
  half-written split, a killed one's leftovers are removed by the next run, and parallel ranks
  do not collide;
- :func:`keypoints_to_coco` is the COCO form of the generated keypoints, all visible.
"""
import hashlib
import json
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from ..utils.atomic_output import atomic_output

#: ``generate(domain, num_images, seed) -> (images, keypoints)``: BGR uint8 images and
#: ``(K, 2)`` keypoint arrays, deterministic in the seed.
Generator = Callable[[str, int, int], Tuple[List[np.ndarray], List[np.ndarray]]]
#: ``to_coco(file_names, keypoints) -> dict``: the annotation file of the drawn images.
CocoWriter = Callable[[List[str], List[np.ndarray]], Dict]


def cache_root(cache_dir: str, seed: int, num_images: int, parameters) -> str:
    """``<cache_dir>/seed<seed>_n<num_images>_<hash>``: the folder of one generator setting.

    Args:
        parameters: json-serialisable; everything that changes the drawing (the generator's
            version first). Its sha1 (8 hex digits) ends the folder name.
    """
    key = hashlib.sha1(json.dumps(parameters, sort_keys=True).encode()).hexdigest()[:8]
    return osp.join(cache_dir, f'seed{seed}_n{num_images}_{key}')


def split_seed(seed: int, split: str) -> int:
    """The generator seed of one split: train and test of the same seed never share images."""
    return seed * 1000 + dict(train=0, test=1).get(split, 2)


def ensure_split(root: str, domain: str, split: str, num_images: int, seed: int,
                 generate: Generator, to_coco: CocoWriter) -> str:
    """Generate ``<root>/<domain>_<split>/`` (images + ``annotations.json``) unless it is
    already there; returns the folder.

    The images are ``generate(domain, num_images, split_seed(seed, split))``, written as
    ``000000.png``, ``000001.png``... and described by ``to_coco``. Everything is written to a
    temporary folder beside the split and renamed, so an interrupted run leaves nothing behind;
    if another process finished the same split first, its copy is kept.
    """
    folder = osp.join(root, f'{domain}_{split}')
    if osp.isfile(osp.join(folder, 'annotations.json')):
        return folder
    images, keypoints = generate(domain, num_images, split_seed(seed, split))
    with atomic_output(folder, directory=True) as tmp:
        names = [f'{i:06d}.png' for i in range(num_images)]
        for name, image in zip(names, images):
            cv2.imwrite(osp.join(tmp, name), image)
        with open(osp.join(tmp, 'annotations.json'), 'w') as f:
            json.dump(to_coco(names, keypoints), f)
    return folder


def keypoints_to_coco(file_names: List[str], keypoints: List[np.ndarray], image_size: int,
                      category: str, boxes: Optional[Sequence[Sequence[float]]] = None) -> Dict:
    """COCO keypoint json of square ``image_size`` images, one instance each, every keypoint
    visible.

    Args:
        file_names (list[str]): the image files, relative to the split folder.
        keypoints (list[np.ndarray]): ``(K, 2)`` per image, in pixels.
        image_size (int): the images' side.
        category (str): name and supercategory of the one category.
        boxes (list, optional): ``[x, y, w, h]`` per image; by default the tight box around the
            keypoints (the top-down pipeline pads it).
    """
    images, annotations = [], []
    for i, (name, points) in enumerate(zip(file_names, keypoints)):
        if boxes is None:
            x0, y0 = points.min(axis=0)
            x1, y1 = points.max(axis=0)
            box = [float(x0), float(y0), float(x1 - x0), float(y1 - y0)]
            area = float((x1 - x0) * (y1 - y0))  # in the keypoints' dtype, as always written
        else:
            box = [float(v) for v in boxes[i]]
            area = box[2] * box[3]
        images.append(dict(id=i, file_name=name, width=image_size, height=image_size))
        num_keypoints = len(points)
        kpts = np.concatenate([points, np.full((num_keypoints, 1), 2.)], axis=1)
        annotations.append(
            dict(id=i, image_id=i, category_id=1, iscrowd=0, num_keypoints=num_keypoints,
                 bbox=box, area=area, keypoints=kpts.reshape(-1).tolist()))
    return dict(images=images, annotations=annotations,
                categories=[dict(id=1, name=category, supercategory=category)])
