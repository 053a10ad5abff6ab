from typing import Dict

import numpy as np
from mmcv.transforms import BaseTransform

from mmpose.registry import TRANSFORMS


@TRANSFORMS.register_module()
class GetWholeImageCenterScale(BaseTransform):
    """Crop centre and size of the whole image, for images that are already crops.

    Replaces ``GetBBoxCenterScale`` when every input pixel must stay where it is: with it,
    ``TopdownAffine`` to the image's own size is the identity, and heatmap pixels are image
    pixels when the heatmap has that size too. The dSprites task needs this: its ground-false
    region (Eq. 15) is the fixed area A of the image, rows and columns 16..47.
    ``GetBBoxCenterScale`` cannot give it from a box: mmpose reads COCO boxes clipped to the
    last pixel centre (``width - 1``), so the box of a whole 64-pixel image becomes a 63-pixel
    crop centred half a pixel off, a 1.6% zoom and a shift of up to a pixel.

    The centre is ``(width / 2, height / 2)``, the point ``TopdownAffine`` maps to the crop's
    centre. mmpose flips positions as ``width - 1 - x``, so after ``RandomFlip`` the crop sits
    one pixel to the left: image and keypoints move together (labels stay right), but A moves by
    that pixel, one reason the dSprites configs do not flip. One crop per instance (the boxes'
    count).

    Required keys: img, bbox. Added keys: bbox_center, bbox_scale.
    """

    def transform(self, results: Dict) -> Dict:
        height, width = results['img'].shape[:2]
        num_instances = len(results['bbox'])
        results['bbox_center'] = np.tile(np.array([[width / 2, height / 2]], np.float32),
                                         (num_instances, 1))
        results['bbox_scale'] = np.tile(np.array([[width, height]], np.float32),
                                        (num_instances, 1))
        return results
