"""The dSprites-style generator: deterministic, the keypoint at the shape's centre inside A, three
domains that differ as the paper's, COCO form read like real data, flips, and an atomic cache."""
import json
import os

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope

import mmpose_regda  # noqa: F401
from mmpose.registry import DATASETS, MODELS
from mmpose_regda.datasets import procedural_cache
from mmpose_regda.datasets import synthetic_sprites as ss
from conftest import REPO_ROOT

LOW, HIGH = ss.KEYPOINT_AREA


def replay(domain, num_images, seed):
    """What ``generate`` draws, step by step, with the background and the coverage it hides."""
    rng = np.random.RandomState([seed, ss.DOMAINS.index(domain)])
    for _ in range(num_images):
        sprite = ss.sample_sprite(rng)
        backdrop = ss.background(domain, rng)
        coverage = ss.shape_coverage(sprite)
        yield sprite, backdrop, coverage, ss.compose(domain, backdrop, coverage, rng)


def centroid(weights):
    """(x, y) centre of mass of a (H, W) weight map."""
    ys, xs = np.mgrid[0:weights.shape[0], 0:weights.shape[1]]
    return np.array([(xs * weights).sum(), (ys * weights).sum()]) / weights.sum()


def test_deterministic_by_seed_and_domain():
    images_a, points_a = ss.generate('scream', 3, seed=5)
    images_b, points_b = ss.generate('scream', 3, seed=5)
    assert all(np.array_equal(a, b) for a, b in zip(images_a, images_b))
    assert all(np.array_equal(a, b) for a, b in zip(points_a, points_b))
    assert not np.allclose(points_a[0], ss.generate('scream', 1, seed=6)[1][0])
    assert not np.allclose(points_a[0], ss.generate('color', 1, seed=5)[1][0])
    assert images_a[0].shape == (64, 64, 3) and images_a[0].dtype == np.uint8
    assert points_a[0].shape == (1, 2)
    with pytest.raises(ValueError, match="domain must be one of .* got 'real'"):
        ss.generate('real', 1, 0)


@pytest.mark.parametrize('domain', ss.DOMAINS)
def test_keypoint_is_the_drawn_shapes_centre_inside_A(domain):
    images, points = ss.generate(domain, 24, seed=0)
    shapes = set()
    for (sprite, backdrop, coverage, image), drawn, point in zip(replay(domain, 24, 0), images,
                                                                  points):
        assert np.array_equal(image, drawn)  # the replay is what generate drew
        shapes.add(sprite.shape)
        x, y = point[0]
        assert LOW <= x <= HIGH and LOW <= y <= HIGH
        assert round(x) in range(LOW, HIGH + 1) and round(y) in range(LOW, HIGH + 1)
        # the whole shape is in the image, so its centre of area is not cut
        assert coverage[[0, -1], :].sum() == 0 and coverage[:, [0, -1]].sum() == 0
        np.testing.assert_allclose(centroid(coverage), point[0], atol=0.15)
        # by hand from the image: the pixels the shape changed, against the background
        changed = np.abs(image.astype(float) - np.round(backdrop)).max(axis=-1) > 8
        np.testing.assert_allclose(centroid(changed.astype(float)), point[0], atol=0.5)
    assert shapes == set(ss.SHAPES)


def test_the_three_domains_look_as_in_the_paper():
    for sprite, backdrop, coverage, image in replay('color', 8, 1):
        inside, outside = coverage == 1, coverage == 0
        assert (image[outside] == 0).all()  # black background
        colours = np.unique(image[inside], axis=0)
        assert len(colours) == 1 and colours.max() == 255  # one bright colour per shape
    colours = [image[coverage == 1][0] for _, _, coverage, image in replay('color', 8, 1)]
    assert len(np.unique(colours, axis=0)) == 8  # a random colour per image

    for sprite, backdrop, coverage, image in replay('noisy', 8, 1):
        assert (image[coverage == 1] == 255).all()  # white shape
        background = image[coverage == 0].astype(float)
        assert background.std(axis=0).min() > 60  # uniform noise in [0, 255]: std 74
        # per-pixel noise: neighbours are unrelated
        assert np.abs(np.diff(image.astype(float), axis=1)).mean() > 60

    for sprite, backdrop, coverage, image in replay('scream', 8, 1):
        inside, outside = coverage == 1, coverage == 0
        np.testing.assert_allclose(image[inside], 255 - backdrop[inside], atol=0.51)
        np.testing.assert_allclose(image[outside], backdrop[outside], atol=0.51)
        # a painting, not noise: smooth between neighbours, saturated colours
        assert np.abs(np.diff(backdrop, axis=1)).mean() < 25
        assert (backdrop.max(axis=-1) - backdrop.min(axis=-1)).mean() > 60


def build(**kwargs):
    init_default_scope('mmpose')
    return DATASETS.build(dict(type='SyntheticSprites', **kwargs))


