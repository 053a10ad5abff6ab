"""A procedural two-domain hand benchmark: rendered-looking source, real-looking target.

Why it exists: none of the paper's datasets can be downloaded on a machine without network, and
CI has two CPU cores. This generator draws hands with the shared 21-keypoint layout (wrist, then
each finger base to tip) deterministically from a seed, in two styles:

- ``source`` ("rendered"): a smooth colour gradient behind the hand, flat shading, sharp edges,
  and each finger faintly tinted with its own colour (``finger_tint``) -- the kind of cue a
  renderer gives for free and a model happily uses to tell fingers apart;
- ``target`` ("real"): the tint is gone, the skin tone varies, the background is textured
  clutter with skin-coloured strokes, lighting is uneven, the image is blurred and noisy, and
  objects sometimes occlude part of the hand.

Hand shapes and poses come from the same distribution in both domains: only the appearance
shifts. A source-only model therefore still finds fingers on the target but loses part of the
cue telling them apart, so its wrong predictions land on other keypoints -- the failure RegDA
addresses. ``finger_tint`` sets how much the source model leans on colour: the docs say how it
was calibrated (on the source-only gap, not on RegDA's result).

Images are cached as PNG files with a COCO json per (domain, split), so they are read by
``SharedHandDataset`` / ``UnlabeledTopdownDataset`` like real data.
"""
import json
import math
import os
import os.path as osp
import shutil
import tempfile
from typing import Dict, List, Tuple

import cv2
import numpy as np

IMAGE_SIZE = 160
FINGER_TINTS = np.array([  # BGR, one per finger: thumb, index, middle, ring, little
    [60, 60, 230], [60, 200, 60], [230, 120, 40], [40, 200, 230], [200, 60, 200]], np.float32)
FINGER_WIDTH = np.array([1.25, 1.0, 1.05, 0.95, 0.8])
FINGER_LENGTH = np.array([0.75, 1.0, 1.1, 1.0, 0.8])
SEGMENT_FRACTIONS = np.array([0.45, 0.3, 0.25])


def sample_hand(rng: np.random.RandomState) -> Tuple[np.ndarray, float]:
    """Keypoints (21, 2) of a random hand pose in image pixels, and its scale (palm length)."""
    palm = rng.uniform(30, 40)
    mirror = rng.rand() < 0.5
    rotation = rng.uniform(0, 2 * np.pi)
    center = rng.uniform(IMAGE_SIZE * 0.42, IMAGE_SIZE * 0.58, size=2)

    points = [np.zeros(2)]
    # finger bases: thumb low on the side, the others fanned across the top of the palm
    base_angles = np.radians([-62, -22, -7, 8, 23]) + rng.normal(0, np.radians(4), 5)
    base_dists = np.array([0.5, 1.0, 1.02, 0.98, 0.9]) * palm
    for finger in range(5):
        angle = base_angles[finger]
        base = base_dists[finger] * np.array([math.sin(angle), -math.cos(angle)])
        direction = angle + rng.normal(0, np.radians(10)) + (np.radians(-25) if finger == 0 else 0)
        curl = rng.uniform(0, np.radians(50)) * (1 if rng.rand() < 0.8 else -0.3)
        length = FINGER_LENGTH[finger] * palm * rng.uniform(0.85, 1.15)
        foreshorten = rng.uniform(0.7, 1.0)
        joint = base
        points.append(joint)
        for segment in range(3):
            direction += curl * (0.6 + 0.4 * segment) * (-1 if finger == 0 else 1)
            step = SEGMENT_FRACTIONS[segment] * length * foreshorten
            joint = joint + step * np.array([math.sin(direction), -math.cos(direction)])
            points.append(joint)
    points = np.stack(points)
    points[:, 1] += palm * 0.55  # the wrist below the palm's centre
    if mirror:
        points[:, 0] *= -1
    c, s = math.cos(rotation), math.sin(rotation)
    points = points @ np.array([[c, s], [-s, c]]) + center
    return points.astype(np.float32), palm


