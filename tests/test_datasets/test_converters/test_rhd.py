"""RHD pickles to COCO json: finger reversal, one instance per hand, the visible/box filters,
boxes clipped to the image, the real samples, and malformed records."""
import json
import pickle
import shutil

import numpy as np
import pytest

from mmpose_regda.datasets.converters import convert_rhd

from converter_helpers import assert_fails_cleanly, kpts, read_json, run_converter_tool, write_image

# RHD lists the wrist then each finger tip -> base; a hand drawn that way (x by finger, tips at
# y=100, bases at y=160) ...
LEFT_RHD = [(50, 200)] + [(60 + 20 * f, 100 + 20 * k) for f in range(5) for k in range(4)]
# ... reads base -> tip in the shared order
LEFT_SHARED = [(50, 200)] + [(60 + 20 * f, 160 - 20 * j) for f in range(5) for j in range(4)]
# the shared keypoint i is RHD's row REVERSED[i]
REVERSED = [0, 4, 3, 2, 1, 8, 7, 6, 5, 12, 11, 10, 9, 16, 15, 14, 13, 20, 19, 18, 17]


def hand(points, visible=None):
    rows = np.zeros((21, 3))
    rows[:, :2] = points
    rows[:, 2] = 1 if visible is None else visible
    return rows


def sample(left, right):
    return {'uv_vis': np.concatenate([left, right]), 'xyz': np.zeros((42, 3)), 'K': np.eye(3)}


def write_rhd(root, training, evaluation):
    for folder, samples in (('training', training), ('evaluation', evaluation)):
        (root / folder).mkdir(parents=True, exist_ok=True)
        with open(root / folder / f'anno_{folder}.pickle', 'wb') as f:
            pickle.dump(samples, f)
        for sample_id in samples:
            write_image(root / folder / 'color' / f'{sample_id:05d}.png')
    return root


@pytest.fixture
def rhd_root(tmp_path):
    invisible = hand(np.full((21, 2), 5.), visible=0)
    # right hand of sample 0: 16 visible (the thumb's tip and the little finger hidden), a
    # 70 x 100 box -> filtered unless min_visible < 16
    right0 = hand(np.array(LEFT_RHD) + [150, 0], visible=[1, 0] + [1] * 15 + [0] * 4)
    # left hand of sample 1: all visible, but a 22 x 60 px box -> filtered unless box <= 60
    small = hand([(10, 70)] + [(12 + 5 * f, 10 + 10 * k) for f in range(5) for k in range(4)])
    # right hand of sample 1: 17 visible (thumb hidden, at junk coordinates), wrist outside
    right1 = hand([(330, 250)] + [(999, 999)] * 4
                  + [(200 + 20 * f, 100 + 20 * k) for f in range(1, 5) for k in range(4)],
                  visible=[1] + [0] * 4 + [1] * 16)
    training = {0: sample(hand(LEFT_RHD), right0), 1: sample(small, right1),
                2: sample(invisible, invisible)}
    evaluation = {7: sample(hand(LEFT_RHD), invisible)}
    return write_rhd(tmp_path / 'RHD', training, evaluation)


def test_converts_hands_in_shared_order_and_filters(rhd_root, tmp_path):
    out = tmp_path / 'out'
    stdout = run_converter_tool('rhd2coco', '--root', rhd_root, '--out-dir', out)
    train, test = read_json(out / 'rhd_train.json'), read_json(out / 'rhd_test.json')

    assert train['images'] == [
        dict(id=0, file_name='training/color/00000.png', width=320, height=320),
        dict(id=1, file_name='training/color/00001.png', width=320, height=320)]
    left, right = train['annotations']
    assert (left['id'], left['image_id'], left['hand_type']) == (1, 0, 'left')
    np.testing.assert_array_equal(kpts(left)[:, :2], LEFT_SHARED)
    np.testing.assert_array_equal(kpts(left)[:, 2], [2] * 21)
    assert left['bbox'] == [50, 100, 90, 100] and left['area'] == 9000
    assert left['num_keypoints'] == 21 and left['category_id'] == 1 and left['iscrowd'] == 0

    assert (right['id'], right['image_id'], right['hand_type']) == (2, 1, 'right')
    expected = np.zeros((21, 3))
    expected[0] = [330, 250, 2]  # outside the image, but labelled: kept as it is
    expected[5:] = [(200 + 20 * f, 160 - 20 * j, 2) for f in range(1, 5) for j in range(4)]
    np.testing.assert_array_equal(kpts(right), expected)  # hidden thumb: 0, 0, 0
    # x from 220 to 330, clipped to the image's 320; y from 100 to 250
    assert right['bbox'] == [220, 100, 100, 150] and right['area'] == 15000
    assert right['num_keypoints'] == 17

    assert train['info']['filtered'] == {'with at most 16 visible keypoints': 3,
                                         'with a box of at most 64 px': 1}
    assert [a['image_id'] for a in test['annotations']] == [7]
    np.testing.assert_array_equal(kpts(test['annotations'][0])[:, :2], LEFT_SHARED)
    assert test['info']['filtered'] == {'with at most 16 visible keypoints': 1}

    names = train['categories'][0]['keypoints']
    assert len(names) == 21 and names[0] == 'wrist'
    assert names[1:5] == ['thumb1', 'thumb2', 'thumb3', 'thumb4']
    assert train['categories'][0]['skeleton'][:5] == [[1, 2], [2, 3], [3, 4], [4, 5], [1, 6]]
    assert f'{out / "rhd_train.json"}: 2 images, 2 instances kept, 4 filtered' in stdout
    assert f'{out / "rhd_test.json"}: 1 images, 1 instances kept, 1 filtered' in stdout


