"""GroundFalseTargetGenerator against maps built pixel by pixel from Eq. 6, 9, 10 and 15."""
import math

import numpy as np
import pytest
import torch

import mmpose_regda  # noqa: F401
from mmpose_regda.models.task_modules import GroundFalseTargetGenerator
from mmpose_regda.models.utils import heatmap_argmax, keypoint_disparity


def gaussian_map(center, size, sigma, truncate=None):
    """H(y): peak-1 Gaussian at center=(x, y), by explicit loops."""
    height, width = size
    out = np.zeros((height, width))
    for h in range(height):
        for w in range(width):
            dx, dy = w - center[0], h - center[1]
            if truncate is not None and (abs(dx) > truncate * sigma or abs(dy) > truncate * sigma):
                continue
            out[h, w] = math.exp(-(dx * dx + dy * dy) / (2 * sigma * sigma))
    return out


def peaked_heatmaps(centers, size):
    """Logit maps whose argmax is at each (x, y) center; negative everywhere (logits may be)."""
    maps = -torch.rand(1, len(centers), *size) - 1.
    for k, (x, y) in enumerate(centers):
        maps[0, k, y, x] = -0.5
    return maps


def test_argmax_is_x_then_y():
    maps = peaked_heatmaps([(1, 4), (6, 0)], (5, 7))
    assert heatmap_argmax(maps).tolist() == [[[1, 4], [6, 0]]]


@pytest.mark.parametrize('truncate', [None, 3.])
def test_ground_truth_and_ground_false_match_hand_built_maps(truncate):
    size, sigma = (9, 11), 1.5
    centers = [(1, 1), (9, 2), (4, 7)]
    targets = GroundFalseTargetGenerator(sigma=sigma, truncate=truncate)(
        peaked_heatmaps(centers, size).double())
    assert targets.keypoints.tolist() == [[list(c) for c in centers]]
    assert targets.ground_truth.dtype == torch.float64
    for k, center in enumerate(centers):
        truth = gaussian_map(center, size, sigma, truncate)
        np.testing.assert_allclose(targets.ground_truth[0, k], truth / truth.sum(), atol=1e-12)
        # Eq. 9-10: the other keypoints' Gaussians, clamped to [0, 1], normalised
        false = sum(gaussian_map(c, size, sigma, truncate) for j, c in enumerate(centers)
                    if j != k)
        false = np.clip(false, 0, 1)
        np.testing.assert_allclose(targets.ground_false[0, k], false / false.sum(), atol=1e-12)


def test_ground_false_clamps_overlapping_keypoints():
    # keypoints 0 and 1 predicted at the same place: for keypoint 2 their sum peaks at 2 and is
    # clamped to 1, so P_F is flatter than the unclamped sum
    size, sigma = (8, 8), 1.
    centers = [(2, 2), (2, 2), (6, 6)]
    targets = GroundFalseTargetGenerator(sigma=sigma, truncate=None)(
        peaked_heatmaps(centers, size).double())
    summed = 2 * gaussian_map((2, 2), size, sigma)
    clamped = np.clip(summed, 0, 1)
    np.testing.assert_allclose(targets.ground_false[0, 2], clamped / clamped.sum(), atol=1e-12)
    assert not np.allclose(clamped / clamped.sum(), summed / summed.sum())


def test_truncation_cuts_beyond_three_sigma():
    targets = GroundFalseTargetGenerator(sigma=1., truncate=3.)(
        peaked_heatmaps([(0, 0), (9, 9)], (10, 10)))
    assert targets.ground_truth[0, 0, 0, 3] > 0 and targets.ground_truth[0, 0, 0, 4] == 0


@pytest.mark.parametrize('center', [(4, 3), (0, 7)])  # inside and outside A
def test_region_form_of_eq15(center):
    size, sigma, region = (8, 8), 1., (2, 5, 3, 6)  # rows 2..5, columns 3..6
    targets = GroundFalseTargetGenerator(sigma=sigma, truncate=None, region=region)(
        peaked_heatmaps([center], size).double())
    top, bottom, left, right = region
    false = sum(gaussian_map((x, y), size, sigma) for y in range(top, bottom + 1)
                for x in range(left, right + 1) if (x, y) != center)
    np.testing.assert_allclose(targets.ground_false[0, 0], false / false.sum(), atol=1e-12)


def test_single_keypoint_needs_region():
    with pytest.raises(ValueError, match='Eq. 15'):
        GroundFalseTargetGenerator()(torch.rand(2, 1, 8, 8))


def test_bad_arguments():
    with pytest.raises(ValueError, match='sigma must be > 0'):
        GroundFalseTargetGenerator(sigma=0)
    with pytest.raises(ValueError, match='top <= bottom'):
        GroundFalseTargetGenerator(region=(5, 2, 0, 3))
    with pytest.raises(ValueError, match='does not fit'):
        GroundFalseTargetGenerator(region=(0, 10, 0, 3))(torch.rand(1, 1, 8, 8))
    with pytest.raises(ValueError, match=r'\(B, K, H, W\)'):
        GroundFalseTargetGenerator()(torch.rand(8, 8))


def test_batched_shapes_and_normalisation():
    maps = torch.randn(4, 21, 16, 16)
    targets = GroundFalseTargetGenerator(sigma=2.)(maps)
    assert targets.ground_truth.shape == targets.ground_false.shape == (4, 21, 16, 16)
    torch.testing.assert_close(targets.ground_false.sum(dim=(-2, -1)), torch.ones(4, 21))
    torch.testing.assert_close(targets.ground_truth.sum(dim=(-2, -1)), torch.ones(4, 21))
    assert not targets.ground_truth.requires_grad


def test_keypoint_disparity_is_mean_euclidean_distance():
    a = peaked_heatmaps([(0, 0), (3, 3)], (8, 8))
    b = peaked_heatmaps([(3, 4), (3, 3)], (8, 8))
    assert keypoint_disparity(a, b).item() == pytest.approx((5. + 0.) / 2)
