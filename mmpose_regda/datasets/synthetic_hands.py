"""A procedural two-domain hand benchmark: rendered-looking source, real-looking target.

Why it exists: none of the paper's datasets can be downloaded on a machine without network, and
CI has two CPU cores. This generator draws hands with the shared 21-keypoint layout (wrist, then
each finger base to tip) deterministically from a seed, in these domains:

- ``source`` ("rendered"): one skin tone, flat shading, sharp edges and no noise, on a random
  texture, and each finger tinted with its own colour, more or less strongly from image to image
  (``finger_tint``) -- the kind of cue a renderer gives for free and a model happily uses to
  tell fingers apart;
- ``target`` ("real"): the tint is gone, the skin tone varies, the background has clutter with
  skin-coloured strokes, lighting is uneven, the image is blurred and noisy, and objects
  sometimes occlude part of the hand. Hand shapes and poses come from the source's
  distribution: only the appearance shifts. A source-only model therefore still finds fingers
  on the target but loses part of the cue telling them apart, so its wrong predictions land on
  other keypoints -- the failure RegDA addresses;
- ``target_pose``: the target's appearance, and pose and viewpoint of its own (ten people, hands
  grasping, tilted out of plane), as the paper's RHD -> H3D shifts pose and viewpoint too.

``finger_tint`` sets how much the source model leans on colour: ``docs/results.md`` says how the
styles were calibrated (on the source-only and oracle models, never on RegDA's result).

Images are cached as PNG files with a COCO json per (domain, split), so they are read by
``SharedHandDataset`` / ``UnlabeledTopdownDataset`` like real data.
"""
import functools
import math
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np

from . import procedural_cache

IMAGE_SIZE = 160
# part of the cache path: a change to the drawing must not reuse images drawn before it
GENERATOR_VERSION = 2
FINGER_TINTS = np.array([  # BGR, one per finger: thumb, index, middle, ring, little
    [60, 60, 230], [60, 200, 60], [230, 120, 40], [40, 200, 230], [200, 60, 200]], np.float32)
FINGER_WIDTH = np.array([1.25, 1.0, 1.05, 0.95, 0.8])
FINGER_LENGTH = np.array([0.75, 1.0, 1.1, 1.0, 0.8])
SEGMENT_FRACTIONS = np.array([0.45, 0.3, 0.25])


def sample_hand(rng: np.random.RandomState, style: Optional[dict] = None
                ) -> Tuple[np.ndarray, float]:
    """Keypoints (21, 2) of a random hand pose in image pixels, and its scale (palm length).

    ``style`` brings the pose and viewpoint factors of :data:`POSE` (its defaults when absent);
    at the defaults the draws are those of the first benchmark, image for image.
    """
    pose = dict(POSE, **{k: v for k, v in (style or {}).items() if k in POSE})
    person = None
    if pose['identities']:
        person = _people(pose['identities'])[rng.randint(pose['identities'])]
        palm = person['palm'] * rng.uniform(0.97, 1.03)
    else:
        palm = rng.uniform(30, 40)
    mirror = rng.rand() < 0.5
    rotation = rng.uniform(0, 2 * np.pi)
    center = rng.uniform(IMAGE_SIZE * 0.42, IMAGE_SIZE * 0.58, size=2)
    grasp = pose['grasp'] > 0 and rng.rand() < pose['grasp']
    if grasp:  # the fingers flex together, as around an object
        grasp_curl = rng.uniform(*np.radians(pose['grasp_curl']))

    points = [np.zeros(2)]
    # finger bases: thumb low on the side, the others fanned across the top of the palm
    base_angles = np.radians([-62, -22, -7, 8, 23]) + rng.normal(0, np.radians(4), 5)
    base_dists = np.array([0.5, 1.0, 1.02, 0.98, 0.9]) * palm
    for finger in range(5):
        angle = base_angles[finger]
        base = base_dists[finger] * np.array([math.sin(angle), -math.cos(angle)])
        direction = angle + rng.normal(0, np.radians(10)) + (np.radians(-25) if finger == 0 else 0)
        curl = rng.uniform(*np.radians(pose['curl'])) * (
            1 if rng.rand() < pose['curl_forward'] else -0.3)
        if grasp:
            curl = grasp_curl * rng.uniform(0.8, 1.1)
        if person is not None:
            length = person['lengths'][finger] * palm * rng.uniform(0.97, 1.03)
        else:
            length = FINGER_LENGTH[finger] * palm * rng.uniform(0.85, 1.15)
        foreshorten = rng.uniform(*pose['foreshorten'])
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
    if pose['tilt'][1] > 0:  # seen from the side: squashed across an axis, by cos(tilt)
        tilt, axis = np.radians(rng.uniform(*pose['tilt'])), rng.uniform(0, np.pi)
        direction = np.array([math.cos(axis), math.sin(axis)])
        along = points @ direction
        points = points - np.outer(along * (1 - math.cos(tilt)), direction)
    c, s = math.cos(rotation), math.sin(rotation)
    points = points @ np.array([[c, s], [-s, c]]) + center
    return points.astype(np.float32), palm


