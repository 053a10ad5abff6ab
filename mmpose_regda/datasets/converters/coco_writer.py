"""What every dataset converter shares: checking raw records, building the COCO dict, writing it.

The converters read a public dataset's raw files and write COCO keypoint json in one of the
plugin's two layouts (``metainfo/hand21.py``, ``metainfo/body16.py``), as read by mmpose's
``BaseCocoStyleDataset``:

- image: ``id``, ``file_name`` relative to the dataset root, ``width``, ``height``;
- annotation: ``id`` (from 1: COCO evaluation reads 0 as "no match"), ``image_id``,
  ``category_id`` 1, ``iscrowd`` 0, ``keypoints`` flat ``[x, y, v] * K`` with ``v`` 2 for a
  labelled, visible keypoint and 0 otherwise (then ``x = y = 0``), ``num_keypoints`` (how many
  have ``v = 2``), ``bbox`` ``[x, y, w, h]`` and its ``area``;
- ``categories``: one, with the layout's keypoint names and skeleton, read from the metainfo file
  so that they cannot drift from what the datasets load. The skeleton is 1-based, as in COCO's
  own files and mmpose's sample files;
- ``info``: which converter wrote the file and how many instances it filtered out, and why.

Unless a converter has a better box (Human3.6M's), ``bbox`` is the tight box around the visible
keypoints, clipped to the image ``[0, width] x [0, height]``: the top-down pipeline pads it
itself (``GetBBoxCenterScale``). A keypoint outside the image keeps its coordinates: the
datasets' own labels say whether it counts.

Errors: a malformed record raises :class:`ConversionError` naming the file, the record and what
was expected. Outputs are written only once every record of every split has been converted, each
to a temporary file in the output folder that is then renamed over the target
(:func:`write_outputs`), so a bad record or a crash never leaves a half-written file, nor new
outputs of one split beside stale ones of another.
"""
import contextlib
import copy
import functools
import json
import os.path as osp
import pickle
import sys
import zipfile
import zlib
from collections import Counter
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

from ...utils.atomic_output import atomic_output

METAINFO_DIR = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'metainfo')
HAND21 = 'hand21'
BODY16 = 'body16'
# the reason counted for an instance left out because none of its keypoints is visible
NO_VISIBLE = 'with no visible keypoint'

Shape = Tuple[Optional[int], ...]


class ConversionError(ValueError):
    """A raw record that cannot be converted; the message names the file and the record."""


# what json, pickle and numpy raise on a truncated or damaged file
_DECODE_ERRORS = (EOFError, ValueError, pickle.UnpicklingError, zipfile.BadZipFile, zlib.error)


@contextlib.contextmanager
def reading(path: str, kind: str):
    """Inside the block, a decoding error of the raw file ``path`` (truncated or damaged json,
    pickle or npz) becomes a :class:`ConversionError` that names the file."""
    try:
        yield
    except ConversionError:
        raise
    except _DECODE_ERRORS as e:
        raise ConversionError(f'{path}: cannot be read as {kind} ({type(e).__name__}: {e}); the '
                              'file is truncated or damaged: extract or download it '
                              'again') from None


def read_array(record, field: str, shapes: Union[Shape, Sequence[Shape]], where: str,
               meaning: str = '') -> np.ndarray:
    """``record[field]`` as a finite float array of one of the allowed shapes.

    Args:
        record: a dict-like record (a pickle entry, a json object, an ``.npz``, a ``.mat``).
        field (str): the key to read.
        shapes: an allowed shape, or a list of them; ``None`` in a shape matches any length.
        where (str): the file and record, e.g. ``'anno_training.pickle: sample 12'``.
        meaning (str): what the array holds, quoted in the error (``'[u, v, visible] rows'``).

    Raises:
        ConversionError: the field is missing, not numeric, of another shape or not finite.
    """
    try:
        value = record[field]
    except (KeyError, IndexError, TypeError):
        raise ConversionError(f'{where}: field `{field}` is missing; expected an array of '
                              f'shape {_shapes(shapes, meaning)}') from None
    return check_array(value, shapes, f'{where}: field `{field}`', meaning)


