"""KeypointMAE against cases computed by hand."""
import math

import numpy as np
import pytest

import mmpose_regda  # noqa: F401
from mmpose.registry import METRICS
from mmpose_regda.evaluation import KeypointMAE


def sample(pred, gt, visible, crop_side):
    return dict(pred_instances=dict(keypoints=np.array([pred], dtype=float)),
                gt_instances=dict(keypoints=np.array([gt], dtype=float),
                                  keypoints_visible=np.array([visible], dtype=float),
                                  bbox_scales=np.array([[crop_side, crop_side * 0.5]])))


def test_hand_computed_mae_ignores_invisible_keypoints():
    metric = METRICS.build(dict(type='KeypointMAE'))
    metric.process([], [
        # crop 64: keypoint 0 off by (4, 0) -> (4 + 0) / 2 / 64 = 0.03125;
        # keypoint 1 off by (8, 8) -> 8 / 64 = 0.125
        sample([[10, 20], [0, 0]], [[14, 20], [8, 8]], [1, 1], 64),
        # crop 128 (the larger side of the box): keypoint 0 off by (12.8, 25.6) -> 0.15;
        # keypoint 1 invisible, however wrong
        sample([[0, 0], [100, 100]], [[12.8, 25.6], [0, 0]], [1, 0], 128),
    ])
    # through evaluate(), as the runner calls it: the key is exactly `MAE`
    metrics = metric.evaluate(size=2)
    assert metrics == {'MAE': pytest.approx((0.03125 + 0.125 + 0.15) / 3)}


def test_no_visible_keypoint_is_nan():
    metric = KeypointMAE()
    metric.process([], [sample([[1, 1]], [[0, 0]], [0], 64)])
    assert math.isnan(metric.compute_metrics(metric.results)['MAE'])


def test_clear_errors():
    metric = KeypointMAE()
    with pytest.raises(ValueError, match=r'sample 1 .*predicted keypoints of shape \(1, 2, 2\) '
                       r'and ground truth of shape \(1, 1, 2\)'):
        metric.process([], [sample([[0, 0]], [[0, 0]], [1], 64),
                            sample([[0, 0], [1, 1]], [[0, 0]], [1], 64)])
    with pytest.raises(KeyError, match='bbox_scales'):
        metric.process([], [dict(pred_instances=dict(keypoints=np.zeros((1, 1, 2))),
                                 gt_instances=dict(keypoints=np.zeros((1, 1, 2)),
                                                   keypoints_visible=np.ones((1, 1))))])
    mixed = [dict(error=np.zeros((1, 2)), visible=np.ones(1, bool), crop_side=1.),
             dict(error=np.zeros((2, 2)), visible=np.ones(2, bool), crop_side=1.)]
    with pytest.raises(ValueError, match=r'different numbers of keypoints \[1, 2\]'):
        metric.compute_metrics(mixed)
