"""Human3.6M (mmpose's preprocessed .npz) to COCO json: the 17-to-16 joint map, subjects and the
frame step, boxes from center/scale, image sizes, SPIN's 24-joint layout of the real samples, and
malformed records."""
import json
import os.path as osp

import numpy as np
import pytest

from mmpose_regda.datasets.converters import ConversionError, convert_h36m

from converter_helpers import assert_fails_cleanly, kpts, read_json, run_converter_tool, write_image

# MPII joint i is H36M joint H36M_OF_MPII[i] (r_ankle <- r_foot 3, ..., l_wrist <- 13)
H36M_OF_MPII = [3, 2, 1, 4, 5, 6, 0, 8, 9, 10, 16, 15, 14, 11, 12, 13]
NAMES = ['S1/S1_Walking.54138969/S1_Walking.54138969_000001.jpg',
         'S1/S1_Walking.54138969/S1_Walking.54138969_000006.jpg',
         'S1/S1_Walking.54138969/S1_Walking.54138969_000003.jpg',
         'S9/S9_Eating_2.55011271/S9_Eating_2.55011271_000011.jpg',
         'S2/S2_Walking.54138969/S2_Walking.54138969_000001.jpg',
         'S11/S11_Sitting.60457274/S11_Sitting.60457274_000016.jpg']


def part(i):
    """Record i's 17 joints: x = 10 i + j, y = 20 + j, all visible but the right wrist (16)."""
    joints = np.stack([10. * i + np.arange(17), 20. + np.arange(17), np.ones(17)], axis=1)
    joints[16, 2] = 0
    return joints


@pytest.fixture
def h36m_root(tmp_path):
    root = tmp_path / 'h36m'
    # only S9's frame is on disk (under images/, as preprocess_h36m.py writes), and small
    write_image(root / 'images' / NAMES[3], width=40, height=30)
    np.savez(root / 'h36m.npz', imgname=np.array(NAMES),
             center=np.array([[500., 400.], [500., 400.], [0, 0], [35., 15.], [0, 0],
                              [990., 20.]]),
             scale=np.array([1.5, 1.5, 1., 0.1, 1., 0.5]),
             part=np.stack([part(i) for i in range(len(NAMES))]))
    return root


def test_joints_subjects_frames_and_boxes(h36m_root, tmp_path):
    out = tmp_path / 'out'
    stdout = run_converter_tool('h36m2coco', '--ann-file', h36m_root / 'h36m.npz', '--root',
                                h36m_root, '--out-dir', out)
    train, test = read_json(out / 'h36m_train.json'), read_json(out / 'h36m_test.json')
    # S1 frames 1 and 6 kept, frame 3 not in every 5th; S2 in neither split
    assert train['images'] == [
        dict(id=1, file_name=NAMES[0], width=1000, height=1002),  # not on disk: camera's size
        dict(id=2, file_name=NAMES[1], width=1000, height=1002)]
    assert train['info']['filtered'] == {'frames not in every 5th': 1}
    first = kpts(train['annotations'][0])
    np.testing.assert_array_equal(first, [
        [3, 23, 2], [2, 22, 2], [1, 21, 2], [4, 24, 2], [5, 25, 2], [6, 26, 2], [0, 20, 2],
        [8, 28, 2], [9, 29, 2], [10, 30, 2], [0, 0, 0], [15, 35, 2], [14, 34, 2], [11, 31, 2],
        [12, 32, 2], [13, 33, 2]])
    # side 1.5 * 200 around (500, 400)
    assert train['annotations'][0]['bbox'] == [350, 250, 300, 300]
    assert train['annotations'][0]['num_keypoints'] == 15

    assert [(i['id'], i['file_name'], i['width'], i['height']) for i in test['images']] == [
        (4, 'images/' + NAMES[3], 40, 30), (6, NAMES[5], 1000, 1002)]
    s9, s11 = test['annotations']
    np.testing.assert_array_equal(kpts(s9)[:, :2], part(3)[H36M_OF_MPII, :2] * (
        np.arange(16) != 10)[:, None])
    # side 20 around (35, 15): x 25-45 clipped to the 40 px width
    assert s9['bbox'] == [25, 5, 15, 20] and s9['area'] == 300
    # side 100 around (990, 20): clipped to x 940-1000, y 0-70
    assert s11['bbox'] == [940, 0, 60, 70]
    assert 'h36m_test.json: 2 images, 2 instances kept, 0 filtered' in stdout


