"""A dSprites-style toy task (the paper's section 5.1, Table 1): one keypoint, three domains.

Why it exists: the paper's dSprites experiment shows how the size of the output space changes
the adversarial regressor's game (Eq. 15 narrows the ground-false distribution from the whole
64 x 64 heatmap to the central area A), and its three domains can be drawn procedurally in a
few seconds on a CPU, so the experiment runs where the real files cannot be downloaded.

Each image is 64 x 64 and shows one shape of dSprites -- a square, an ellipse or a heart -- at a
random scale, rotation and position. The one keypoint is the shape's centre (the centroid of its
area); it always lies in the paper's A, rows and columns 16..47 (:data:`KEYPOINT_AREA`), as the
positions of dSprites do. The three domains of the adaptation variant of dSprites:

- ``color``: the shape in a random bright colour on a black background;
- ``noisy``: the shape in white on a background of uniform colour noise, drawn per pixel;
- ``scream``: the background a smooth painting-like texture of swirling bands of saturated
  colours (procedural, in the spirit of Munch's *The Scream* that the real variant crops), and
  the shape's pixels the colour inverse of the background under them.

Shapes, scales, rotations and positions come from the same distribution in every domain: only
the appearance shifts. Pixel ``(row i, column j)`` has its centre at ``(x, y) = (j, i)``, mmpose's
convention, so a crop of the whole image maps keypoints to the 64 x 64 heatmap one to one.

Images are cached as PNG files with a COCO json per (domain, split) (see
:mod:`~mmpose_regda.datasets.procedural_cache`), and read like real data.
"""
import functools
from typing import Dict, List, NamedTuple, Tuple

import cv2
import numpy as np

from . import procedural_cache

IMAGE_SIZE = 64
# part of the cache path: a change to the drawing must not reuse images drawn before it
GENERATOR_VERSION = 1
#: the paper's A: the first and last row (and column) where keypoints appear, inclusive
KEYPOINT_AREA = (16, 47)
SHAPES = ('square', 'ellipse', 'heart')
DOMAINS = ('color', 'noisy', 'scream')
#: dSprites' scale factor range; a shape at scale 1 reaches at most 1.1 x :data:`MAX_RADIUS`
#: pixels from its centre (a square's corner), so every shape stays inside the image wherever
#: its centre is in A
SCALE_RANGE = (0.5, 1.0)
MAX_RADIUS = 12.
#: sub-samples per pixel side: edges are anti-aliased by the fraction of the pixel covered
SUPERSAMPLING = 4
#: The Scream's palette, BGR: the orange and red sky, its yellow, the blue fjord and its dark green
SCREAM_PALETTE = np.array([[20, 110, 240], [30, 50, 200], [40, 200, 250], [150, 80, 20],
                           [70, 90, 30]], np.float32)
#: everything that changes the drawing, hashed into the cache path
PARAMETERS = dict(image_size=IMAGE_SIZE, keypoint_area=KEYPOINT_AREA, shapes=SHAPES,
                  scale_range=SCALE_RANGE, max_radius=MAX_RADIUS, supersampling=SUPERSAMPLING,
                  scream_palette=SCREAM_PALETTE.tolist())


class Sprite(NamedTuple):
    """The factors of one image, as dSprites' latents.

    Attributes:
        shape (str): one of :data:`SHAPES`.
        scale (float): in :data:`SCALE_RANGE`.
        rotation (float): radians, counter-clockwise on screen.
        center (np.ndarray): (2,) the keypoint (x, y) in pixels, inside :data:`KEYPOINT_AREA`.
    """
    shape: str
    scale: float
    rotation: float
    center: np.ndarray


def sample_sprite(rng: np.random.RandomState) -> Sprite:
    """A random shape, scale, rotation and centre (uniform in A, continuous)."""
    low, high = KEYPOINT_AREA
    return Sprite(shape=SHAPES[rng.randint(len(SHAPES))],
                  scale=float(rng.uniform(*SCALE_RANGE)),
                  rotation=float(rng.uniform(0, 2 * np.pi)),
                  center=rng.uniform(low, high, size=2).astype(np.float32))


@functools.lru_cache()
def _heart_centroid_height() -> float:
    """Height of the centroid of the heart ``(x^2 + y^2 - 1)^3 <= x^2 y^3`` (y up): the heart
    is drawn shifted by it, so that its centre of area -- the keypoint -- is its origin."""
    x, y = np.meshgrid(np.linspace(-1.5, 1.5, 1201), np.linspace(-1.5, 1.5, 1201))
    inside = (x**2 + y**2 - 1)**3 - x**2 * y**3 <= 0
    return float(y[inside].mean())