def _background(rng, style: str) -> np.ndarray:
    size = IMAGE_SIZE
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    if style == 'source':
        a, b = rng.uniform(40, 220, 3), rng.uniform(40, 220, 3)
        t = (xx * rng.uniform(-1, 1) + yy * rng.uniform(-1, 1))[..., None]
        t = (t - t.min()) / (np.ptp(t) + 1e-6)
        return a * (1 - t) + b * t
    # target: multi-scale texture plus skin-coloured strokes and patches (clutter)
    img = np.zeros((size, size, 3), np.float32)
    for cells, weight in ((4, 90), (12, 50), (40, 25)):
        noise = rng.uniform(0, 1, (cells, cells, 3)).astype(np.float32)
        img += weight * cv2.resize(noise, (size, size), interpolation=cv2.INTER_CUBIC)
    img += rng.uniform(20, 90, 3)
    for _ in range(rng.randint(3, 8)):
        colour = _skin(rng) * rng.uniform(0.6, 1.2)
        p1, p2 = rng.uniform(0, size, 2).astype(int), rng.uniform(0, size, 2).astype(int)
        cv2.line(img, tuple(map(int, p1)), tuple(map(int, p2)), colour.tolist(),
                 int(rng.randint(3, 9)), cv2.LINE_AA)
    return img


def _skin(rng) -> np.ndarray:
    tone = rng.uniform(0, 1)
    light, dark = np.array([170, 195, 235]), np.array([60, 90, 140])  # BGR
    return (light * (1 - tone) + dark * tone).astype(np.float32)