def test_options(h36m_root):
    outputs = convert_h36m(str(h36m_root / 'h36m.npz'), str(h36m_root), frame_step=2,
                           train_subjects=['S2'], test_subjects=['S1'], image_size=(64, 48))
    # frames 1 and 3 pass (n - 1) % 2 == 0, frame 6 does not; absent frames: 64 x 48
    assert [(i['id'], i['width'], i['height']) for i in outputs['h36m_test.json']['images']] == [
        (1, 64, 48), (3, 64, 48)]
    assert [i['id'] for i in outputs['h36m_train.json']['images']] == [5]
    # several files (mmpose writes one per split): image ids go on counting
    outputs = convert_h36m([h36m_root / 'h36m.npz'] * 2, str(h36m_root))
    assert [i['id'] for i in outputs['h36m_train.json']['images']] == [1, 2, 7, 8]
    # the reference crops around the keypoints: their tight box (visible ones, in the image)
    outputs = convert_h36m(str(h36m_root / 'h36m.npz'), str(h36m_root), box='keypoints')
    first = outputs['h36m_train.json']['annotations'][0]
    visible = kpts(first)[kpts(first)[:, 2] > 0, :2]
    assert first['bbox'] == [*visible.min(0), *(visible.max(0) - visible.min(0))]
    with pytest.raises(ConversionError, match="box must be 'person' or 'keypoints'"):
        convert_h36m(str(h36m_root / 'h36m.npz'), str(h36m_root), box='head')


def test_real_samples(pose_samples, tmp_path):
    """mmpose's sample npz has SPIN's 24-joint `part` and bare file names; h36m_coco.json holds
    the same frames in H36M's 17-joint order."""
    root = pose_samples / 'h36m'
    with np.load(root / 'test_h36m.npz') as npz:
        assert npz['part'].shape == (4, 24, 3)
        raw_part, center, scale = npz['part'], npz['center'], npz['scale']
    reference = json.loads((root / 'h36m_coco.json').read_text())
    outputs = convert_h36m(str(root / 'test_h36m.npz'), str(root), str(tmp_path / 'out'))
    train = outputs['h36m_train.json']
    assert outputs['h36m_test.json']['images'] == []
    assert [(i['file_name'], i['width'], i['height']) for i in train['images']] == [
        ('S1/S1_Directions_1.54138969/S1_Directions_1.54138969_000001.jpg', 1000, 1002),
        ('S5/S5_SittingDown.54138969/S5_SittingDown.54138969_002061.jpg', 1000, 1002),
        ('S7/S7_Greeting.55011271/S7_Greeting.55011271_000396.jpg', 1000, 1002),
        ('S8/S8_WalkDog_1.55011271/S8_WalkDog_1.55011271_000026.jpg', 1000, 1000)]
    # SPIN's joints by hand: r_ankle 0, r_knee 1, r_hip 2, l_hip 3, l_knee 4, l_ankle 5,
    # pelvis 14, thorax <- H36M thorax (SPIN 12), upper_neck <- neck base (17), head_top <- head
    # (18), r_wrist 6, r_elbow 7, r_shoulder 8, l_shoulder 9, l_elbow 10, l_wrist 11
    spin_of_mpii = [0, 1, 2, 3, 4, 5, 14, 12, 17, 18, 6, 7, 8, 9, 10, 11]
    for i, ann in enumerate(train['annotations']):
        np.testing.assert_allclose(kpts(ann)[:, :2], raw_part[i, spin_of_mpii, :2], atol=1e-9)
        assert ann['num_keypoints'] == 16
        side = scale[i] * 200
        np.testing.assert_allclose(ann['bbox'], [*(center[i] - side / 2), side, side])
        # the same keypoints as mmpose's 17-joint json of these frames, but for the pelvis,
        # about 0.02 px off there (SPIN's pelvis is not exactly H36M's root joint)
        coco17 = np.asarray(reference['annotations'][i]['keypoints']).reshape(17, 3)
        not_pelvis = np.arange(16) != 6
        np.testing.assert_allclose(kpts(ann)[not_pelvis, :2],
                                   coco17[H36M_OF_MPII, :2][not_pelvis], atol=1e-4)
        np.testing.assert_allclose(kpts(ann)[6, :2], coco17[0, :2], atol=0.03)
        np.testing.assert_allclose(ann['bbox'], reference['annotations'][i]['bbox'], atol=1e-4)

    # the plugin's body dataset reads the file and finds the frames
    from mmpose_regda.datasets import SharedBodyDataset
    dataset = SharedBodyDataset(ann_file=str(tmp_path / 'out' / 'h36m_train.json'),
                                data_root=str(root), data_prefix=dict(img=''), pipeline=[],
                                test_mode=True)
    assert len(dataset) == 4 and all(osp.isfile(dataset[i]['img_path']) for i in range(4))
    np.testing.assert_allclose(dataset[3]['keypoints'][0], raw_part[3, spin_of_mpii, :2],
                               atol=1e-4)

    # every 10th frame: 1 and 2061 pass (n - 1) % 10 == 0, 396 and 26 do not
    step10 = convert_h36m(str(root / 'test_h36m.npz'), str(root), frame_step=10)
    assert [i['id'] for i in step10['h36m_train.json']['images']] == [1, 2]
    assert step10['h36m_train.json']['info']['filtered'] == {'frames not in every 10th': 2}