def _inside(shape: str, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Which points (u, v) of the shape's own frame (unit size, v down) are inside it."""
    if shape == 'square':
        return np.maximum(np.abs(u), np.abs(v)) <= 0.75
    if shape == 'ellipse':  # elongated, as dSprites' ellipse, so that its rotation shows
        return (u / 1.0)**2 + (v / 0.5)**2 <= 1
    if shape == 'heart':  # the classic implicit heart, point down, about 1.2 units tall
        x, y = u / 0.85, -v / 0.85 + _heart_centroid_height()
        return (x**2 + y**2 - 1)**3 - x**2 * y**3 <= 0
    raise ValueError(f'unknown shape {shape!r}; expected one of {SHAPES}')


def shape_coverage(sprite: Sprite, size: int = IMAGE_SIZE) -> np.ndarray:
    """(size, size) float32 in [0, 1]: the fraction of each pixel the shape covers, from
    :data:`SUPERSAMPLING` x :data:`SUPERSAMPLING` samples per pixel."""
    offsets = (np.arange(SUPERSAMPLING) + 0.5) / SUPERSAMPLING - 0.5
    axis = (np.arange(size)[:, None] + offsets[None, :]).reshape(-1)
    y, x = np.meshgrid(axis, axis, indexing='ij')
    radius = sprite.scale * MAX_RADIUS
    dx, dy = x - sprite.center[0], y - sprite.center[1]
    # into the shape's frame: undo a counter-clockwise (on screen, y down) rotation
    c, s = np.cos(sprite.rotation), np.sin(sprite.rotation)
    u = (c * dx - s * dy) / radius
    v = (s * dx + c * dy) / radius
    inside = _inside(sprite.shape, u, v).astype(np.float32)
    return inside.reshape(size, SUPERSAMPLING, size, SUPERSAMPLING).mean(axis=(1, 3))


def scream_texture(rng: np.random.RandomState, size: int = IMAGE_SIZE) -> np.ndarray:
    """(size, size, 3) float32 BGR in [0, 255]: swirling bands of the Scream's colours.

    Bands of a cyclic palette follow a spiral around a random centre (phase growing with the
    radius and turning with the angle), bent by a smooth random warp, then softened a little:
    smooth and saturated like a painting, with strong large-scale structure unlike the noise
    of ``noisy``.
    """
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    cx, cy = rng.uniform(0.1, 0.9, 2)
    radius = np.sqrt((xx - cx)**2 + (yy - cy)**2)
    angle = np.arctan2(yy - cy, xx - cx)
    warp = cv2.resize(rng.uniform(-1, 1, (4, 4)).astype(np.float32), (size, size),
                      interpolation=cv2.INTER_CUBIC)
    bands = rng.uniform(1.5, 4.)  # palette cycles from the centre to a corner
    turns = rng.choice([-2, -1, 1, 2])  # an integer: the spiral closes around the centre
    phase = bands * radius + turns * angle / (2 * np.pi) + 0.25 * warp + rng.uniform(0, 1)
    palette = SCREAM_PALETTE[rng.permutation(len(SCREAM_PALETTE))]
    position = (phase % 1.) * len(palette)
    index = np.floor(position).astype(int) % len(palette)
    blend = (position - np.floor(position))[..., None]
    texture = palette[index] * (1 - blend) + palette[(index + 1) % len(palette)] * blend
    texture = cv2.GaussianBlur(texture, (0, 0), 0.8) * rng.uniform(0.85, 1.15)
    return np.clip(texture, 0, 255)


def background(domain: str, rng: np.random.RandomState) -> np.ndarray:
    """(64, 64, 3) float32 BGR: the background of ``domain`` under the shape."""
    if domain == 'color':
        return np.zeros((IMAGE_SIZE, IMAGE_SIZE, 3), np.float32)
    if domain == 'noisy':
        return rng.uniform(0, 255, (IMAGE_SIZE, IMAGE_SIZE, 3)).astype(np.float32)
    if domain == 'scream':
        return scream_texture(rng)
    raise ValueError(f'domain must be one of {DOMAINS}, got {domain!r}')


def compose(domain: str, backdrop: np.ndarray, coverage: np.ndarray,
            rng: np.random.RandomState) -> np.ndarray:
    """Paint the shape (``coverage``, (64, 64) in [0, 1]) over ``backdrop`` in the colours of
    ``domain``; BGR uint8."""
    if domain == 'color':
        colour = rng.uniform(0.3, 1., 3)
        foreground = np.broadcast_to(255 * colour / colour.max(), backdrop.shape)  # bright
    elif domain == 'noisy':
        foreground = np.full_like(backdrop, 255)
    elif domain == 'scream':
        foreground = 255 - backdrop
    else:
        raise ValueError(f'domain must be one of {DOMAINS}, got {domain!r}')
    alpha = coverage[..., None]
    return np.round(backdrop * (1 - alpha) + foreground * alpha).astype(np.uint8)


def render(sprite: Sprite, domain: str, rng: np.random.RandomState) -> np.ndarray:
    """The image of ``sprite`` in ``domain``; (64, 64, 3) BGR uint8."""
    return compose(domain, background(domain, rng), shape_coverage(sprite), rng)


def generate(domain: str, num_images: int, seed: int) -> Tuple[List[np.ndarray],
                                                                List[np.ndarray]]:
    """``num_images`` images of one domain and their keypoints ((1, 2) arrays), deterministic
    in the seed."""
    if domain not in DOMAINS:
        raise ValueError(f'domain must be one of {DOMAINS}, got {domain!r}')
    # one stream per domain: the same seed gives different sprites in each
    rng = np.random.RandomState([seed, DOMAINS.index(domain)])
    images, keypoints = [], []
    for _ in range(num_images):
        sprite = sample_sprite(rng)
        images.append(render(sprite, domain, rng))
        keypoints.append(sprite.center[None].copy())
    return images, keypoints


def to_coco(file_names: List[str], keypoints: List[np.ndarray]) -> Dict:
    """COCO keypoint json: the keypoint visible, the box the whole image (the readers need one;
    the pipeline crops the whole image with ``GetWholeImageCenterScale``)."""
    return procedural_cache.keypoints_to_coco(
        file_names, keypoints, IMAGE_SIZE, category='sprite',
        boxes=[[0, 0, IMAGE_SIZE, IMAGE_SIZE]] * len(file_names))


def ensure_split(root: str, domain: str, split: str, num_images: int, seed: int) -> str:
    """Generate ``<root>/<domain>_<split>/`` (images + ``annotations.json``) unless it is
    already there; returns the folder. Atomic: see
    :func:`~mmpose_regda.datasets.procedural_cache.ensure_split`."""
    return procedural_cache.ensure_split(root, domain, split, num_images, seed, generate,
                                         to_coco)


def build_synthetic_sprites(domain: str,
                            split: str,
                            num_images: int,
                            seed: int = 0,
                            cache_root: str = 'data/synthetic_sprites',
                            labeled: bool = True,
                            **dataset_kwargs):
    """Registered as the dataset type ``SyntheticSprites``: generates the split on first use
    (cached under ``cache_root/``, one folder per seed, size and generator setting), then reads
    it as real data with the one-keypoint ``sprite1`` metainfo: a ``KeypointCocoDataset`` when
    ``labeled``, else an ``UnlabeledTopdownDataset`` (boxes only).

    Args:
        domain (str): ``'color'``, ``'noisy'`` or ``'scream'``.
        split (str): ``'train'`` or ``'test'`` (another name gets a third stream of images).
        num_images (int): images in the split.
        seed (int): the data seed (not the training seed).
        cache_root (str): where the generated splits are kept.
        labeled (bool): whether the keypoints are read (False for an adaptation target).
        **dataset_kwargs: ``pipeline``, ``test_mode``... for the dataset.
    """
    from mmpose.registry import DATASETS
    from .keypoint_coco_dataset import KeypointCocoDataset, metainfo_file
    if domain not in DOMAINS:
        raise ValueError(f'SyntheticSprites: domain must be one of {DOMAINS}, got {domain!r}')
    if num_images <= 0:
        raise ValueError(f'SyntheticSprites: num_images must be > 0, got {num_images}')
    root = procedural_cache.cache_root(cache_root, seed, num_images,
                                       [GENERATOR_VERSION, PARAMETERS])
    folder = ensure_split(root, domain, split, num_images, seed)
    common = dict(data_root=folder, ann_file='annotations.json', data_prefix=dict(img=''))
    if labeled:
        return KeypointCocoDataset(metainfo=dict(from_file=metainfo_file('sprite1')),
                                   dataset_name=f'synthetic_sprites_{domain}',
                                   data_mode='topdown', **common, **dataset_kwargs)
    return DATASETS.build(dict(type='UnlabeledTopdownDataset', metainfo='sprite1', **common,
                               **dataset_kwargs))