def test_thresholds_are_options(rhd_root):
    outputs = convert_rhd(str(rhd_root), min_visible=15, min_box_size=60, splits=['train'])
    kept = outputs['rhd_train.json']['annotations']
    # the 16-visible right hand of sample 0 passes > 15; the 60 px hand still fails > 60
    assert [(a['image_id'], a['hand_type']) for a in kept] == [(0, 'left'), (0, 'right'),
                                                               (1, 'right')]
    outputs = convert_rhd(str(rhd_root), min_box_size=59.9, splits=['train'])
    assert [(a['image_id'], a['hand_type']) for a in outputs['rhd_train.json']['annotations']
            ] == [(0, 'left'), (1, 'left'), (1, 'right')]
    assert set(outputs) == {'rhd_train.json'}


def test_real_samples(pose_samples, tmp_path):
    """mmpose's three RHD samples (RHD's tip-to-base order) put back into an RHD pickle, each
    in the rows of its own hand."""
    sample_json = json.loads((pose_samples / 'rhd' / 'test_rhd.json').read_text())
    files = {image['id']: image['file_name'] for image in sample_json['images']}
    root, samples = tmp_path / 'RHD', {}
    (root / 'evaluation' / 'color').mkdir(parents=True)
    for ann in sample_json['annotations']:
        rows = np.zeros((42, 3))
        first = 0 if ann['hand_type'] == 'left' else 21
        rows[first:first + 21] = ann['keypoints']
        samples[ann['image_id']] = {'uv_vis': rows, 'xyz': np.zeros((42, 3)), 'K': np.eye(3)}
        shutil.copy(pose_samples / 'rhd' / files[ann['image_id']],
                    root / 'evaluation' / 'color' / f'{ann["image_id"]:05d}.png')
    with open(root / 'evaluation' / 'anno_evaluation.pickle', 'wb') as f:
        pickle.dump(samples, f)

    # with the reference's thresholds, 11111's hand (49.7 x 40.1 px) is too small
    default = convert_rhd(str(root), splits=['test'])['rhd_test.json']
    assert [a['image_id'] for a in default['annotations']] == [111, 1111]
    # ... and each sample's other hand has no visible keypoint
    assert default['info']['filtered'] == {'with a box of at most 64 px': 1,
                                           'with at most 16 visible keypoints': 3}

    converted = convert_rhd(str(root), tmp_path / 'out', min_box_size=40, splits=['test'])
    coco = json.loads((tmp_path / 'out' / 'rhd_test.json').read_text())
    assert coco == converted['rhd_test.json']
    assert [(i['id'], i['file_name']) for i in coco['images']] == [
        (111, 'evaluation/color/00111.png'), (1111, 'evaluation/color/01111.png'),
        (11111, 'evaluation/color/11111.png')]
    for ann, raw in zip(coco['annotations'], sample_json['annotations']):
        raw_points = np.asarray(raw['keypoints'])
        assert ann['hand_type'] == raw['hand_type'] and ann['num_keypoints'] == 21
        np.testing.assert_allclose(kpts(ann)[:, :2], raw_points[REVERSED, :2], rtol=0, atol=1e-9)
        # every keypoint of the samples is visible: the box is their min/max
        low, high = raw_points[:, :2].min(axis=0), raw_points[:, :2].max(axis=0)
        np.testing.assert_allclose(ann['bbox'], [*low, *(high - low)], atol=1e-9)
    # the plugin's hand dataset reads the file in the shared order as it is
    from mmpose_regda.datasets import SharedHandDataset
    dataset = SharedHandDataset(ann_file=str(tmp_path / 'out' / 'rhd_test.json'),
                                data_root=str(root), data_prefix=dict(img=''), pipeline=[],
                                test_mode=True)
    assert [dataset[i]['img_path'] for i in range(3)] == [
        str(root / 'evaluation' / 'color' / f'{i:05d}.png') for i in (111, 1111, 11111)]
    np.testing.assert_allclose(dataset[2]['keypoints'][0], kpts(coco['annotations'][2])[:, :2],
                               atol=1e-4)
    # the wrist stays first, the thumb's tip (RHD row 1) becomes shared keypoint 4
    first = np.asarray(sample_json['annotations'][0]['keypoints'])
    np.testing.assert_allclose(kpts(coco['annotations'][0])[[0, 4]], [[*first[0, :2], 2],
                                                                      [*first[1, :2], 2]])


