"""Image files that cannot be decoded, found early and named with their annotation.

OpenCV returns no image for a truncated JPEG, and mmcv's ``LoadImageFromFile`` then fails with
``failed to load image``, in the middle of an epoch, without saying which annotation. Two remedies:

- :func:`check_image_files`, a cheap check when a dataset is built: each file exists, is not
  empty, starts with an image signature, and a JPEG (PNG) still has its end marker (chunk) near
  its end. It reads a few bytes at both ends of each file, never decodes;
- :func:`name_image_load_errors`, which wraps the image-loading transforms of a dataset's pipeline
  so that a failure names the annotation file, the annotation and the image.
"""
import os
import os.path as osp
from typing import Callable, Iterable, Optional

# how each format starts (first bytes); OpenCV reads them all
SIGNATURES = ((b'\xff\xd8\xff', 'JPEG'), (b'\x89PNG\r\n\x1a\n', 'PNG'), (b'BM', 'BMP'),
              (b'II*\x00', 'TIFF'), (b'MM\x00*', 'TIFF'))
# A complete JPEG ends with the end-of-image marker FF D9, a PNG with its IEND chunk. The end
# marker is looked for in the last bytes, not at the very end: some cameras append data after
# it. FF D9 cannot occur in JPEG's entropy-coded data (an FF there is followed by 00 or a
# restart marker), so a file cut in its image data has none.
END_MARKERS = {'JPEG': (b'\xff\xd9', 'the end-of-image marker FF D9'),
               'PNG': (b'IEND', 'the IEND chunk')}
TAIL_BYTES = 1024
EXPECTED = ('expected a complete JPEG or PNG file (copy or extract it again, or remove its '
            'annotations)')


def image_bytes_problem(head: bytes, tail: bytes, size: int) -> Optional[str]:
    """What is wrong with an image file of ``size`` bytes, from its first bytes ``head`` (16 are
    enough) and its last ``tail`` (up to ``TAIL_BYTES``); None if it looks complete."""
    if size == 0:
        return 'is empty (0 bytes)'
    kind = next((name for signature, name in SIGNATURES if head.startswith(signature)), None)
    if kind is None and head[:4] == b'RIFF' and head[8:12] == b'WEBP':
        kind = 'WebP'
    if kind is None:
        return (f'is not an image: it starts with {head[:8].hex(" ")!r}, not with the signature '
                'of a JPEG (ff d8 ff) or a PNG (89 50 4e 47) file')
    marker, description = END_MARKERS.get(kind, (None, None))
    if marker is not None and marker not in tail:
        return f'is a {kind} cut short: {size} bytes, without {description} at its end'
    return None


def image_file_problem(path: str) -> Optional[str]:
    """What is wrong with the local image file ``path`` (:func:`image_bytes_problem`), reading
    only its first and last bytes; None if it looks complete."""
    if not osp.isfile(path):
        return 'not found'
    with open(path, 'rb') as f:
        head = f.read(16)
        size = f.seek(0, os.SEEK_END)
        f.seek(max(size - TAIL_BYTES, 0))
        tail = f.read()
    return image_bytes_problem(head, tail, size)


def check_image_files(records: Iterable, describe: Callable[[object], str]) -> None:
    """Check each local image once (:func:`image_file_problem`); remote paths are left to the
    pipeline.

    Args:
        records: ``(image path, record)`` pairs; an image used by several records is checked
            once, for its first.
        describe: what to name for a record (``'rhd.json: annotation 12'``).

    Raises:
        FileNotFoundError: an image does not exist.
        ValueError: an image is empty, not an image or cut short.
    """
    seen = set()
    for path, record in records:
        if path in seen or '://' in path:
            continue
        seen.add(path)
        problem = image_file_problem(path)
        if problem is not None:
            error = FileNotFoundError if problem == 'not found' else ValueError
            raise error(f'{describe(record)}: image {path} {problem}; {EXPECTED}')


class _Fields(dict):
    """``str.format_map`` fields that show a missing one as ``?``."""

    def __missing__(self, key):
        return '?'


class NamedImageLoading:
    """Runs an image-loading transform; if it fails, raises an error naming the annotation file,
    the record (``record`` formatted with the sample's fields, e.g. ``'annotation id {id}'``)
    and the image, and what is wrong with the file if its ends show it.

    Picklable (no closure), for data loader workers started by spawning.
    """

    def __init__(self, transform, ann_file: str, record: str):
        self.transform = transform
        self.ann_file = ann_file
        self.record = record

    def __call__(self, results: dict):
        try:
            return self.transform(results)
        except Exception as e:
            path = str(results.get('img_path'))
            where = f'{self.ann_file}: {self.record.format_map(_Fields(results))}: image {path}'
            problem = None if '://' in path else image_file_problem(path)
            if problem == 'not found':
                raise FileNotFoundError(f'{where} not found') from e
            if problem is None:  # its ends look fine: say what the loader said
                problem = f'cannot be decoded ({type(e).__name__}: {e})'
            raise ValueError(f'{where} {problem}; {EXPECTED}') from e

    def __repr__(self) -> str:
        return repr(self.transform)


def name_image_load_errors(pipeline, ann_file: str, record: str) -> None:
    """Wrap, in place, each image-loading transform (mmcv's ``LoadImageFromFile``, mmpose's
    ``LoadImage``) of the ``Compose`` ``pipeline`` in :class:`NamedImageLoading`."""
    from mmcv.transforms import LoadImageFromFile
    transforms = getattr(pipeline, 'transforms', [])
    for i, transform in enumerate(transforms):
        if isinstance(transform, LoadImageFromFile):
            transforms[i] = NamedImageLoading(transform, ann_file, record)
