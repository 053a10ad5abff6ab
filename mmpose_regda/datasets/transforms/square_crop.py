from typing import Dict, Tuple

import numpy as np
from mmcv.transforms import BaseTransform

from mmpose.registry import TRANSFORMS


def reference_square_box(box_xyxy, image_width: int, image_height: int,
                         padding: float) -> Tuple[int, int, int, int]:
    """The reference implementation's crop of a box (Transfer-Learning-Library ``scale_box``).

    A square of side ``round(padding * max(w, h))``, no larger than the image's shorter side,
    centred on the box (corners rounded to pixels) and moved inside the image where it sticks
    out. Python's ``round`` (half to even), as the reference.

    Returns:
        tuple: ``(left, upper, right, lower)``, inclusive pixel corners: ``right - left`` is one
        less than the side, and is the width the reference crops (``crop(..., right - left)``).
    """
    x0, y0, x1, y1 = (float(v) for v in box_xyxy)
    center_x, center_y = (x0 + x1) / 2, (y0 + y1) / 2
    side = min(round(padding * max(x1 - x0, y1 - y0)), min(image_width, image_height))
    left = round(center_x - side / 2)
    right = left + side - 1
    upper = round(center_y - side / 2)
    lower = upper + side - 1
    if left < 0:
        left, right = 0, side - 1
    if right >= image_width:
        left, right = image_width - side, image_width - 1
    if upper < 0:
        upper, lower = 0, side - 1
    if lower >= image_height:
        upper, lower = image_height - side, image_height - 1
    return left, upper, right, lower


@TRANSFORMS.register_module()
class GetSquareCropCenterScale(BaseTransform):
    """The reference implementation's crop, in place of ``GetBBoxCenterScale``.

    The reference crops each hand or body as a square of ``padding`` (1.5) times the longer side
    of its keypoints' box, kept inside the image (:func:`reference_square_box`), then resizes
    it to the input size; mmpose's default pads the box by 1.25 and lets the crop leave the
    image (zero pixels there). Centre and size here are those of the reference's crop: the
    pixels ``left .. right - 1`` (``right - left`` wide), so that ``TopdownAffine`` maps a
    point as the reference's crop and resize do, ``(x - left) * input / (right - left)``.

    The box is the instance's ``bbox``: the converters write the tight box of the visible
    keypoints (for RHD, optionally of all 21 keypoints, as the reference); mmpose clips it to
    the image when reading.

    Required keys: img, bbox. Added keys: bbox_center, bbox_scale.

    Args:
        padding (float): the square's side over the box's longer side. Defaults to 1.5.
    """

    def __init__(self, padding: float = 1.5):
        if padding <= 0:
            raise ValueError(f'GetSquareCropCenterScale: padding must be > 0, got {padding}')
        self.padding = padding

    def transform(self, results: Dict) -> Dict:
        height, width = results['img'].shape[:2]
        centers, scales = [], []
        for box in np.asarray(results['bbox'], dtype=np.float64).reshape(-1, 4):
            left, upper, right, lower = reference_square_box(box, width, height, self.padding)
            centers.append([(left + right) / 2, (upper + lower) / 2])
            scales.append([right - left, lower - upper])
        results['bbox_center'] = np.array(centers, dtype=np.float32)
        results['bbox_scale'] = np.array(scales, dtype=np.float32)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(padding={self.padding})'
