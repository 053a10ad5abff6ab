"""The embedded benchmark's generator: deterministic, two styles, COCO form read like real data,
and a cache that is never half-written."""
import json
import os

import numpy as np
import pytest

import mmpose_regda  # noqa: F401
from mmpose.registry import DATASETS
from mmpose_regda.datasets import synthetic_hands as sh


def test_deterministic_by_seed_and_domain():
    images_a, points_a = sh.generate('source', 3, seed=5)
    images_b, points_b = sh.generate('source', 3, seed=5)
    assert all(np.array_equal(a, b) for a, b in zip(images_a, images_b))
    assert all(np.array_equal(a, b) for a, b in zip(points_a, points_b))
    other_seed = sh.generate('source', 3, seed=6)[1]
    other_domain = sh.generate('target', 3, seed=5)[1]
    assert not np.allclose(points_a[0], other_seed[0])
    assert not np.allclose(points_a[0], other_domain[0])
    with pytest.raises(ValueError, match='domain must be'):
        sh.generate('real', 1, 0)


def test_hands_have_the_shared_layout_inside_the_image():
    _, points = sh.generate('target', 20, seed=0)
    for p in points:
        assert p.shape == (21, 2)
        assert (p > 0).all() and (p < sh.IMAGE_SIZE).all()
        # each finger goes outwards from the wrist, base to tip (a hand, not a tangle)
        for finger in range(5):
            base, tip = p[1 + 4 * finger], p[4 + 4 * finger]
            assert np.linalg.norm(tip - p[0]) > 0.5 * np.linalg.norm(base - p[0])


def finger_colour_spread(domain, **style):
    """How different the five fingers' colours are (median over a few images)."""
    spreads = []
    images, points = sh.generate(domain, 8, seed=3, **style)
    for image, p in zip(images, points):
        colours = [image[int(p[4 * f + 2, 1]), int(p[4 * f + 2, 0])].astype(float)
                   for f in range(5)]
        spreads.append(np.std(colours, axis=0).mean())
    return np.median(spreads)


def test_the_source_tints_fingers_and_the_target_does_not():
    tinted = finger_colour_spread('source', finger_tint=(0.35, 0.35))
    assert tinted > 2 * finger_colour_spread('target')
    assert finger_colour_spread('source', finger_tint=(0., 0.)) < tinted / 2
    with pytest.raises(ValueError, match=r"unknown style factors \['tint'\]"):
        sh.generate('source', 1, 0, tint=0.5)


def test_cached_split_in_coco_form_read_by_the_datasets(tmp_path):
    from mmengine.registry import init_default_scope
    init_default_scope('mmpose')
    dataset = DATASETS.build(dict(type='SyntheticHands', domain='source', split='test',
                                  num_images=4, seed=1, cache_root=str(tmp_path)))
    assert type(dataset).__name__ == 'SharedHandDataset' and len(dataset) == 4
    folder = next(tmp_path.glob('*/source_test'))
    coco = json.loads((folder / 'annotations.json').read_text())
    _, points = sh.generate('source', 4, seed=1 * 1000 + 1)
    np.testing.assert_allclose(
        np.array(coco['annotations'][2]['keypoints']).reshape(21, 3)[:, :2], points[2],
        rtol=1e-6)
    x, y, w, h = coco['annotations'][2]['bbox']
    assert x == pytest.approx(points[2][:, 0].min()) and w == pytest.approx(np.ptp(points[2][:, 0]))
    unlabeled = DATASETS.build(dict(type='SyntheticHands', domain='source', split='test',
                                    num_images=4, seed=1, cache_root=str(tmp_path),
                                    labeled=False))
    assert type(unlabeled).__name__ == 'UnlabeledTopdownDataset'
    assert not unlabeled.get_data_info(0)['keypoints_visible'].any()
    # reused, not regenerated
    stamp = os.path.getmtime(folder / 'annotations.json')
    sh.ensure_split(str(folder.parent), 'source', 'test', 4, 1)
    assert os.path.getmtime(folder / 'annotations.json') == stamp


def test_an_interrupted_generation_leaves_nothing(tmp_path, monkeypatch):
    def failing_imwrite(*args):
        raise KeyboardInterrupt
    monkeypatch.setattr(sh.cv2, 'imwrite', failing_imwrite)
    with pytest.raises(KeyboardInterrupt):
        sh.ensure_split(str(tmp_path), 'target', 'train', 3, 0)
    assert list(tmp_path.iterdir()) == []


def test_splits_generated_in_parallel_are_those_generated_one_by_one(tmp_path):
    cfgs = [dict(type='SyntheticHands', domain=domain, split=split, num_images=3, seed=2)
            for domain in ('source', 'target') for split in ('train', 'test')]
    for cfg, processes in ((dict(cache_root=str(tmp_path / 'serial')), 1),
                           (dict(cache_root=str(tmp_path / 'parallel')), 2)):
        sh.generate_splits([dict(c, **cfg) for c in cfgs] + [dict(cfgs[0], **cfg)], processes)
    serial = sorted(p.relative_to(tmp_path / 'serial') for p in (tmp_path / 'serial').rglob('*.*'))
    assert len(serial) == 4 * 4  # 3 images and an annotation file per split
    for name in serial:
        assert (tmp_path / 'serial' / name).read_bytes() == \
            (tmp_path / 'parallel' / name).read_bytes(), name


def tip_to_wrist(points):
    """Mean distance from the fingertips to the wrist, over the palm length."""
    return np.mean([np.linalg.norm(p[[4, 8, 12, 16, 20]] - p[0], axis=1).mean()
                    / np.linalg.norm(p[9] - p[0]) for p in points])


def test_pose_and_viewpoint_factors_change_the_hands_not_the_default_draws(monkeypatch):
    default = sh.generate('target', 30, seed=4)[1]
    explicit = sh.generate('target', 30, seed=4, **sh.POSE)[1]
    assert all(np.array_equal(a, b) for a, b in zip(default, explicit))
    # grasping hands: the fingertips come back towards the palm
    grasping = sh.generate('target', 30, seed=4, grasp=1.)[1]
    assert tip_to_wrist(grasping) < 0.85 * tip_to_wrist(default)
    # tilted hands: squashed across one axis, so their spread is more elongated
    def elongation(points):
        return np.mean([np.divide(*sorted(np.linalg.svd(p - p.mean(0))[1])[::-1])
                        for p in points])
    tilted = sh.generate('target', 30, seed=4, tilt=(60., 60.))[1]
    assert elongation(tilted) > 1.2 * elongation(default)
    # the same people in every split; each hand has the palm of one of them (up to 3%)
    fresh = sh._people.__wrapped__(10)  # drawn again, as in another process
    assert len(fresh) == 10 and all(a['palm'] == b['palm'] and np.array_equal(
        a['lengths'], b['lengths']) for a, b in zip(fresh, sh._people(10)))
    monkeypatch.setattr(sh, '_people', lambda count: (
        dict(palm=30., lengths=sh.FINGER_LENGTH), dict(palm=40., lengths=sh.FINGER_LENGTH)))
    rng = np.random.RandomState(0)
    palms = [sh.sample_hand(rng, dict(identities=2))[1] for _ in range(40)]
    assert all(min(abs(palm - 30), abs(palm - 40)) <= 40 * 0.03 for palm in palms)
    assert min(palms) < 31 and max(palms) > 39
    assert any(32 < sh.sample_hand(rng)[1] < 38 for _ in range(20))  # without: any size
    with pytest.raises(ValueError, match=r"\(appearance\) or \[.*'tilt'.*\] \(pose\)"):
        sh.generate('target', 1, 0, tilts=(0., 10.))