def spread(x0, y0, x1, y1):
    """20 finger keypoints spanning the box exactly."""
    return [(x, y) for x in np.linspace(x0, x1, 5) for y in np.linspace(y0, y1, 4)]


def test_reference_selection_options(tmp_path):
    """The reference's box of all keypoints, size test on its 1.5x crop, and overlap filter."""
    # left hand: 20 visible keypoints spanning (100, 100)-(150, 150), the wrist hidden at
    # (90, 95). Visible box 50 px: too small (<= 64) by default. All keypoints: (90, 95)-(150,
    # 150); its crop: side round(1.5 * 60) = 90 around (120, 122.5): (75, 78)-(164, 167),
    # size 164 - 75 = 89 > 64.
    left = hand([(90, 95)] + spread(100, 100, 150, 150), visible=[0] + [1] * 20)
    # sample 0's right hand, (160, 100)-(230, 170): covers 5 x 68 px of the left crop (4%)
    right0 = hand([(160, 135)] + spread(160, 100, 230, 170))
    # sample 1's right hand, (110, 110)-(200, 160): covers (110, 110)-(164, 160) of the left
    # crop, 55 x 51 / 90^2 = 35% >= 30%. The left box covers 61 x 56 of its own crop, side 135
    # (19%): it stays.
    right1 = hand([(110, 135)] + spread(110, 110, 200, 160))
    root = write_rhd(tmp_path / 'RHD', {0: sample(left, right0), 1: sample(left, right1)},
                     {})

    default = convert_rhd(str(root), splits=['train'])['rhd_train.json']
    assert [(a['image_id'], a['hand_type']) for a in default['annotations']] == [
        (0, 'right'), (1, 'right')]
    out = tmp_path / 'out'
    stdout = run_converter_tool('rhd2coco', '--root', root, '--out-dir', out, '--splits',
                                'train', '--reference')
    reference = read_json(out / 'rhd_train.json')
    kept = [(a['image_id'], a['hand_type']) for a in reference['annotations']]
    assert kept == [(0, 'left'), (0, 'right'), (1, 'right')]
    assert reference['annotations'][0]['bbox'] == [90, 95, 60, 55]  # hidden wrist included
    assert reference['info']['filtered'] == {
        'whose crop the other hand covers by at least 0.3': 1}
    assert '3 instances kept, 1 filtered' in stdout
    # each rule on its own
    boxes = convert_rhd(str(root), splits=['train'], box='all')['rhd_train.json']
    assert len(boxes['annotations']) == 2  # the left hands' 60 px box is still <= 64
    boxes = convert_rhd(str(root), splits=['train'], box='all', size_of='crop')
    assert boxes['rhd_train.json']['annotations'][2]['bbox'] == [90, 95, 60, 55]
    crops = convert_rhd(str(root), splits=['train'], size_of='crop')['rhd_train.json']
    assert len(crops['annotations']) == 4  # no overlap filter: both left hands kept
    assert crops['annotations'][0]['bbox'] == [100, 100, 50, 50]


@pytest.mark.parametrize('bad_record, message', [
    ({'uv_vis': np.zeros((41, 3))}, 'field `uv_vis` has shape (41, 3); expected (42, 3)'),
    ({'xyz': np.zeros((42, 3))}, 'field `uv_vis` is missing'),
    ({'uv_vis': np.full((42, 3), np.nan)}, 'field `uv_vis` holds NaN'),
])
def test_malformed_record_writes_nothing(rhd_root, tmp_path, bad_record, message):
    """The bad record is in the evaluation split, read after the training split converted
    fine: still neither file is written."""
    ann_file = rhd_root / 'evaluation' / 'anno_evaluation.pickle'
    samples = pickle.loads(ann_file.read_bytes())
    samples[5] = bad_record
    ann_file.write_bytes(pickle.dumps(samples))
    out = tmp_path / 'out'
    assert_fails_cleanly(lambda: convert_rhd(str(rhd_root), str(out)), out, 'rhd_train.json',
                         'rhd_test.json', f'{ann_file}: sample 5: ', message)


