"""PaperProtocolPCKAccuracy against the reference's rule: a case computed by hand, and the rule
written out step by step as the reference implementation runs it (target heatmap drawn, argmax of
both, distances, per-batch accuracy, group means, batch-size-weighted average)."""
import numpy as np
import pytest

import mmpose_regda  # noqa: F401
from mmpose_regda.evaluation import PaperProtocolPCKAccuracy

W = H = 40  # heatmap side; input 160 px: stride 4; threshold 0.05 * 40 = 2 heatmap pixels


def sample(peaks, gt_input_px, visible, peak_value=1., input_size=160, side=W):
    """Logits of -5 everywhere but one peak per keypoint; the ground truth in input pixels."""
    logits = np.full((len(peaks), side, side), -5., dtype=np.float32)
    for k, (x, y) in enumerate(peaks):
        logits[k, y, x] = peak_value[k] if isinstance(peak_value, list) else peak_value
    return dict(pred_fields=dict(logits=logits),
                gt_instances=dict(transformed_keypoints=np.array([gt_input_px], dtype=float),
                                  keypoints_visible=np.array([visible], dtype=float)),
                input_size=(input_size, input_size))


HAND_CASE = [
    # k0: gt (40, 40) px -> mu (10, 10); predicted (11, 10): 1 px, correct.
    # k1: gt (42, 81) px -> (10.5, 20.25) -> mu (11, 20); predicted (11, 22): 2 px, not < 2.
    # k2: gt (100, 100) -> mu (25, 25); the peak is right but negative: predicted (0, 0), wrong.
    sample([(11, 10), (11, 22), (25, 25)], [(40, 40), (42, 81), (100, 100)], [1, 1, 1],
           peak_value=[2., 3., -0.5]),
    # k0: gt (4, 60) -> mu (1, 15): x = 1 is not > 1, ignored although visible.
    # k1: invisible, ignored. k2: gt (157, 20) -> (39.25, 5) -> mu (39, 5); predicted there.
    sample([(30, 30), (12, 20), (39, 5)], [(4, 60), (42, 81), (157, 20)], [1, 0, 1]),
    # k0: gt (80, 80) -> mu (20, 20); predicted (21, 21): 1.41 px, correct.
    # k1: invisible. k2: gt (80, 8) -> (20, 2) -> mu (20, 2), counted (y = 2 > 1);
    # predicted (20, 3): correct.
    sample([(21, 21), (0, 0), (20, 3)], [(80, 80), (0, 0), (80, 8)], [1, 0, 1]),
]


def evaluate(metric, samples, num_keypoints=3):
    metric.dataset_meta = dict(num_keypoints=num_keypoints)
    metric.process([], samples)
    return metric.compute_metrics(metric.results)


def test_hand_computed_case_in_batches_of_two():
    metric = PaperProtocolPCKAccuracy(batch_size=2, part_groups=dict(A=[0, 1], B=[2]))
    metrics = evaluate(metric, HAND_CASE)
    # batch 1 (samples 1, 2): k0 1/1, k1 0/1, k2 1/2 -> A 0.5, B 0.5, Avg 0.5, weight 2
    # batch 2 (sample 3): k0 1/1, k1 never counted (-1), k2 1/1 -> A (1 - 1) / 2 = 0, B 1,
    # Avg (1 - 1 + 1) / 3, weight 1
    assert metrics['A'] == pytest.approx((0.5 * 2 + 0.) / 3)
    assert metrics['B'] == pytest.approx((0.5 * 2 + 1.) / 3)
    assert metrics['Avg'] == pytest.approx((0.5 * 2 + 1 / 3) / 3)


def test_hand_computed_case_as_one_batch():
    metric = PaperProtocolPCKAccuracy(batch_size=None, part_groups=dict(A=[0, 1], B=[2]))
    metrics = evaluate(metric, HAND_CASE)
    # k0: samples 1 and 3 correct (2 ignored) -> 1; k1: 0 of 1; k2: 2 of 3
    assert metrics == pytest.approx(dict(A=0.5, B=2 / 3, Avg=(1 + 0 + 2 / 3) / 3))


# The reference's rule, step by step as its code runs it.
def draw_target(keypoints, visible, side, input_size, sigma=2):
    """generate_target: one Gaussian per visible keypoint whose centre is in the heatmap."""
    target = np.zeros((len(keypoints), side, side), dtype=np.float32)
    stride = input_size / side
    size = 6 * sigma + 1
    gaussian = np.exp(-((np.arange(size)[None] - 3 * sigma) ** 2 +
                        (np.arange(size)[:, None] - 3 * sigma) ** 2) / (2 * sigma ** 2))
    for k, (x, y) in enumerate(keypoints):
        mu_x, mu_y = int(x / stride + 0.5), int(y / stride + 0.5)
        if mu_x >= side or mu_y >= side or mu_x < 0 or mu_y < 0 or visible[k] <= 0.5:
            continue
        for dy in range(-3 * sigma, 3 * sigma + 1):
            for dx in range(-3 * sigma, 3 * sigma + 1):
                if 0 <= mu_x + dx < side and 0 <= mu_y + dy < side:
                    target[k, mu_y + dy, mu_x + dx] = gaussian[dy + 3 * sigma, dx + 3 * sigma]
    return target


