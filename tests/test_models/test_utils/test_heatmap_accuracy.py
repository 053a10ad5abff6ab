"""heatmap_pck_accuracy against mmpose's numpy pose_pck_accuracy, and by hand."""
import pytest
import torch

from mmpose.evaluation.functional import pose_pck_accuracy
from mmpose_regda.models.utils import heatmap_pck_accuracy


def peaks(points, size=8, value=1.):
    """(N, K, size, size) heatmaps with one peak per keypoint at (x, y)."""
    heatmaps = torch.zeros(len(points), len(points[0]), size, size)
    for n, row in enumerate(points):
        for k, (x, y) in enumerate(row):
            heatmaps[n, k, y, x] = value
    return heatmaps


def test_by_hand():
    # 8x8 heatmaps, threshold 0.05 * 8 = 0.4 pixels: only exact hits count
    output = peaks([[(1, 1), (2, 2), (5, 5)], [(0, 0), (3, 3), (6, 6)]])
    target = peaks([[(1, 1), (2, 3), (5, 5)], [(0, 0), (3, 3), (6, 7)]])
    mask = torch.tensor([[1, 1, 1], [1, 0, 1]])
    # keypoint 0: 2/2 hits, keypoint 1: 0/1 (the second is masked), keypoint 2: 1/2
    assert heatmap_pck_accuracy(output, target, mask).item() == pytest.approx((1 + 0 + .5) / 3)
    # a keypoint that no instance shows is left out of the average
    mask[:, 1] = 0
    assert heatmap_pck_accuracy(output, target, mask).item() == pytest.approx((1 + .5) / 2)
    assert heatmap_pck_accuracy(output, target, torch.zeros(2, 3)).item() == 0.


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_equals_mmpose_pose_pck_accuracy(seed):
    generator = torch.Generator().manual_seed(seed)
    output = torch.rand(6, 5, 12, 12, generator=generator).softmax(-1)
    target = torch.rand(6, 5, 12, 12, generator=generator)
    target[0, 1] = 0  # an invisible keypoint: no peak, location -1
    target[target < 0.97] = 0
    mask = torch.rand(6, 5, generator=generator) > 0.3
    for thr in (0.05, 0.2, 0.5):
        _, expected, _ = pose_pck_accuracy(output.numpy(), target.numpy(), mask.numpy(), thr)
        actual = heatmap_pck_accuracy(output, target, mask, thr)
        assert actual.item() == pytest.approx(float(expected), abs=1e-6)