@pytest.mark.parametrize('edit, where, message', [
    (lambda arrays: arrays['imgname'].__setitem__(2, 'S1_bad.jpg'), 'record 2 (S1_bad.jpg)',
     "`imgname` 'S1_bad.jpg' is not a Human3.6M frame name"),
    (lambda arrays: arrays['center'].__setitem__(1, np.nan),
     f'record 1 ({NAMES[1]}): field `center`', 'holds NaN'),
    (lambda arrays: arrays.update(part=arrays['part'][:, :16]),
     f'record 0 ({NAMES[0]}): field `part`', 'has shape (16, 3); expected (17, 3) or (24, 3)'),
    (lambda arrays: arrays.pop('scale'), 'field `scale` is missing', ''),
    (lambda arrays: arrays.update(scale=arrays['scale'][:3]), 'field `scale` has shape (3,)',
     'expected one entry per image (6 in `imgname`)'),
    (lambda arrays: arrays['scale'].__setitem__(1, -1.5), f'record 1 ({NAMES[1]}): field `scale`'
     ' is -1.5; expected a positive number (the person box side / 200 px)', ''),
    (lambda arrays: arrays['scale'].__setitem__(4, 0), f'record 4 ({NAMES[4]}): field `scale` '
     'is 0; expected a positive number', ''),
    (lambda arrays: arrays['scale'].__setitem__(2, np.inf), f'record 2 ({NAMES[2]}): field '
     '`scale` is inf; expected a finite number', ''),
    (lambda arrays: arrays['scale'].__setitem__(0, np.nan), f'record 0 ({NAMES[0]}): field '
     '`scale` is nan; expected a finite number', ''),
])
def test_malformed_record_writes_nothing(h36m_root, tmp_path, edit, where, message):
    ann_file = h36m_root / 'h36m.npz'
    with np.load(ann_file) as npz:
        arrays = {key: npz[key] for key in npz.files}
    edit(arrays)
    np.savez(ann_file, **arrays)
    out = tmp_path / 'out'
    assert_fails_cleanly(lambda: convert_h36m(str(ann_file), str(h36m_root), str(out)), out,
                         'h36m_test.json', 'h36m_train.json', f'{ann_file}: {where}', message)


def test_a_truncated_npz_ends_with_the_clean_error(h36m_root, tmp_path):
    ann_file = h36m_root / 'h36m.npz'
    ann_file.write_bytes(ann_file.read_bytes()[:300])
    out = tmp_path / 'out'
    assert_fails_cleanly(lambda: convert_h36m(str(ann_file), str(h36m_root), str(out)), out,
                         'h36m_test.json', 'h36m_train.json',
                         f'{ann_file}: cannot be read as an .npz archive (BadZipFile: ')
    with pytest.raises(SystemExit, match=r'h36m\.npz: cannot be read as an \.npz archive'):
        run_converter_tool('h36m2coco', '--ann-file', ann_file, '--root', h36m_root,
                           '--out-dir', out)


def test_a_root_that_does_not_exist_is_named(h36m_root, tmp_path):
    """Frames are looked for under the root: a wrong one would silently give every frame its
    camera's size."""
    missing, out = tmp_path / 'no_such_root', tmp_path / 'out'
    assert_fails_cleanly(lambda: convert_h36m(str(h36m_root / 'h36m.npz'), str(missing),
                                              str(out)), out, 'h36m_test.json', 'h36m_train.json',
                         f'Human3.6M: root {missing} is not a folder; expected the dataset root '
                         'holding the frames')
    with pytest.raises(SystemExit, match=r'no_such_root is not a folder.*\(no json file was '
                       r'written\)'):
        run_converter_tool('h36m2coco', '--ann-file', h36m_root / 'h36m.npz', '--root', missing,
                           '--out-dir', out)


class WritesMarker:
    """A crafted object: unpickling it calls ``os.system`` to create a file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import os
        return os.system, (f'touch {self.marker}', )


def test_an_npz_of_pickled_objects_is_refused_before_it_runs(h36m_root, tmp_path):
    ann_file, marker = h36m_root / 'h36m.npz', tmp_path / 'ran'
    with np.load(ann_file) as npz:
        arrays = {key: npz[key] for key in npz.files}
    arrays['imgname'] = np.array([WritesMarker(marker)] * len(NAMES), dtype=object)
    np.savez(ann_file, **arrays)  # numpy pickles object arrays into the archive
    out = tmp_path / 'out'
    assert_fails_cleanly(lambda: convert_h36m(str(ann_file), str(h36m_root), str(out)), out,
                         'h36m_test.json', 'h36m_train.json',
                         f'{ann_file}: field `imgname` is an array of pickled Python objects, '
                         'which is never loaded')
    assert not marker.exists()