def max_positions(heatmaps):
    """get_max_preds: argmax (x, y) per channel, (0, 0) where the maximum is not positive."""
    positions = np.zeros((len(heatmaps), 2), dtype=np.float32)
    for k, heatmap in enumerate(heatmaps):
        index = int(np.argmax(heatmap))
        if heatmap.flat[index] > 0:
            positions[k] = (index % heatmap.shape[1], index // heatmap.shape[1])
    return positions


def reference_pck(samples, groups, batch_size, side, input_size):
    sums, count = {name: 0. for name in groups}, 0
    for start in range(0, len(samples), batch_size):
        batch = samples[start:start + batch_size]
        dists = []
        for s in batch:
            pred = max_positions(s['pred_fields']['logits'])
            gt = max_positions(draw_target(s['gt_instances']['transformed_keypoints'][0],
                                           s['gt_instances']['keypoints_visible'][0], side,
                                           input_size))
            row = []
            for p, t in zip(pred, gt):
                row.append(np.linalg.norm(p / (side / 10) - t / (side / 10))
                           if t[0] > 1 and t[1] > 1 else -1)
            dists.append(row)
        dists = np.array(dists).T
        acc = []
        for d in dists:
            valid = d != -1
            acc.append((d[valid] < 0.5).sum() / valid.sum() if valid.any() else -1)
        for name, ids in groups.items():
            sums[name] += sum(acc[i] for i in ids) / len(ids) * len(batch)
        count += len(batch)
    return {name: total / count for name, total in sums.items()}


def test_matches_the_reference_rule_on_random_heatmaps():
    rng = np.random.default_rng(0)
    side, input_size, num_keypoints = 16, 64, 5
    samples = []
    for _ in range(37):
        logits = rng.normal(size=(num_keypoints, side, side)).astype(np.float32)
        logits[rng.random(num_keypoints) < 0.2] -= 10  # some channels all negative
        keypoints = rng.uniform(-8, 72, size=(num_keypoints, 2))
        # some keypoints near the heatmap's true position, so that some are correct
        near = rng.random(num_keypoints) < 0.5
        index = logits.reshape(num_keypoints, -1).argmax(1)
        keypoints[near] = np.stack([index % side, index // side], 1)[near] * 4 + rng.normal(
            0, 3, size=(near.sum(), 2))
        visible = (rng.random(num_keypoints) < 0.8).astype(float)
        s = sample([(0, 0)] * num_keypoints, keypoints, visible, input_size=input_size,
                   side=side)
        s['pred_fields']['logits'] = logits
        samples.append(s)
    groups = dict(G1=[0, 1], G2=[2, 3, 4], Avg=[0, 1, 2, 3, 4])
    expected = reference_pck(samples, groups, 8, side, input_size)
    metric = PaperProtocolPCKAccuracy(batch_size=8, part_groups=dict(G1=[0, 1], G2=[2, 3, 4]))
    metrics = evaluate(metric, samples, num_keypoints)
    assert 0.05 < metrics['Avg'] < 0.95  # neither all right nor all wrong
    assert metrics == pytest.approx(expected, abs=1e-12)


def test_heatmaps_field_and_clear_errors():
    metric = PaperProtocolPCKAccuracy(batch_size=None, part_groups=dict(A=[0, 1], B=[2]))
    mse_like = [dict(s, pred_fields=dict(heatmaps=s['pred_fields']['logits'])) for s in HAND_CASE]
    assert evaluate(metric, mse_like) == evaluate(
        PaperProtocolPCKAccuracy(batch_size=None, part_groups=dict(A=[0, 1], B=[2])), HAND_CASE)
    with pytest.raises(KeyError, match=r'no pred_fields.logits \(they have: none\).*'
                                       'output_logits=True'):
        PaperProtocolPCKAccuracy(heatmap_field='logits').process(
            [], [dict(HAND_CASE[0], pred_fields=None)])
    no_transformed = dict(HAND_CASE[0], gt_instances=dict(keypoints_visible=np.ones((1, 3))))
    with pytest.raises(KeyError, match='pack_transformed=True'):
        PaperProtocolPCKAccuracy().process([], [no_transformed])
    with pytest.raises(ValueError, match='batch_size must be a positive integer'):
        PaperProtocolPCKAccuracy(batch_size=0)
