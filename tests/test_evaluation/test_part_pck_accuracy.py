"""PartPCKAccuracy against a case computed by hand."""
import math

import numpy as np
import pytest

import mmpose_regda  # noqa: F401
from mmpose_regda.evaluation import PartPCKAccuracy


def sample(pred, gt, visible, crop_side):
    return dict(pred_instances=dict(keypoints=np.array([pred], dtype=float)),
                gt_instances=dict(keypoints=np.array([gt], dtype=float),
                                  keypoints_visible=np.array([visible], dtype=float),
                                  bbox_scales=np.array([[crop_side, crop_side * 0.5]])))


def test_hand_computed_pck_by_part():
    # 4 keypoints, groups A = {0, 1}, B = {2, 3}; crop sides 100 and 200 -> thresholds 5 and 10
    metric = PartPCKAccuracy(alpha=0.05, part_groups=dict(A=[0, 1], B=[2, 3]))
    gt = [[0, 0]] * 4
    metric.process([], [
        # distances 4 (<5 ok), 6 (no), 0 (ok), invisible keypoint 3
        sample([[4, 0], [0, 6], [0, 0], [50, 50]], gt, [1, 1, 1, 0], 100),
        # distances 9 (<10 ok), 3 (ok), 10 (not < 10), keypoint 3 invisible again
        sample([[0, 9], [3, 0], [6, 8], [0, 0]], gt, [1, 1, 1, 0], 200),
    ])
    metrics = metric.compute_metrics(metric.results)
    # per keypoint: k0 2/2, k1 1/2, k2 1/2, k3 never visible (left out)
    assert metrics['A'] == pytest.approx((1.0 + 0.5) / 2)
    assert metrics['B'] == pytest.approx(0.5)
    assert metrics['Avg'] == pytest.approx((1.0 + 0.5 + 0.5) / 3)


def test_presets_metainfo_groups_and_avg_keypoints():
    metric = PartPCKAccuracy(part_groups='body')
    assert metric.part_groups['Shoulder'] == [12, 13]
    metric = PartPCKAccuracy()
    metric.dataset_meta = dict(part_groups=dict(G=[1]), avg_keypoints=[0, 1])
    metric.process([], [sample([[0, 0], [9, 0], [0, 0]], [[0, 0]] * 3, [1, 1, 1], 100)])
    metrics = metric.compute_metrics(metric.results)
    assert metrics == dict(G=0.0, Avg=0.5)  # keypoint 2 (correct) is not in avg_keypoints
    assert math.isnan(PartPCKAccuracy(part_groups=dict(G=[0])).compute_metrics(
        [dict(pred=np.zeros((1, 2)), gt=np.zeros((1, 2)), visible=np.zeros(1, bool),
              crop_side=1.)])['G'])


def test_bad_settings():
    with pytest.raises(ValueError, match='alpha must be in'):
        PartPCKAccuracy(alpha=0)
    with pytest.raises(ValueError, match="unknown part_groups preset 'legs'"):
        PartPCKAccuracy(part_groups='legs')
    metric = PartPCKAccuracy(part_groups=dict(G=[5]))
    metric.process([], [sample([[0, 0]], [[0, 0]], [1], 10)])
    with pytest.raises(ValueError, match=r'group G names keypoints \[5\].* 1 keypoints'):
        metric.compute_metrics(metric.results)
    with pytest.raises(KeyError, match='bbox_scales'):
        PartPCKAccuracy().process([], [dict(pred_instances=dict(keypoints=np.zeros((1, 1, 2))),
                                            gt_instances=dict(keypoints=np.zeros((1, 1, 2)),
                                                              keypoints_visible=np.ones((1, 1))))])
