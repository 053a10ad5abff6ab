"""FreiHand (xyz + K json) to COCO json: the projection, image versions N apart, the holdout that
keeps a frame's versions together, the real samples, and malformed records."""
import json
import shutil

import numpy as np
import pytest

from mmpose_regda.datasets.converters import convert_freihand

from converter_helpers import assert_fails_cleanly, kpts, read_json, run_converter_tool, write_image

N = 5


def camera(f, cx, cy):
    return [[f, 0, cx], [0, f, cy], [0, 0, 1]]


def write_freihand(root, xyz, K, image_ids):
    root.mkdir(parents=True, exist_ok=True)
    (root / 'training_xyz.json').write_text(json.dumps(np.asarray(xyz).tolist()))
    (root / 'training_K.json').write_text(json.dumps(np.asarray(K).tolist()))
    for image_id in image_ids:
        write_image(root / 'training' / 'rgb' / f'{image_id:08d}.jpg')
    return root


@pytest.fixture
def freihand_root(tmp_path):
    """Keypoint k at x = 0.01 (k - 10), y = 0.02 (k % 5 - 2) m; depth 0.5 m, except annotation 3
    at 1 m behind another camera. Images of the gs (0-4) and auto (15-19) versions."""
    k = np.arange(21)
    xyz = np.stack([0.01 * (k - 10), 0.02 * (k % 5 - 2), np.full(21, 0.5)], axis=1)
    xyz_all = [xyz] * N
    xyz_all[3] = xyz * [1, 1, 2]
    K_all = [camera(100, 112, 112)] * N
    K_all[3] = camera(200, 100, 120)
    return write_freihand(tmp_path / 'FreiHand', xyz_all, K_all,
                          [*range(N), *range(3 * N, 4 * N)])


def test_projection_versions_and_holdout(freihand_root, tmp_path):
    out = tmp_path / 'out'
    stdout = run_converter_tool('freihand2coco', '--root', freihand_root, '--out-dir', out,
                                '--versions', 'auto', 'gs', '--test-fraction', 0.2)
    train, test = read_json(out / 'freihand_train.json'), read_json(out / 'freihand_test.json')
    # one annotation of 5 held out: np.random.RandomState(42).permutation(5)[0] = 1, with both
    # its versions (gs image 1, auto image 1 + 3 * 5)
    assert [i['id'] for i in test['images']] == [1, 16]
    assert [i['id'] for i in train['images']] == [0, 2, 3, 4, 15, 17, 18, 19]
    assert train['images'][4] == dict(id=15, file_name='training/rgb/00000015.jpg', width=224,
                                      height=224)

    k = np.arange(21)
    # u = 100 * x / 0.5 + 112, v = 100 * y / 0.5 + 112
    expected = np.stack([92 + 2 * k, 104 + 4 * (k % 5), np.full(21, 2)], axis=1)
    for ann in train['annotations'][:1] + test['annotations'] + train['annotations'][4:5]:
        np.testing.assert_allclose(kpts(ann), expected, rtol=0, atol=1e-9)
    # annotation 3: u = 200 * x / 1 + 100, v = 200 * y / 1 + 120
    annotation3 = [a for a in train['annotations'] if a['image_id'] in (3, 18)]
    assert len(annotation3) == 2
    for ann in annotation3:
        np.testing.assert_allclose(kpts(ann)[:, :2], np.stack([80 + 2 * k, 112 + 4 * (k % 5)], 1),
                                   rtol=0, atol=1e-9)
        np.testing.assert_allclose(ann['bbox'], [80, 112, 40, 16], atol=1e-9)
    assert 'freihand_test.json: 2 images, 2 instances kept, 0 filtered' in stdout


def test_default_is_gs_with_a_tenth_held_out(freihand_root):
    outputs = convert_freihand(str(freihand_root))
    # round(0.1 * 5) = 0 annotations held out; only the gs images
    assert [i['id'] for i in outputs['freihand_train.json']['images']] == [0, 1, 2, 3, 4]
    assert outputs['freihand_test.json']['images'] == []


