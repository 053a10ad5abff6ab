"""PartPCKAccuracy against cases computed by hand."""
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


def test_pred_field_scores_the_adversarial_head_next_to_f():
    """Two instances in one evaluator: f's predictions under PCK/, f''s under adv_head/PCK/."""
    from mmengine.evaluator import Evaluator
    from mmengine.registry import init_default_scope
    init_default_scope('mmpose')
    groups = dict(A=[0], B=[1])
    evaluator = Evaluator([
        dict(type='PartPCKAccuracy', part_groups=groups),
        dict(type='PartPCKAccuracy', part_groups=groups, pred_field='adv_pred_instances',
             prefix='adv_head'),
    ])
    # crop side 100 -> threshold 5. f: distances 1, 2 then 3, 4 -> every keypoint correct.
    # f': distances 6 (no), 0 (ok) then 0 (ok), 7 (no) -> each keypoint correct once in two.
    samples = []
    for f_pred, adv_pred in (([[1, 0], [0, 2]], [[6, 0], [0, 0]]),
                             ([[3, 0], [0, 4]], [[0, 0], [0, 7]])):
        data_sample = sample(f_pred, [[0, 0], [0, 0]], [1, 1], 100)
        data_sample['adv_pred_instances'] = dict(keypoints=np.array([adv_pred], dtype=float))
        samples.append(data_sample)
    evaluator.process(samples)
    assert evaluator.evaluate(len(samples)) == {
        'PCK/A': 1.0, 'PCK/B': 1.0, 'PCK/Avg': 1.0,
        'adv_head/PCK/A': 0.5, 'adv_head/PCK/B': 0.5, 'adv_head/PCK/Avg': 0.5}


def test_prefix_goes_in_front_of_pck():
    assert PartPCKAccuracy().prefix == 'PCK'
    assert PartPCKAccuracy(prefix='adv_head').prefix == 'adv_head/PCK'
    assert PartPCKAccuracy(prefix='target/').prefix == 'target/PCK'


def test_missing_pred_field_is_named():
    metric = PartPCKAccuracy(pred_field='adv_pred_instances')
    with pytest.raises(KeyError, match=r"no 'adv_pred_instances' field \(it has: gt_instances, "
                                       r"pred_instances\).*adv_head_predictions=True"):
        metric.process([], [sample([[0, 0]], [[0, 0]], [1], 10)])
    with pytest.raises(ValueError, match='pred_field must name a data-sample field'):
        PartPCKAccuracy(pred_field='')

