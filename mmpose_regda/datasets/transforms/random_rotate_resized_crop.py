from typing import Dict, Sequence

import numpy as np
from mmcv.transforms import BaseTransform

from mmpose.registry import TRANSFORMS
from mmpose.structures.bbox import get_warp_matrix


@TRANSFORMS.register_module()
class RandomRotateResizedCrop(BaseTransform):
    """The reference implementation's augmentation as a box transform: a uniform rotation, then
    a random square zoomed-in crop.

    The reference rotates its (square) crop of side ``S`` about the centre by an angle drawn
    uniformly in ``[-rotate_degrees, rotate_degrees]`` (``RandomRotation``), then cuts a square
    of area ``u * S^2``, ``u`` uniform in ``area_range`` (0.6, 1.3), at a uniformly drawn
    integer position, and resizes it to the input size (its ``RandomResizedCrop``). A square
    larger than the image is redrawn, up to ``max_attempts`` times, then the whole image is
    taken: the crop only zooms in, by ``sqrt(u)`` with ``u`` in effect uniform in
    ``[0.6, 1]``. mmpose's ``RandomBBoxTransform`` draws rotation and scale from truncated
    normals and also zooms out.

    Here the same draws move the crop ``TopdownAffine`` takes: its size becomes the square's,
    its rotation the angle, its centre the square's centre mapped back from the rotated crop
    into the image. One difference remains: the reference rotates an image already cropped, so
    the rotated square's corners are black there and real surroundings here.

    Required keys: bbox_center, bbox_scale (square, e.g. from ``GetSquareCropCenterScale``).
    Modified keys: bbox_center, bbox_scale. Added keys: bbox_rotation.

    Args:
        rotate_degrees (float): the rotation range, +-. Defaults to 180 (hands; bodies 30).
        area_range (Sequence[float]): range of the crop's area as a fraction of the square's.
            Defaults to (0.6, 1.3).
        max_attempts (int): draws before falling back to the whole square. Defaults to 10.
    """

    def __init__(self,
                 rotate_degrees: float = 180.,
                 area_range: Sequence[float] = (0.6, 1.3),
                 max_attempts: int = 10):
        if rotate_degrees < 0:
            raise ValueError('RandomRotateResizedCrop: rotate_degrees must be >= 0, got '
                             f'{rotate_degrees}')
        if len(area_range) != 2 or not 0 < area_range[0] <= area_range[1]:
            raise ValueError('RandomRotateResizedCrop: area_range must be (low, high) with '
                             f'0 < low <= high, got {area_range}')
        self.rotate_degrees = rotate_degrees
        self.area_range = tuple(area_range)
        self.max_attempts = max_attempts

    def _draw_square(self, side: int):
        """``RandomResizedCrop.get_params`` with aspect ratio 1: ``(top, left, size)``."""
        for _ in range(self.max_attempts):
            size = int(round(np.sqrt(np.random.uniform(*self.area_range) * side * side)))
            if 0 < size <= side:
                return (np.random.randint(0, side - size + 1),
                        np.random.randint(0, side - size + 1), size)
        return 0, 0, side

    def transform(self, results: Dict) -> Dict:
        centers = np.array(results['bbox_center'], dtype=np.float32)
        scales = np.array(results['bbox_scale'], dtype=np.float32)
        rotations = np.zeros(len(centers), dtype=np.float32)
        for i, (center, scale) in enumerate(zip(centers, scales)):
            side = max(int(round(float(scale.max()))), 1)
            angle = np.random.uniform(-self.rotate_degrees, self.rotate_degrees)
            top, left, size = self._draw_square(side)
            # the square's centre in the rotated crop (1 px per image px), back in the image
            to_image = get_warp_matrix(center, np.array([side, side], dtype=np.float32), angle,
                                       output_size=(side, side), inv=True)
            point = np.array([left + size / 2, top + size / 2, 1.])
            centers[i] = to_image @ point
            scales[i] = size
            rotations[i] = angle
        results['bbox_center'] = centers
        results['bbox_scale'] = scales
        results['bbox_rotation'] = rotations
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(rotate_degrees={self.rotate_degrees}, '
                f'area_range={self.area_range}, max_attempts={self.max_attempts})')