def test_missing_image_and_cli_error(rhd_root, tmp_path):
    (rhd_root / 'training' / 'color' / '00001.png').unlink()
    out = tmp_path / 'out'
    assert_fails_cleanly(lambda: convert_rhd(str(rhd_root), str(out)), out, 'rhd_test.json',
                         'rhd_train.json', 'anno_training.pickle: sample 1: image ',
                         '00001.png not found')
    with pytest.raises(SystemExit) as exit_:
        run_converter_tool('rhd2coco', '--root', rhd_root, '--out-dir', out)
    assert 'sample 1: image' in str(exit_.value) and 'no json file was written' in str(
        exit_.value)


def test_a_truncated_pickle_ends_with_the_clean_error(rhd_root, tmp_path):
    ann_file = rhd_root / 'training' / 'anno_training.pickle'
    ann_file.write_bytes(ann_file.read_bytes()[:200])
    out = tmp_path / 'out'
    assert_fails_cleanly(lambda: convert_rhd(str(rhd_root), str(out)), out, 'rhd_test.json',
                         'rhd_train.json', f'{ann_file}: cannot be read as a pickle (',
                         'truncated or damaged')
    with pytest.raises(SystemExit, match=r'anno_training\.pickle: cannot be read as a pickle '
                       r'.*\(no json file was written\)'):
        run_converter_tool('rhd2coco', '--root', rhd_root, '--out-dir', out)


class WritesMarker:
    """What a crafted pickle holds: unpickling it calls ``os.system`` to create a file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import os
        return os.system, (f'touch {self.marker}', )


@pytest.mark.parametrize('protocol', [2, pickle.DEFAULT_PROTOCOL])
def test_a_crafted_pickle_is_refused_before_it_runs(rhd_root, tmp_path, protocol):
    ann_file = rhd_root / 'training' / 'anno_training.pickle'
    marker = tmp_path / 'ran'
    samples = pickle.loads(ann_file.read_bytes())
    samples[0]['K'] = WritesMarker(marker)  # hidden in a record, as an attacker would
    ann_file.write_bytes(pickle.dumps(samples, protocol=protocol))
    out = tmp_path / 'out'
    message = assert_fails_cleanly(
        lambda: convert_rhd(str(rhd_root), str(out)), out, 'rhd_test.json', 'rhd_train.json',
        f'{ann_file}: refused: the pickle names the global `posix.system`', 'nothing in it was run')
    assert not marker.exists() and 'truncated' not in message
    with pytest.raises(SystemExit, match=r'anno_training\.pickle: refused: .*`posix\.system`.*'
                       r'\(no json file was written\)'):
        run_converter_tool('rhd2coco', '--root', rhd_root, '--out-dir', out)
    assert not marker.exists()


@pytest.mark.parametrize('protocol', [2, pickle.DEFAULT_PROTOCOL, 5, 'python2 names'])
def test_genuine_pickles_still_load(tmp_path, protocol):
    """RHD's pickles: dicts of numpy arrays (float32 and float64, as RHD's), numpy scalars and
    sets; in numpy 1's module names (``numpy.core``, as Python 2 wrote RHD's files) too."""
    from mmpose_regda.datasets.converters.rhd import load_rhd_annotations
    samples = {i: {'uv_vis': np.full((42, 3), i, np.float32), 'xyz': np.zeros((42, 3)),
                   'K': np.eye(3), 'scale': np.float32(0.5), 'tags': {'a', 'b'}}
               for i in range(3)}
    if protocol == 'python2 names':
        data = pickle.dumps(samples, protocol=2).replace(b'numpy._core.', b'numpy.core.')
        assert b'numpy.core.multiarray\n_reconstruct' in data
    else:
        data = pickle.dumps(samples, protocol=protocol)
    (tmp_path / 'anno.pickle').write_bytes(data)
    loaded = load_rhd_annotations(str(tmp_path / 'anno.pickle'))
    assert sorted(loaded) == [0, 1, 2] and loaded[2]['tags'] == {'a', 'b'}
    for i, record in loaded.items():
        assert record['uv_vis'].dtype == np.float32
        np.testing.assert_array_equal(record['uv_vis'], samples[i]['uv_vis'])
        np.testing.assert_array_equal(record['K'], np.eye(3))
        assert record['scale'] == np.float32(0.5)
