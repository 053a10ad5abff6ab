from typing import Dict, Optional

import numpy as np
from mmcv.transforms import BaseTransform

from mmpose.registry import TRANSFORMS

HAND_TYPES = ('left', 'right')


@TRANSFORMS.register_module()
class MirrorToChirality(BaseTransform):
    """Mirror hands of the other side, so that every hand has one chirality.

    The reference implementation trains and tests on one chirality: it mirrors RHD's right hands
    (and all of FreiHand's, which are right hands) into left ones before anything else. The
    instance's side is its ``hand_type`` (``'left'``/``'right'``, written by the RHD converter
    and passed on by ``SharedHandDataset``), else ``default_hand_type``; an instance of unknown
    side is left as it is.

    The image is mirrored, and keypoints and box follow as the reference's ``hflip`` moves
    points: ``x -> width - 1 - x``. Keypoint identities stay (a mirrored thumb is a thumb):
    meant for hands, whose keypoints have no left/right pairs. Put it right after
    ``LoadImage``, before the crop.

    Required keys: img, bbox, keypoints (optional). Modified keys: img, bbox, keypoints,
    hand_type.

    Args:
        chirality (str): the side every hand ends up as. Defaults to ``'left'`` (the
            reference's).
        default_hand_type (str, optional): the side of instances without ``hand_type``
            (FreiHand: ``'right'``). Defaults to None: left unchanged.
    """

    def __init__(self, chirality: str = 'left', default_hand_type: Optional[str] = None):
        if chirality not in HAND_TYPES or default_hand_type not in HAND_TYPES + (None, ):
            raise ValueError(f'MirrorToChirality: chirality must be one of {HAND_TYPES} and '
                             'default_hand_type one of them or None, got '
                             f'{chirality!r} and {default_hand_type!r}')
        self.chirality = chirality
        self.default_hand_type = default_hand_type

    def transform(self, results: Dict) -> Dict:
        hand_type = results.get('hand_type') or self.default_hand_type
        if hand_type not in HAND_TYPES or hand_type == self.chirality:
            return results
        width = results['img'].shape[1]
        results['img'] = np.ascontiguousarray(results['img'][:, ::-1])
        bbox = np.array(results['bbox'], dtype=np.float32)
        bbox[..., [0, 2]] = width - 1 - bbox[..., [2, 0]]
        results['bbox'] = bbox
        if results.get('keypoints') is not None:
            keypoints = np.array(results['keypoints'], dtype=np.float32)
            keypoints[..., 0] = width - 1 - keypoints[..., 0]
            results['keypoints'] = keypoints
        results['hand_type'] = self.chirality
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(chirality={self.chirality!r}, '
                f'default_hand_type={self.default_hand_type!r})')