@functools.lru_cache(maxsize=None)
def _people(count: int) -> tuple:
    """The hand shapes of ``count`` people (palm length, finger lengths), fixed for a count:
    the same people in every split."""
    rng = np.random.RandomState([count, 7])
    return tuple(dict(palm=rng.uniform(30, 40),
                      lengths=FINGER_LENGTH * rng.uniform(0.85, 1.15, size=5))
                 for _ in range(count))


#: Pose and viewpoint factors, the same for both domains of the first benchmark (shapes and poses
#: from one distribution, the gap in appearance only). ``curl``: range of each finger's flexion
#: (degrees), bent forward with probability ``curl_forward`` (else slightly backwards);
#: ``grasp``: chance that all fingers flex together by ``grasp_curl`` degrees, as around an
#: object; ``foreshorten``: range of each finger's length as seen (out of plane);
#: ``tilt``: range of the hand's out-of-plane tilt (degrees: squashed by cos(tilt) across a random
#: axis); ``identities``: 0 for a new hand shape every image, N for the shapes of N people.
POSE = dict(curl=(0., 50.), curl_forward=0.8, grasp=0., grasp_curl=(40., 90.),
            foreshorten=(0.7, 1.0), tilt=(0., 0.), identities=0)

#: The two styles. Each factor is one way a real photo differs from a rendering; the target
#: applies them all. ``finger_tint``: range of how strongly each finger carries its own colour
#: (drawn per image: a cue the source model can use, but not on every image);
#: ``skin_tone``: range of the skin tone drawn per image (0 light .. 1 dark; the source always
#: uses 0.2); ``clutter``: range of the number of skin-coloured strokes in the background;
#: ``lighting``: strength of a lighting gradient; ``occluder_prob``: chance of an object over
#: the hand; ``blur`` and ``noise``: ranges of the Gaussian blur and noise std (pixels, levels).
STYLES = dict(
    source=dict(finger_tint=(0., 0.35), skin_tone=(0.2, 0.2), clutter=(0, 0), lighting=0.,
                occluder_prob=0., blur=(0., 0.), noise=(0., 0.)),
    target=dict(finger_tint=(0., 0.), skin_tone=(0., 0.6), clutter=(1, 3), lighting=0.35,
                occluder_prob=0.35, blur=(0.5, 1.2), noise=(2., 6.)),
)
#: The second target: the same "real" appearance, and pose and viewpoint of its own, as in the
#: paper's RHD -> H3D, where rendered hands in varied poses meet the filmed hands of 10 people:
#: ten hand shapes, half of the hands grasping (all fingers flexed together), seen tilted up to
#: 60 degrees out of plane, fingers more foreshortened (see :data:`POSE`). How it was calibrated,
#: on the source-only and oracle models only: docs/results.md.
STYLES['target_pose'] = dict(STYLES['target'], identities=10, grasp=0.5, tilt=(0., 60.),
                             foreshorten=(0.5, 1.0))
#: One random stream per domain: the same seed gives different hands in each.
DOMAIN_STREAMS = dict(source=0, target=1, target_pose=2)


