"""Images decoded once, when a dataset is built, instead of at every epoch."""
from typing import Callable, Dict, List, Optional

import mmcv
import numpy as np
from mmengine import fileio

from .image_files import EXPECTED, TAIL_BYTES, image_bytes_problem


def attach_decoded_images(data_list: List[dict],
                          describe: Optional[Callable[[dict], str]] = None) -> List[dict]:
    """Give each data info its image, decoded as mmpose's ``LoadImage`` would decode it
    (``mmcv.imfrombytes``: BGR, uint8), under ``img``; ``LoadImage`` then uses it as it is.

    For small datasets read many times (the procedural benchmarks: 3000 images of 160x160 take
    230 MB per domain): decoding PNG files is a good part of each iteration's data time on a
    small CPU. mmengine serialises the data list into one buffer, which the loader's worker
    processes share with the main one copy-on-write, so the images are in memory once.

    An image that is missing, cut short or not an image fails here, naming the record that uses
    it first: ``describe(info)`` (e.g. ``'rhd.json: annotation id 12'``; by default nothing).
    """
    decoded: Dict[str, np.ndarray] = {}
    for info in data_list:
        path = info['img_path']
        if path not in decoded:
            where = f'{describe(info)}: image {path}' if describe else f'image {path}'
            try:
                content = fileio.get(path)
            except FileNotFoundError:
                raise FileNotFoundError(f'{where} not found') from None
            problem = image_bytes_problem(content[:16], content[-TAIL_BYTES:], len(content))
            decoded[path] = None if problem else mmcv.imfrombytes(content)
            if decoded[path] is None:
                problem = problem or 'cannot be decoded by OpenCV'
                raise ValueError(f'{where} {problem}; {EXPECTED}')
        info['img'] = decoded[path]
    return data_list