def test_cached_split_in_coco_form_read_by_the_datasets(tmp_path):
    dataset = build(domain='noisy', split='test', num_images=4, seed=1, cache_root=str(tmp_path))
    assert len(dataset) == 4 and dataset.metainfo['num_keypoints'] == 1
    assert dataset.metainfo['keypoint_id2name'] == {0: 'center'}
    assert dataset.metainfo['flip_indices'] == [0]
    folder = next(tmp_path.glob('*/noisy_test'))
    assert folder.parent.name.startswith('seed1_n4_')
    coco = json.loads((folder / 'annotations.json').read_text())
    _, points = ss.generate('noisy', 4, seed=procedural_cache.split_seed(1, 'test'))
    np.testing.assert_allclose(coco['annotations'][2]['keypoints'][:2], points[2][0], rtol=1e-6)
    assert coco['annotations'][2]['bbox'] == [0, 0, 64, 64]  # the crop is the whole image
    info = dataset.get_data_info(2)
    np.testing.assert_allclose(info['keypoints'][0], points[2], rtol=1e-6)

    unlabeled = build(domain='noisy', split='test', num_images=4, seed=1,
                      cache_root=str(tmp_path), labeled=False)
    assert type(unlabeled).__name__ == 'UnlabeledTopdownDataset'
    assert not unlabeled.get_data_info(0)['keypoints_visible'].any()
    # reused, not regenerated
    stamp = os.path.getmtime(folder / 'annotations.json')
    ss.ensure_split(str(folder.parent), 'noisy', 'test', 4, 1)
    assert os.path.getmtime(folder / 'annotations.json') == stamp
    with pytest.raises(ValueError, match="SyntheticSprites: domain must be one of .* 'real'"):
        build(domain='real', split='test', num_images=4, cache_root=str(tmp_path))


def test_a_new_generator_version_gets_its_own_cache(tmp_path, monkeypatch):
    build(domain='color', split='test', num_images=2, cache_root=str(tmp_path))
    monkeypatch.setattr(ss, 'GENERATOR_VERSION', ss.GENERATOR_VERSION + 1)
    build(domain='color', split='test', num_images=2, cache_root=str(tmp_path))
    assert len(list(tmp_path.glob('seed0_n2_*/color_test'))) == 2


def test_an_interrupted_generation_leaves_nothing(tmp_path, monkeypatch):
    def failing_imwrite(*args):
        raise KeyboardInterrupt
    monkeypatch.setattr(procedural_cache.cv2, 'imwrite', failing_imwrite)
    with pytest.raises(KeyboardInterrupt):
        ss.ensure_split(str(tmp_path), 'scream', 'train', 3, 0)
    assert list(tmp_path.iterdir()) == []


def test_flips_keep_the_keypoint_on_the_shape_centre(tmp_path):
    """mmpose's RandomFlip with the one-keypoint metainfo: the centre is its own partner, and
    the flipped label stays on the flipped shape's centre."""
    pipeline = [dict(type='LoadImage'), dict(type='GetWholeImageCenterScale'),
                dict(type='RandomFlip', prob=1., direction='horizontal'),
                dict(type='TopdownAffine', input_size=(64, 64))]
    dataset = build(domain='color', split='test', num_images=3, cache_root=str(tmp_path),
                    pipeline=pipeline)
    plain = build(domain='color', split='test', num_images=3, cache_root=str(tmp_path))
    for i in range(3):
        flipped = dataset[i]
        x, y = plain.get_data_info(i)['keypoints'][0, 0]
        keypoint = flipped['transformed_keypoints'][0, 0]
        # mirrored (mmpose flips x to 63 - x; the whole-image crop then moves by one pixel)
        np.testing.assert_allclose(keypoint, [64 - x, y], atol=1e-4)
        shape = flipped['img'].max(axis=-1).astype(float)
        np.testing.assert_allclose(centroid(shape), keypoint, atol=0.3)


def test_whole_image_crop_is_the_identity(tmp_path):
    pipeline = [dict(type='LoadImage'), dict(type='GetWholeImageCenterScale'),
                dict(type='TopdownAffine', input_size=(64, 64))]
    dataset = build(domain='scream', split='test', num_images=2, cache_root=str(tmp_path),
                    pipeline=pipeline)
    raw = build(domain='scream', split='test', num_images=2, cache_root=str(tmp_path),
                pipeline=[dict(type='LoadImage')])
    for i in range(2):
        np.testing.assert_array_equal(dataset[i]['img'], raw[i]['img'])
        np.testing.assert_allclose(dataset[i]['transformed_keypoints'], raw[i]['keypoints'],
                                   atol=1e-4)


def test_flip_test_runs_on_sprites(tmp_path):
    cfg = Config.fromfile(REPO_ROOT / 'configs/_base_/models/'
                          'simplebaseline-kl_res18-quarter-2stages_64x64.py')
    cfg.model.test_cfg = dict(flip_test=True, flip_mode='heatmap', shift_heatmap=True)
    init_default_scope('mmpose')
    model = MODELS.build(cfg.model).eval()
    pipeline = Config.fromfile(REPO_ROOT / 'configs/_base_/datasets/'
                               'synthetic-sprites_64x64.py').target_test.pipeline
    dataset = build(domain='scream', split='test', num_images=2, cache_root=str(tmp_path),
                    pipeline=pipeline, test_mode=True)
    predictions = model.test_step(pseudo_collate([dataset[0], dataset[1]]))
    assert predictions[0].pred_instances.keypoints.shape == (1, 1, 2)