def _background(rng, style: dict) -> np.ndarray:
    """Random multi-scale texture in both domains (a renderer pastes hands on random images,
    as RHD does), plus the style's clutter: skin-coloured strokes that look like fingers."""
    size = IMAGE_SIZE
    img = np.zeros((size, size, 3), np.float32)
    for cells, weight in ((3, 90), (10, 45), (30, 20)):
        noise = rng.uniform(0, 1, (cells, cells, 3)).astype(np.float32)
        img += weight * cv2.resize(noise, (size, size), interpolation=cv2.INTER_CUBIC)
    img += rng.uniform(20, 90, 3)
    low, high = style['clutter']
    for _ in range(rng.randint(low, high + 1)):
        colour = _skin(rng.uniform(0, 1)) * rng.uniform(0.7, 1.1)
        p1, p2 = rng.uniform(0, size, 2), rng.uniform(0, size, 2)
        cv2.line(img, (int(p1[0]), int(p1[1])), (int(p2[0]), int(p2[1])), colour.tolist(),
                 int(rng.randint(3, 7)), cv2.LINE_AA)
    return img


def _skin(tone: float) -> np.ndarray:
    light, dark = np.array([170, 195, 235]), np.array([60, 90, 140])  # BGR
    return (light * (1 - tone) + dark * tone).astype(np.float32)


