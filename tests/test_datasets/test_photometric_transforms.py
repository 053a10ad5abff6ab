"""RandomColorJitter and RandomGaussianBlur (the reference's photometric augmentation)."""
import numpy as np
import pytest

import mmpose_regda  # noqa: F401
from mmpose_regda.datasets import RandomColorJitter, RandomGaussianBlur


def image():
    return np.random.RandomState(0).randint(40, 200, (32, 32, 3)).astype(np.uint8)


def test_brightness_only_scales_every_pixel_by_one_factor_in_range():
    np.random.seed(1)
    img = image()
    out = RandomColorJitter(brightness=0.25, contrast=0, saturation=0)(dict(img=img))['img']
    ratio = out.astype(float).sum() / img.astype(float).sum()
    assert 0.75 <= ratio <= 1.25 and abs(ratio - 1) > 1e-3
    np.testing.assert_allclose(out, np.clip(img * ratio, 0, 255), atol=1.01)


def test_zero_strength_is_identity_and_saturation_zero_keeps_gray():
    img = image()
    assert np.array_equal(RandomColorJitter(0, 0, 0)(dict(img=img.copy()))['img'], img)
    gray = np.repeat(img[..., :1], 3, axis=2)
    out = RandomColorJitter(0, 0, 1.)(dict(img=gray.copy()))['img']
    assert np.abs(out.astype(int) - gray).max() <= 1  # a gray image has no saturation to change


def test_blur_smooths_and_zero_sigma_is_identity():
    img = image()
    assert np.array_equal(RandomGaussianBlur(0, 0)(dict(img=img.copy()))['img'], img)
    out = RandomGaussianBlur(1.5, 1.5)(dict(img=img.copy()))['img']
    assert np.abs(np.diff(out.astype(float), axis=0)).mean() < np.abs(
        np.diff(img.astype(float), axis=0)).mean() / 2


def test_bad_strengths():
    with pytest.raises(ValueError, match='brightness must be in'):
        RandomColorJitter(brightness=2)
    with pytest.raises(ValueError, match='low <= high'):
        RandomGaussianBlur(1, 0.5)
