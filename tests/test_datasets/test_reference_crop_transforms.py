"""The reference implementation's crops and augmentation as mmpose transforms: the square crop
against hand-computed corners, the rotate-then-zoom crop against the two steps done one after
the other, and the mirroring of hands to one chirality."""
import json

import numpy as np
import pytest
from mmengine.registry import init_default_scope

import mmpose_regda  # noqa: F401
from mmpose.datasets.transforms import TopdownAffine
from mmpose.registry import DATASETS
from mmpose.structures.bbox import get_warp_matrix
from mmpose_regda.datasets.transforms import (GetSquareCropCenterScale, MirrorToChirality,
                                              RandomRotateResizedCrop, reference_square_box)


@pytest.mark.parametrize('box, size, expected', [
    # 60 x 80 box: side round(1.5 * 80) = 120 around the centre (130, 90)
    ((100, 50, 160, 130), (320, 320), (70, 30, 189, 149)),
    # sticks out at the top left: moved inside
    ((0, 10, 40, 50), (320, 320), (0, 0, 59, 59)),
    # 1.5 x 90 = 135 > the image's 80 px height: the side is 80, moved inside
    ((0, 0, 90, 70), (100, 80), (5, 0, 84, 79)),
    # centre 299.5 - 30 = 269.5 rounds half to even (270); sticks out on the right
    ((280, 100, 319, 140), (320, 320), (260, 90, 319, 149)),
    # 258.5 - 30 = 228.5 rounds to 228; 1.5 x 41 = 61.5 rounds to 62
    ((238.5, 100, 278.5, 140), (320, 320), (228, 90, 287, 149)),
    ((100, 100, 141, 140), (320, 320), (90, 89, 151, 150)),
])
def test_reference_square_box(box, size, expected):
    assert reference_square_box(box, *size, padding=1.5) == expected


def test_square_crop_maps_points_as_the_reference_crop_and_resize():
    results = dict(img=np.zeros((320, 320, 3), np.uint8),
                   bbox=np.array([[100, 50, 160, 130]], np.float32),
                   keypoints=np.array([[[100., 50.], [189., 149.], [130., 90.]]], np.float32),
                   keypoints_visible=np.ones((1, 3), np.float32))
    results = GetSquareCropCenterScale(padding=1.5)(results)
    np.testing.assert_allclose(results['bbox_center'], [[129.5, 89.5]])
    np.testing.assert_allclose(results['bbox_scale'], [[119, 119]])
    results = TopdownAffine(input_size=(256, 256))(results)
    # the reference: crop at (left, upper) = (70, 30), 119 px wide, resized to 256
    expected = (results['keypoints'][0] - [70, 30]) * 256 / 119
    np.testing.assert_allclose(results['transformed_keypoints'][0], expected, atol=1e-3)


def test_rotate_resized_crop_is_rotation_then_square_crop():
    """TopdownAffine with the drawn box equals: rotate the square crop, cut the drawn square."""
    center, side = np.array([150., 120.], np.float32), 100
    np.random.seed(3)
    results = RandomRotateResizedCrop(rotate_degrees=180)(dict(
        bbox_center=center[None].copy(), bbox_scale=np.array([[side, side]], np.float32)))
    np.random.seed(3)  # the same draws, by hand: angle, then the square
    angle = np.random.uniform(-180, 180)
    for _ in range(10):
        size = int(round(np.sqrt(np.random.uniform(0.6, 1.3)) * side))
        if size <= side:
            top, left = np.random.randint(0, side - size + 1), np.random.randint(
                0, side - size + 1)
            break
    assert results['bbox_rotation'][0] == pytest.approx(angle)
    np.testing.assert_allclose(results['bbox_scale'], [[size, size]])
    points = np.array([[130., 100.], [170., 150.], [150., 120.]])
    # step 1: the rotated square crop, 1 px per image px; step 2: cut, resize to 256
    rotated = get_warp_matrix(center, np.array([side, side]), angle, (side, side))
    two_steps = ((points @ rotated[:, :2].T + rotated[:, 2]) - [left, top]) * 256 / size
    one_warp = get_warp_matrix(results['bbox_center'][0], results['bbox_scale'][0],
                               results['bbox_rotation'][0], (256, 256))
    np.testing.assert_allclose(points @ one_warp[:, :2].T + one_warp[:, 2], two_steps,
                               atol=1e-2)


def test_rotate_resized_crop_draws_uniformly_and_only_zooms_in():
    np.random.seed(0)
    transform = RandomRotateResizedCrop(rotate_degrees=30, area_range=(0.6, 1.3))
    n = 2000
    results = transform(dict(bbox_center=np.zeros((n, 2), np.float32),
                             bbox_scale=np.full((n, 2), 200, np.float32)))
    area = (results['bbox_scale'][:, 0] / 200) ** 2
    angles = results['bbox_rotation']
    assert area.max() <= 1 and area.min() >= 0.59
    assert area.mean() == pytest.approx(0.8, abs=0.01)  # uniform on [0.6, 1] in effect
    assert np.abs(angles).max() <= 30 and np.abs(angles).mean() == pytest.approx(15, abs=1)
    with pytest.raises(ValueError, match='area_range must be'):
        RandomRotateResizedCrop(area_range=(1.3, 0.6))


def test_mirror_to_chirality():
    img = np.arange(2 * 5 * 3, dtype=np.uint8).reshape(2, 5, 3)

    def hand(hand_type=None):
        results = dict(img=img.copy(), bbox=np.array([[1., 0., 3., 1.]], np.float32),
                       keypoints=np.array([[[0., 0.], [4., 1.]]], np.float32))
        if hand_type:
            results['hand_type'] = hand_type
        return results

    mirrored = MirrorToChirality('left')(hand('right'))
    np.testing.assert_array_equal(mirrored['img'], img[:, ::-1])
    np.testing.assert_allclose(mirrored['keypoints'], [[[4., 0.], [0., 1.]]])
    np.testing.assert_allclose(mirrored['bbox'], [[1., 0., 3., 1.]])
    assert mirrored['hand_type'] == 'left'
    kept = MirrorToChirality('left')(hand('left'))
    np.testing.assert_array_equal(kept['img'], img)
    np.testing.assert_array_equal(MirrorToChirality('left')(hand())['img'], img)
    np.testing.assert_array_equal(
        MirrorToChirality('left', default_hand_type='right')(hand())['img'], img[:, ::-1])
    with pytest.raises(ValueError, match='chirality must be one of'):
        MirrorToChirality('both')


def test_shared_hand_dataset_passes_hand_type(pose_samples, tmp_path):
    coco = json.loads((pose_samples / 'freihand' / 'test_freihand.json').read_text())
    coco['annotations'] = coco['annotations'][:2]
    coco['annotations'][0]['hand_type'] = 'right'
    (tmp_path / 'ann.json').write_text(json.dumps(coco))
    init_default_scope('mmpose')
    dataset = DATASETS.build(dict(type='SharedHandDataset', ann_file=str(tmp_path / 'ann.json'),
                                  data_prefix=dict(img=f'{pose_samples}/freihand/'),
                                  test_mode=True, pipeline=[]))
    assert dataset[0]['hand_type'] == 'right' and 'hand_type' not in dataset[1]