def test_real_samples(pose_samples, tmp_path):
    """mmpose's 8 FreiHand samples are the 4 versions of 2 frames (ids 355 and 17620 plus
    multiples of N = 32560): re-laid out with N = 2, with xyz and K made to project onto their
    keypoints."""
    sample_json = json.loads((pose_samples / 'freihand' / 'test_freihand.json').read_text())
    by_id = {a['image_id']: kpts(a) for a in sample_json['annotations']}
    files = {i['id']: i['file_name'] for i in sample_json['images']}
    uv = [by_id[355][:, :2], by_id[17620][:, :2]]
    for version in range(4):
        np.testing.assert_array_equal(by_id[355 + 32560 * version], by_id[355])
        np.testing.assert_array_equal(by_id[17620 + 32560 * version], by_id[17620])
    f, z = 300., 0.4 + 0.01 * np.arange(21)[:, None]
    xyz = [np.concatenate([(points - 112) * z / f, z], axis=1) for points in uv]
    root = write_freihand(tmp_path / 'FreiHand', xyz, [camera(f, 112, 112)] * 2, [])
    (root / 'training' / 'rgb').mkdir(parents=True)
    new_id = {}
    for real_id in by_id:
        annotation, version = real_id % 32560 == 17620, real_id // 32560
        new_id[real_id] = int(annotation) + 2 * version
        shutil.copy(pose_samples / 'freihand' / files[real_id],
                    root / 'training' / 'rgb' / f'{new_id[real_id]:08d}.jpg')

    outputs = convert_freihand(str(root), str(tmp_path / 'out'),
                               versions=['gs', 'hom', 'sample', 'auto'], test_fraction=0.5)
    # np.random.RandomState(42).permutation(2) = [1 0]: annotation 1 (17620) is the test frame
    test = outputs['freihand_test.json']
    assert [i['id'] for i in test['images']] == [1, 3, 5, 7]
    converted = {}
    for coco in outputs.values():
        converted.update({a['image_id']: kpts(a) for a in coco['annotations']})
    assert len(converted) == 8
    for real_id, points in by_id.items():
        np.testing.assert_allclose(converted[new_id[real_id]][:, :2], points[:, :2], rtol=0,
                                   atol=1e-3)
        assert (converted[new_id[real_id]][:, 2] == 2).all()


@pytest.mark.parametrize('edit, where, message', [
    (lambda xyz, K: K.__setitem__(1, [[1, 0], [0, 1], [0, 0]]), 'training_K.json: record 1',
     'has shape (3, 2); expected (3, 3) (camera intrinsics)'),
    (lambda xyz, K: xyz.__setitem__(2, [[0, 0, -0.5]] * 21), 'training_xyz.json: record 2',
     'keypoints [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20] are '
     'at or behind the camera'),
    (lambda xyz, K: xyz.__setitem__(4, [[0, 0, 1]] * 20), 'training_xyz.json: record 4',
     'has shape (20, 3); expected (21, 3)'),
    (lambda xyz, K: K.pop(), 'training_xyz.json has 5 annotations but', 'training_K.json has 4'),
])
def test_malformed_record_writes_nothing(freihand_root, tmp_path, edit, where, message):
    xyz = json.loads((freihand_root / 'training_xyz.json').read_text())
    K = json.loads((freihand_root / 'training_K.json').read_text())
    edit(xyz, K)
    (freihand_root / 'training_xyz.json').write_text(json.dumps(xyz))
    (freihand_root / 'training_K.json').write_text(json.dumps(K))
    out = tmp_path / 'out'
    assert_fails_cleanly(lambda: convert_freihand(str(freihand_root), str(out)), out,
                         'freihand_train.json', 'freihand_test.json',
                         f'{freihand_root}/{where}', message)


def test_missing_image_version(freihand_root, tmp_path):
    out = tmp_path / 'out'
    assert_fails_cleanly(
        lambda: convert_freihand(str(freihand_root), str(out), versions=['gs', 'hom']), out,
        'freihand_test.json', 'freihand_train.json', 'training_xyz.json: record 0 (hom version)',
        '00000005.jpg not found')


def test_a_truncated_json_ends_with_the_clean_error(freihand_root, tmp_path):
    xyz_file = freihand_root / 'training_xyz.json'
    xyz_file.write_text(xyz_file.read_text()[:100])
    out = tmp_path / 'out'
    assert_fails_cleanly(lambda: convert_freihand(str(freihand_root), str(out)), out,
                         'freihand_test.json', 'freihand_train.json',
                         f'{xyz_file}: cannot be read as json (JSONDecodeError: ')
    with pytest.raises(SystemExit, match=r'training_xyz\.json: cannot be read as json'):
        run_converter_tool('freihand2coco', '--root', freihand_root, '--out-dir', out)
