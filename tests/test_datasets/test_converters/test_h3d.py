"""H3D (the assumed layout: annotations.json + images/) to COCO json: keypoints with and without
visibility, the seeded test draw, and malformed records."""
import json

import numpy as np
import pytest

from mmpose_regda.datasets.converters import convert_h3d

from converter_helpers import assert_fails_cleanly, kpts, read_json, run_converter_tool, write_image


def points(i):
    """Record i's 21 keypoints: x = 10 i + k, y = 5 + 2 k for keypoint k."""
    return [[10 * i + k, 5 + 2 * k] for k in range(21)]


@pytest.fixture
def h3d_root(tmp_path):
    root = tmp_path / 'H3D'
    records = []
    for i in range(6):
        image = f'subject{i % 2}/frame_{i}.jpg'
        write_image(root / 'images' / image)
        records.append(dict(image=image, width=100, height=60, keypoints=points(i)))
    # record 4 comes with visibility: keypoints 0 and 20 are not visible
    records[4]['keypoints'] = [p + [0 if k in (0, 20) else 1] for k, p in enumerate(points(4))]
    (root / 'annotations.json').write_text(json.dumps(records))
    return root


def test_split_keypoints_and_boxes(h3d_root, tmp_path):
    out = tmp_path / 'out'
    stdout = run_converter_tool('h3d2coco', '--root', h3d_root, '--out-dir', out,
                                '--num-test', 2)
    train, test = read_json(out / 'h3d_train.json'), read_json(out / 'h3d_test.json')
    # np.random.RandomState(42).permutation(6) = [0 1 5 2 4 3]: records 0 and 1 test
    assert [i['id'] for i in test['images']] == [1, 2]
    assert [i['id'] for i in train['images']] == [3, 4, 5, 6]
    assert test['images'][1] == dict(id=2, file_name='images/subject1/frame_1.jpg', width=100,
                                     height=60)

    record2 = train['annotations'][0]
    assert record2['image_id'] == 3 and record2['num_keypoints'] == 21
    np.testing.assert_array_equal(kpts(record2), [[20 + k, 5 + 2 * k, 2] for k in range(21)])
    # x from 20 to 40, y from 5 to 45
    assert record2['bbox'] == [20, 5, 20, 40] and record2['area'] == 800

    record4 = train['annotations'][2]
    expected = np.array([[40 + k, 5 + 2 * k, 2] for k in range(21)], dtype=float)
    expected[[0, 20]] = 0
    np.testing.assert_array_equal(kpts(record4), expected)
    assert record4['num_keypoints'] == 19 and record4['bbox'] == [41, 7, 18, 36]
    # record 5: x from 50 to 70, y from 5 to 45; clipped to the 60 px height: unchanged
    assert train['annotations'][3]['bbox'] == [50, 5, 20, 40]
    assert 'h3d_train.json: 4 images, 4 instances kept, 0 filtered (none)' in stdout


def test_default_split_draws_3200(h3d_root):
    with pytest.raises(Exception, match='cannot hold out 3200 test items of 6'):
        convert_h3d(str(h3d_root))
    outputs = convert_h3d(str(h3d_root), num_test=3, seed=0)
    # np.random.RandomState(0).permutation(6) = [5 2 1 3 0 4]
    assert [i['id'] for i in outputs['h3d_test.json']['images']] == [2, 3, 6]


@pytest.mark.parametrize('field, value, message', [
    ('keypoints', [[1, 2]] * 20, 'field `keypoints` has shape (20, 2); expected (21, 2) or '
                                 '(21, 3)'),
    ('image', None, 'field `image` must be a path relative to'),
    ('width', 'wide', 'field `width` is not a numeric array'),
])
def test_malformed_record_writes_nothing(h3d_root, tmp_path, field, value, message):
    ann_file = h3d_root / 'annotations.json'
    records = json.loads(ann_file.read_text())
    records[3][field] = value
    ann_file.write_text(json.dumps(records))
    out = tmp_path / 'out'
    assert_fails_cleanly(lambda: convert_h3d(str(h3d_root), str(out), num_test=2), out,
                         'h3d_test.json', 'h3d_train.json', f'{ann_file}: record 3: ', message)


def test_a_truncated_json_ends_with_the_clean_error(h3d_root, tmp_path):
    ann_file = h3d_root / 'annotations.json'
    ann_file.write_text(ann_file.read_text()[:-10])
    out = tmp_path / 'out'
    assert_fails_cleanly(lambda: convert_h3d(str(h3d_root), str(out), num_test=2), out,
                         'h3d_test.json', 'h3d_train.json',
                         f'{ann_file}: cannot be read as json (JSONDecodeError: ')
    with pytest.raises(SystemExit, match=r'annotations\.json: cannot be read as json'):
        run_converter_tool('h3d2coco', '--root', h3d_root, '--out-dir', out, '--num-test', 2)
