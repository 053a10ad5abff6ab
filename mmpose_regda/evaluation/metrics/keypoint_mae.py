from typing import Dict, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from mmpose.registry import METRICS


@METRICS.register_module()
class KeypointMAE(BaseMetric):
    """Mean absolute error of keypoint positions relative to the crop side: the paper's MAE on
    dSprites (Table 1).

    dSprites regresses positions as factors in [0, 1] rather than pixels, so the error of each
    coordinate is divided by the side of the crop the model saw (``bbox_scales``, measured in the
    original image; the whole 64 x 64 image for ``SyntheticSprites``), then averaged over x and y,
    over keypoints and over samples. Keypoints invisible in the ground truth are left out; a set
    with no visible keypoint has MAE NaN.

    The paper does not say which length it divides by. dSprites' position factors span the area
    A where the shapes' centres lie, 32 of the 64 pixels, so an MAE in units of those factors
    would be about twice this one.

    Key: ``MAE`` (lower is better: ``rule='less'`` if a checkpoint hook saves by it; but report
    the final model, not the best on a test set).
    """
    default_prefix: Optional[str] = None

    def __init__(self, collect_device: str = 'cpu', prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)

    def process(self, data_batch: Sequence[dict], data_samples: Sequence[dict]) -> None:
        for index, sample in enumerate(data_samples):
            gt = sample['gt_instances']
            if 'bbox_scales' not in gt:
                raise KeyError('KeypointMAE needs the crop size: `bbox_scales` in the ground '
                               'truth instances (packed by PackPoseInputs after '
                               'GetBBoxCenterScale and TopdownAffine)')
            pred = np.asarray(sample['pred_instances']['keypoints'], dtype=np.float64)
            gt_keypoints = np.asarray(gt['keypoints'], dtype=np.float64)
            if pred.ndim != 3 or pred.shape != gt_keypoints.shape:
                raise ValueError(
                    f'KeypointMAE: sample {index} of the batch (image '
                    f'{sample.get("img_path", "?")}) has predicted keypoints of shape '
                    f'{pred.shape} and ground truth of shape {gt_keypoints.shape}; expected '
                    'the same (instances, keypoints, 2) for both')
            self.results.append(
                dict(error=np.abs(pred[0, :, :2] - gt_keypoints[0, :, :2]),
                     visible=np.asarray(gt['keypoints_visible']).reshape(-1) > 0,
                     crop_side=float(np.max(np.asarray(gt['bbox_scales'])[0]))))

    def compute_metrics(self, results: list) -> Dict[str, float]:
        num_keypoints = {r['error'].shape[0] for r in results}
        if len(num_keypoints) > 1:
            raise ValueError(f'KeypointMAE: samples have different numbers of keypoints '
                             f'{sorted(num_keypoints)}; expected one keypoint layout')
        # (N, K): each keypoint's error, averaged over x and y, in units of the crop side
        relative = np.stack([r['error'].mean(axis=-1) / r['crop_side'] for r in results])
        visible = np.stack([r['visible'] for r in results])
        mae = float(relative[visible].mean()) if visible.any() else float('nan')
        MMLogger.get_current_instance().info(
            f'MAE (relative to the crop side) over {int(visible.sum())} visible keypoints: '
            f'{mae:.4f}')
        return dict(MAE=mae)