def check_array(value, shapes: Union[Shape, Sequence[Shape]], where: str,
                meaning: str = '') -> np.ndarray:
    """``value`` as a finite float array of one of the allowed shapes (see :func:`read_array`);
    ``where`` names the file, the record and the field."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConversionError(f'{where} is not a numeric array (got {_short(value)}); '
                              f'expected shape {_shapes(shapes, meaning)}') from None
    if isinstance(shapes, tuple):
        shapes = [shapes]
    if not any(array.ndim == len(s) and all(n is None or n == m for n, m in zip(s, array.shape))
               for s in shapes):
        raise ConversionError(f'{where} has shape {array.shape}; expected '
                              f'{_shapes(shapes, meaning)}')
    if not np.all(np.isfinite(array)):
        if array.ndim == 0:  # one number: say which
            raise ConversionError(f'{where} is {array.item()}; expected a finite number')
        raise ConversionError(f'{where} holds NaN or infinite values')
    return array


def _shapes(shapes, meaning: str) -> str:
    if isinstance(shapes, tuple):
        shapes = [shapes]
    text = ' or '.join('(' + ', '.join('N' if n is None else str(n) for n in s)
                       + (',)' if len(s) == 1 else ')') for s in shapes)
    return text + (f' ({meaning})' if meaning else '')


def _short(value, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + '...'


def inside_image(xy: np.ndarray, width: float, height: float) -> np.ndarray:
    """Which of the ``(K, 2)`` points lie in the image (``0 <= x < width``, ``0 <= y < height``)."""
    return ((xy[:, 0] >= 0) & (xy[:, 0] < width) & (xy[:, 1] >= 0) & (xy[:, 1] < height))


def visible_box(xy: np.ndarray, visible: np.ndarray, width: float, height: float) -> List[float]:
    """The tight ``[x, y, w, h]`` box around the visible points, clipped to the image.

    ``[0, 0, 0, 0]`` when no point is visible.
    """
    if not np.any(visible):
        return [0.0, 0.0, 0.0, 0.0]
    points = xy[visible]
    x0, y0 = np.clip(points.min(axis=0), 0, [width, height])
    x1, y1 = np.clip(points.max(axis=0), 0, [width, height])
    return [float(x0), float(y0), float(x1 - x0), float(y1 - y0)]


def square_box(center: np.ndarray, side: float, width: float, height: float) -> List[float]:
    """The square box of ``side`` around ``center``, clipped to the image, as ``[x, y, w, h]``."""
    x0, y0 = np.clip(center - side / 2, 0, [width, height])
    x1, y1 = np.clip(center + side / 2, 0, [width, height])
    return [float(x0), float(y0), float(x1 - x0), float(y1 - y0)]


def holdout(num: int, num_test: int, seed: int = 42) -> np.ndarray:
    """A deterministic test mask: ``num_test`` of ``num`` items drawn by
    ``np.random.RandomState(seed).permutation`` (the reference's split of H3D)."""
    if not 0 <= num_test <= num:
        raise ConversionError(f'cannot hold out {num_test} test items of {num}')
    mask = np.zeros(num, dtype=bool)
    mask[np.random.RandomState(seed).permutation(num)[:num_test]] = True
    return mask


def require_image(root: str, file_name: str, where: str) -> str:
    """The absolute path of ``file_name`` under ``root``; an error naming the record if absent.

    Converters check their images up front so that a partly extracted archive fails here, with
    the record, rather than later in a training run.
    """
    path = osp.join(root, file_name)
    if not osp.isfile(path):
        raise ConversionError(f'{where}: image {path} not found')
    return path


def read_image_size(path: str) -> Tuple[int, int]:
    """``(width, height)`` of an image file, read from its header only."""
    from PIL import Image
    with Image.open(path) as image:
        return image.size


def load_categories(layout: str) -> List[dict]:
    """The COCO ``categories`` of a layout (``'hand21'`` or ``'body16'``), from its metainfo."""
    return copy.deepcopy(_categories(layout))


@functools.lru_cache()
def _categories(layout: str) -> List[dict]:
    from mmpose.datasets.datasets.utils import parse_pose_metainfo
    info = parse_pose_metainfo(dict(from_file=osp.join(METAINFO_DIR, f'{layout}.py')))
    names = [info['keypoint_id2name'][i] for i in range(info['num_keypoints'])]
    skeleton = [[int(a) + 1, int(b) + 1] for a, b in info['skeleton_links']]
    supercategory = 'hand' if layout == HAND21 else 'person'
    return [dict(id=1, name=supercategory, supercategory=supercategory, keypoints=names,
                 skeleton=skeleton)]


class CocoBuilder:
    """Collects the images and instances of one output file.

    An instance with no visible keypoint teaches nothing and is left out (reason
    ``NO_VISIBLE``). An image is added with its first kept instance, so images whose instances
    were all filtered out do not appear. Filtered instances are counted by reason and recorded in
    ``info``.

    Args:
        layout (str): ``'hand21'`` or ``'body16'``.
        description (str): what the file holds, recorded in ``info``.
    """

    def __init__(self, layout: str, description: str):
        self.layout = layout
        self.description = description
        self.images: Dict[int, dict] = {}
        self.annotations: List[dict] = []
        self.filtered: Counter = Counter()

    def add(self, image_id: int, file_name: str, width: int, height: int, xy: np.ndarray,
            visible: np.ndarray, bbox: Optional[List[float]] = None,
            **extra) -> Optional[dict]:
        """Add one instance; ``xy`` is ``(K, 2)``, ``visible`` ``(K,)`` bool. Returns it, or
        None if it was left out."""
        visible = np.asarray(visible, dtype=bool)
        if not visible.any():
            self.skip(NO_VISIBLE)
            return None
        if image_id not in self.images:
            self.images[image_id] = dict(id=int(image_id), file_name=file_name,
                                         width=int(width), height=int(height))
        keypoints = np.zeros((len(xy), 3))
        keypoints[visible, :2] = xy[visible]
        keypoints[visible, 2] = 2
        if bbox is None:
            bbox = visible_box(xy, visible, width, height)
        annotation = dict(
            id=len(self.annotations) + 1, image_id=int(image_id), category_id=1,
            bbox=bbox, area=float(bbox[2] * bbox[3]), iscrowd=0,
            num_keypoints=int(visible.sum()), keypoints=keypoints.ravel().tolist(), **extra)
        self.annotations.append(annotation)
        return annotation

    def skip(self, reason: str, count: int = 1):
        """Count ``count`` instances left out for ``reason``."""
        self.filtered[reason] += count

    def to_dict(self) -> dict:
        return dict(
            info=dict(description=self.description, converter='mmpose_regda.datasets.converters',
                      filtered=dict(self.filtered)),
            images=list(self.images.values()),
            annotations=self.annotations,
            categories=load_categories(self.layout))


def write_outputs(out_dir: str, outputs: Dict[str, dict]) -> List[str]:
    """Write ``{file name: COCO dict}`` into ``out_dir``, all or nothing.

    Every file is first dumped under a temporary name in ``out_dir`` (same file system, so each
    rename is atomic; see :func:`~mmpose_regda.utils.atomic_output`), and only when all dumps
    succeeded are they renamed over the targets. On any error before that the temporary files
    are removed and the existing outputs are left as they were; temporaries left by a converter
    that was killed are removed by the next run.

    Returns:
        list[str]: the paths written.
    """
    paths = [osp.join(out_dir, name) for name in outputs]
    with contextlib.ExitStack() as renames:  # all renames happen after the last dump
        for path, coco in zip(paths, outputs.values()):
            with open(renames.enter_context(atomic_output(path)), 'w') as f:
                json.dump(coco, f)
    return paths


def summary(out_dir: Optional[str], outputs: Dict[str, dict]) -> Iterable[str]:
    """One line per output: where it is, how many images and instances it has, what was
    filtered out and why (for the command-line tools)."""
    for name, coco in outputs.items():
        filtered = coco['info']['filtered']
        why = ', '.join(f'{n} {reason}' for reason, n in filtered.items()) or 'none'
        path = osp.join(out_dir, name) if out_dir else name
        yield (f'{path}: {len(coco["images"])} images, {len(coco["annotations"])} instances '
               f'kept, {sum(filtered.values())} filtered ({why})')


def finish(builders: Dict[str, CocoBuilder], out_dir: Optional[str]) -> Dict[str, dict]:
    """The COCO dicts of ``{file name: builder}``, written to ``out_dir`` unless it is None."""
    outputs = {name: builder.to_dict() for name, builder in builders.items()}
    if out_dir is not None:
        write_outputs(out_dir, outputs)
    return outputs


def run_cli(convert: Callable[..., Dict[str, dict]], **kwargs) -> Dict[str, dict]:
    """What the ``tools/dataset_converters`` scripts run: the conversion, then one line per file
    written (:func:`summary`). A malformed input ends the script with its message, not a
    traceback."""
    try:
        outputs = convert(**kwargs)
    except (ConversionError, OSError) as e:  # a malformed record, a missing or unreadable file
        sys.exit(f'error: {e} (no json file was written)')
    for line in summary(kwargs.get('out_dir'), outputs):
        print(line)
    return outputs