def render(points: np.ndarray, palm: float, rng: np.random.RandomState,
           style: dict) -> np.ndarray:
    """Draw the hand of ``points`` (21, 2) in a style of :data:`STYLES`; BGR uint8 image."""
    img = _background(rng, style)
    skin = _skin(rng.uniform(*style['skin_tone']))
    scale = 16  # sub-pixel precision for cv2's fixed-point drawing
    pts = np.round(points * scale).astype(np.int32)
    width = palm * 0.28

    # the palm: the finger bases and a wrist as wide as the palm
    up = points[9] - points[0]
    side = np.array([-up[1], up[0]]) / (np.linalg.norm(up) + 1e-6) * palm * 0.38
    outline = np.concatenate([points[[1, 2, 5, 9, 13, 17]], points[[0]] + side,
                              points[[0]] - side])
    cv2.fillPoly(img, [cv2.convexHull(np.round(outline * scale).astype(np.int32))],
                 (skin * 0.92).tolist(), cv2.LINE_AA, shift=4)
    tint = rng.uniform(*style['finger_tint'])
    for finger in range(5):
        colour = skin * (1 - tint) + FINGER_TINTS[finger] * tint
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

    if style['lighting'] > 0:
        yy, xx = np.mgrid[0:IMAGE_SIZE, 0:IMAGE_SIZE].astype(np.float32) / IMAGE_SIZE
        strength = style['lighting']
        light = 1 + rng.uniform(-strength, strength) * (xx - 0.5) + rng.uniform(
            -strength, strength) * (yy - 0.5)
        img = img * light[..., None] * rng.uniform(1 - strength * 0.7, 1 + strength * 0.6)
    if rng.rand() < style['occluder_prob']:
        center = points[rng.randint(21)] + rng.normal(0, palm * 0.3, 2)
        axes = tuple(int(v) for v in rng.uniform(palm * 0.25, palm * 0.5, 2))
        cv2.ellipse(img, tuple(int(v) for v in center), axes, rng.uniform(0, 180), 0, 360,
                    rng.uniform(30, 220, 3).tolist(), -1, cv2.LINE_AA)
    blur = rng.uniform(*style['blur'])
    if blur > 0:
        img = cv2.GaussianBlur(img, (0, 0), blur)
    noise = rng.uniform(*style['noise'])
    if noise > 0:
        img = img + rng.normal(0, noise, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def generate(domain: str, num_images: int, seed: int,
             **style_overrides) -> Tuple[List[np.ndarray], List[np.ndarray]]:
    """``num_images`` images of one domain and their keypoints, deterministic in the seed.
    ``style_overrides`` change factors of the domain's style (see :data:`STYLES`)."""
    if domain not in STYLES:
        raise ValueError(f'domain must be one of {sorted(STYLES)}, got {domain!r}')
    unknown = set(style_overrides) - set(STYLES[domain]) - set(POSE)
    if unknown:
        raise ValueError(f'unknown style factors {sorted(unknown)}; expected some of '
                         f'{sorted(STYLES[domain])} (appearance) or {sorted(POSE)} (pose)')
    style = dict(STYLES[domain], **style_overrides)
    rng = np.random.RandomState([seed, DOMAIN_STREAMS[domain]])
    images, keypoints = [], []
    for _ in range(num_images):
        points, palm = sample_hand(rng, style)
        images.append(render(points, palm, rng, style))
        keypoints.append(points)
    return images, keypoints


def to_coco(file_names: List[str], keypoints: List[np.ndarray]) -> Dict:
    """COCO keypoint json of the images: all 21 keypoints visible, box around them."""
    return procedural_cache.keypoints_to_coco(file_names, keypoints, IMAGE_SIZE, category='hand')


def ensure_split(root: str, domain: str, split: str, num_images: int, seed: int,
                 **style_overrides) -> str:
    """Generate ``<root>/<domain>_<split>/`` (images + ``annotations.json``) unless it is
    already there; returns the folder. Atomic and shared with the other procedural benchmarks:
    see :func:`~mmpose_regda.datasets.procedural_cache.ensure_split`."""
    return procedural_cache.ensure_split(root, domain, split, num_images, seed,
                                         functools.partial(generate, **style_overrides),
                                         to_coco)


def split_folder(domain: str, split: str, num_images: int, seed: int = 0,
                 cache_root: str = 'data/synthetic_hands', style: Optional[dict] = None) -> str:
    """The folder of one generated split (``<cache_root>/<setting>/<domain>_<split>/``),
    generated first if it is not there yet."""
    style = style or {}
    root = procedural_cache.cache_root(cache_root, seed, num_images,
                                       [GENERATOR_VERSION, STYLES, POSE, style])
    return ensure_split(root, domain, split, num_images, seed, **style)


def generate_splits(dataset_cfgs, processes: int = 2) -> None:
    """Generate the splits of ``SyntheticHands`` dataset configs, several at a time.

    Each split draws from its own random stream, so generating them in parallel gives the same
    images as one after the other; a split already cached is not drawn again. The benchmark
    calls this before its first stage, where the datasets would otherwise generate their
    splits one by one.
    """
    keys = ('domain', 'split', 'num_images', 'seed', 'cache_root', 'style')
    jobs = []
    for cfg in dataset_cfgs:
        job = {key: cfg[key] for key in keys if key in cfg}
        if job not in jobs:
            jobs.append(job)
    if processes <= 1 or len(jobs) <= 1:
        for job in jobs:
            split_folder(**job)
        return
    import multiprocessing
    with multiprocessing.get_context('fork').Pool(min(processes, len(jobs))) as pool:
        pool.map(_split_folder_job, jobs)


def _split_folder_job(job: dict) -> str:
    return split_folder(**job)


def build_synthetic_hands(domain: str,
                          split: str,
                          num_images: int,
                          seed: int = 0,
                          cache_root: str = 'data/synthetic_hands',
                          labeled: bool = True,
                          style: Optional[dict] = None,
                          **dataset_kwargs):
    """Registered as the dataset type ``SyntheticHands``: generates the split on first use
    (cached under ``cache_root/``, one folder per seed, size and style), then reads it as real
    data: ``SharedHandDataset`` when ``labeled``, else ``UnlabeledTopdownDataset`` (boxes
    only)."""
    from mmpose.registry import DATASETS
    folder = split_folder(domain, split, num_images, seed, cache_root, style)
    common = dict(data_root=folder, ann_file='annotations.json', data_prefix=dict(img=''))
    if labeled:
        return DATASETS.build(dict(type='SharedHandDataset', dataset_name=f'synthetic_{domain}',
                                   data_mode='topdown', **common, **dataset_kwargs))
    return DATASETS.build(dict(type='UnlabeledTopdownDataset', metainfo='hand21', **common,
                               **dataset_kwargs))