def render(points: np.ndarray, palm: float, rng: np.random.RandomState, style: str,
           finger_tint: float) -> np.ndarray:
    """Draw the hand of ``points`` (21, 2) in the given style; returns a BGR uint8 image."""
    img = _background(rng, style)
    skin = _skin(rng) if style == 'target' else np.array([150, 175, 215], np.float32)
    scale = 16  # sub-pixel precision for cv2's fixed-point drawing
    pts = np.round(points * scale).astype(np.int32)
    width = palm * 0.28

    # the palm: the finger bases and a wrist as wide as the palm
    up = points[9] - points[0]
    side = np.array([-up[1], up[0]]) / (np.linalg.norm(up) + 1e-6) * palm * 0.38
    outline = np.concatenate([points[[1, 2, 5, 9, 13, 17]], points[[0]] + side, points[[0]] - side])
    cv2.fillPoly(img, [cv2.convexHull(np.round(outline * scale).astype(np.int32))],
                 (skin * 0.92).tolist(), cv2.LINE_AA, shift=4)
    for finger in range(5):
        colour = skin
        if style == 'source':
            colour = skin * (1 - finger_tint) + FINGER_TINTS[finger] * finger_tint
        joints = [1 + 4 * finger + j for j in range(4)]
        thickness = max(2, int(round(width * FINGER_WIDTH[finger])))
        for j, (a, b) in enumerate(zip(joints[:-1], joints[1:])):
            shade = colour * (1.0 - 0.06 * j)
            cv2.line(img, tuple(pts[a]), tuple(pts[b]), shade.tolist(), thickness, cv2.LINE_AA,
                     shift=4)
            cv2.circle(img, tuple(pts[b]), int(thickness * scale * 0.45), shade.tolist(), -1,
                       cv2.LINE_AA, shift=4)
        # a crease at each joint: a darker dot, as on a real finger
        for j in joints[1:3]:
            cv2.circle(img, tuple(pts[j]), int(thickness * scale * 0.18),
                       (colour * 0.7).tolist(), -1, cv2.LINE_AA, shift=4)

    if style == 'target':
        # uneven lighting, occluders, blur, sensor noise
        yy, xx = np.mgrid[0:IMAGE_SIZE, 0:IMAGE_SIZE].astype(np.float32) / IMAGE_SIZE
        light = 1 + rng.uniform(-0.35, 0.35) * (xx - 0.5) + rng.uniform(-0.35, 0.35) * (yy - 0.5)
        img = img * light[..., None] * rng.uniform(0.75, 1.2)
        if rng.rand() < 0.35:
            center = points[rng.randint(21)] + rng.normal(0, palm * 0.3, 2)
            axes = tuple(int(v) for v in rng.uniform(palm * 0.25, palm * 0.5, 2))
            cv2.ellipse(img, tuple(int(v) for v in center), axes, rng.uniform(0, 180), 0, 360,
                        rng.uniform(30, 220, 3).tolist(), -1, cv2.LINE_AA)
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.6, 1.4))
        img = img + rng.normal(0, rng.uniform(3, 9), img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def generate(domain: str, num_images: int, seed: int,
             finger_tint: float = 0.35) -> Tuple[List[np.ndarray], List[np.ndarray]]:
    """``num_images`` images of one domain and their keypoints, deterministic in the seed."""
    if domain not in ('source', 'target'):
        raise ValueError(f'domain must be "source" or "target", got {domain!r}')
    # separate streams for the two domains: the same seed gives different hands in each
    rng = np.random.RandomState([seed, 0 if domain == 'source' else 1])
    images, keypoints = [], []
    for _ in range(num_images):
        points, palm = sample_hand(rng)
        images.append(render(points, palm, rng, domain, finger_tint))
        keypoints.append(points)
    return images, keypoints


def to_coco(file_names: List[str], keypoints: List[np.ndarray]) -> Dict:
    """COCO keypoint json of the images: all 21 keypoints visible, box around them."""
    images, annotations = [], []
    for i, (name, points) in enumerate(zip(file_names, keypoints)):
        x0, y0 = points.min(axis=0)
        x1, y1 = points.max(axis=0)
        images.append(dict(id=i, file_name=name, width=IMAGE_SIZE, height=IMAGE_SIZE))
        kpts = np.concatenate([points, np.full((21, 1), 2.)], axis=1)
        annotations.append(
            dict(id=i, image_id=i, category_id=1, iscrowd=0, num_keypoints=21,
                 bbox=[float(x0), float(y0), float(x1 - x0), float(y1 - y0)],
                 area=float((x1 - x0) * (y1 - y0)), keypoints=kpts.reshape(-1).tolist()))
    return dict(images=images, annotations=annotations,
                categories=[dict(id=1, name='hand', supercategory='hand')])


def ensure_split(root: str, domain: str, split: str, num_images: int, seed: int,
                 finger_tint: float = 0.35) -> str:
    """Generate ``<root>/<domain>_<split>/`` (images + ``annotations.json``) unless it is
    already there; returns the folder. Written to a temporary folder and renamed, so an
    interrupted run never leaves a half-written split (and parallel ranks do not collide)."""
    folder = osp.join(root, f'{domain}_{split}')
    if osp.isfile(osp.join(folder, 'annotations.json')):
        return folder
    os.makedirs(root, exist_ok=True)
    split_seed = seed * 1000 + dict(train=0, test=1).get(split, 2)
    images, keypoints = generate(domain, num_images, split_seed, finger_tint)
    tmp = tempfile.mkdtemp(prefix=f'.{domain}_{split}.', dir=root)
    try:
        names = [f'{i:06d}.png' for i in range(num_images)]
        for name, image in zip(names, images):
            cv2.imwrite(osp.join(tmp, name), image)
        with open(osp.join(tmp, 'annotations.json'), 'w') as f:
            json.dump(to_coco(names, keypoints), f)
        try:
            os.rename(tmp, folder)
        except OSError:  # another process finished first: keep its copy
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def build_synthetic_hands(domain: str,
                          split: str,
                          num_images: int,
                          seed: int = 0,
                          finger_tint: float = 0.35,
                          cache_root: str = 'data/synthetic_hands',
                          labeled: bool = True,
                          **dataset_kwargs):
    """Registered as the dataset type ``SyntheticHands``: generates the split on first use
    (cached under ``cache_root/seed<seed>_tint<finger_tint>/``), then reads it as real data:
    ``SharedHandDataset`` when ``labeled``, else ``UnlabeledTopdownDataset`` (boxes only)."""
    from mmpose.registry import DATASETS
    root = osp.join(cache_root, f'seed{seed}_tint{finger_tint:g}_n{num_images}')
    folder = ensure_split(root, domain, split, num_images, seed, finger_tint)
    common = dict(data_root=folder, ann_file='annotations.json', data_prefix=dict(img=''))
    if labeled:
        return DATASETS.build(dict(type='SharedHandDataset', dataset_name=f'synthetic_{domain}',
                                   data_mode='topdown', **common, **dataset_kwargs))
    return DATASETS.build(dict(type='UnlabeledTopdownDataset', metainfo='hand21', **common,
                               **dataset_kwargs))
