"""LSP joints.mat to COCO json: the 14-to-16 joint map, the flag's readings, splits, image sizes,
LSP-extended's orientation and names, and malformed files."""
import numpy as np
import pytest
import scipy.io

from mmpose_regda.datasets.converters import convert_lsp

from converter_helpers import assert_fails_cleanly, kpts, read_json, run_converter_tool, write_image


def lsp_joints(num_images):
    """(num_images, 14, 3): joint j of image i at x = 5 j + i, y = 3 j + 1; the flag is set for
    the head top (13) of image 0 and the neck (12) of image 1."""
    j, i = np.arange(14)[None], np.arange(num_images)[:, None]
    joints = np.stack([5. * j + i, np.broadcast_to(3. * j + 1, (num_images, 14)),
                       np.zeros((num_images, 14))], axis=2)
    joints[0, 13, 2] = joints[1, 12, 2] = 1
    return joints


@pytest.fixture
def lsp_root(tmp_path):
    root = tmp_path / 'lsp'
    for i in range(1, 5):
        write_image(root / 'images' / f'im{i:04d}.jpg', width=50, height=80)
    scipy.io.savemat(str(root / 'joints.mat'), {'joints': lsp_joints(4).transpose(2, 1, 0)})
    return root


def test_joints_flags_and_splits(lsp_root, tmp_path):
    out = tmp_path / 'out'
    stdout = run_converter_tool('lsp2coco', '--root', lsp_root, '--out-dir', out,
                                '--num-train', 2)
    train, test = read_json(out / 'lsp_train.json'), read_json(out / 'lsp_test.json')
    assert train['images'] == [dict(id=1, file_name='images/im0001.jpg', width=50, height=80),
                               dict(id=2, file_name='images/im0002.jpg', width=50, height=80)]
    assert [i['id'] for i in test['images']] == [3, 4]
    # default for (3, 14, N): the flag marks occluded joints -> image 1's head top is hidden;
    # pelvis and thorax (MPII 6, 7) are absent from LSP
    np.testing.assert_array_equal(kpts(train['annotations'][0]), [
        [0, 1, 2], [5, 4, 2], [10, 7, 2], [15, 10, 2], [20, 13, 2], [25, 16, 2], [0, 0, 0],
        [0, 0, 0], [60, 37, 2], [0, 0, 0], [30, 19, 2], [35, 22, 2], [40, 25, 2], [45, 28, 2],
        [50, 31, 2], [55, 34, 2]])
    # x from 0 to 60, clipped to the 50 px width; y from 1 to 37
    assert train['annotations'][0]['bbox'] == [0, 1, 50, 36]
    assert train['annotations'][0]['num_keypoints'] == 13
    second = kpts(train['annotations'][1])
    assert second[8].tolist() == [0, 0, 0] and second[9].tolist() == [66, 40, 2]
    assert 'lsp_test.json: 2 images, 2 instances kept, 0 filtered (none)' in stdout


def test_visibility_options_and_split_all(lsp_root):
    outputs = convert_lsp(str(lsp_root), splits=['all'], visibility='flag_is_visible')
    coco = outputs['lsp_all.json']
    assert list(outputs) == ['lsp_all.json']
    # only the flagged joints are visible: image 1's head top (MPII 9), image 2's neck (8)
    assert [(a['image_id'], a['num_keypoints']) for a in coco['annotations']] == [(1, 1),
                                                                                 (2, 1)]
    assert kpts_visible(coco['annotations'][0]) == [9]
    assert kpts_visible(coco['annotations'][1]) == [8]
    assert coco['info']['filtered'] == {'with no visible keypoint': 2}

    coco = convert_lsp(str(lsp_root), splits=['all'], visibility='ignore_flag')['lsp_all.json']
    assert [a['num_keypoints'] for a in coco['annotations']] == [14] * 4


def kpts_visible(annotation):
    return [k for k in range(16) if annotation['keypoints'][3 * k + 2] == 2]


def test_lsp_extended(tmp_path):
    """LSP-extended: (14, 3, N), names im%05d.jpg, the flag marks visible joints."""
    root = tmp_path / 'lspet'
    for i in (1, 2):
        write_image(root / 'images' / f'im{i:05d}.jpg', width=120, height=90)
    joints = lsp_joints(2)
    joints[..., 2] = 1 - joints[..., 2]
    scipy.io.savemat(str(root / 'joints.mat'), {'joints': joints.transpose(1, 2, 0)})
    outputs = convert_lsp(str(root))
    assert outputs['lsp_test.json']['images'] == []
    train = outputs['lsp_train.json']
    assert [i['file_name'] for i in train['images']] == ['images/im00001.jpg',
                                                         'images/im00002.jpg']
    assert kpts(train['annotations'][0])[9].tolist() == [0, 0, 0]
    assert kpts(train['annotations'][1])[9].tolist() == [66, 40, 2]
    assert train['annotations'][0]['bbox'] == [0, 1, 60, 36]


def test_malformed_input_writes_nothing(lsp_root, tmp_path):
    mat_file, out = lsp_root / 'joints.mat', tmp_path / 'out'
    (lsp_root / 'images' / 'im0003.jpg').unlink()
    assert_fails_cleanly(lambda: convert_lsp(str(lsp_root), str(out), num_train=2), out,
                         'lsp_train.json', 'lsp_test.json',
                         f'{mat_file}: image 3 (index 2): image ', 'im0003.jpg not found')
    scipy.io.savemat(str(mat_file), {'joints': np.zeros((3, 13, 4))})
    assert_fails_cleanly(lambda: convert_lsp(str(lsp_root), str(out)), out, 'lsp_train.json',
                         'lsp_test.json', f'{mat_file}: field `joints` has shape (3, 13, 4); '
                         'expected (3, 14, N) or (14, 3, N)')
    scipy.io.savemat(str(mat_file), {'points': np.zeros((3, 14, 4))})
    assert_fails_cleanly(lambda: convert_lsp(str(lsp_root), str(out)), out, 'lsp_train.json',
                         'lsp_test.json', f'{mat_file}: field `joints` is missing')
