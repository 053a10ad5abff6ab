"""SURREAL clips (.mp4 + _info.mat) to jpg frames and COCO json: the SMPL-to-MPII joint map,
in-frame visibility, the frame step, clips shorter than their labels, one-frame clips, clips of
the same name in two runs, and malformed files."""
import cv2
import numpy as np
import pytest
import scipy.io

from mmpose_regda.datasets.converters import convert_surreal

from converter_helpers import assert_fails_cleanly, kpts, read_json, run_converter_tool

# SMPL joint j of frame t is drawn at x = 10 j + 3, y = 5 + t + 2 j, so the MPII joints
# (SMPL 7, 4, 1, 2, 5, 8, 0, 9, 12, 15, 20, 18, 13, 14, 19, 21) sit at
MPII_X = [73, 43, 13, 23, 53, 83, 3, 93, 123, 153, 203, 183, 133, 143, 193, 213]
MPII_Y0 = [19, 13, 7, 9, 15, 21, 5, 23, 29, 35, 45, 41, 31, 33, 43, 47]  # + t


def smpl_joints(num_frames):
    j, t = np.arange(24)[:, None], np.arange(num_frames)[None]
    return np.stack([np.broadcast_to(10. * j + 3, (24, num_frames)), 5. + t + 2 * j])


def write_video(path, num_frames, size=(320, 240)):
    """A clip whose frame t is grey level 10 t; mp4v, or MJPG in the .mp4 where OpenCV's build
    lacks mp4v."""
    for codec in ('mp4v', 'MJPG'):
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*codec), 25, size)
        if writer.isOpened():
            break
    assert writer.isOpened(), 'OpenCV can write neither mp4v nor MJPG here'
    for t in range(num_frames):
        writer.write(np.full((size[1], size[0], 3), 10 * t, np.uint8))
    writer.release()


def write_clip(folder, clip, joints2d, num_video_frames):
    folder.mkdir(parents=True, exist_ok=True)
    write_video(folder / f'{clip}.mp4', num_video_frames)
    scipy.io.savemat(str(folder / f'{clip}_info.mat'), {'joints2D': joints2d})
    return folder / f'{clip}_info.mat'


@pytest.fixture
def surreal_root(tmp_path):
    root = tmp_path / 'SURREAL'
    joints = smpl_joints(23)
    joints[0, 15, 10] = -1  # frame 10: the head (MPII head_top) left of the frame
    joints[0, :, 20] = 400  # frame 20: every joint right of the frame
    write_clip(root / 'cmu/train/run0/01_01', '01_01_c0001', joints, 23)
    # the same clip name in run1: labels for 25 frames, a video of 12
    write_clip(root / 'cmu/train/run1/01_01', '01_01_c0001', smpl_joints(25), 12)
    # a one-frame clip: MATLAB-style (2, 24) joints2D
    write_clip(root / 'cmu/val/run0/02_03', '02_03_c0002', smpl_joints(1)[..., 0], 1)
    return root


def test_frames_and_keypoints(surreal_root, tmp_path):
    out = tmp_path / 'out'
    stdout = run_converter_tool('surreal2coco', '--root', surreal_root, '--out-dir', out,
                                '--splits', 'train', 'val')
    train, val = read_json(out / 'surreal_train.json'), read_json(out / 'surreal_val.json')
    assert [(i['id'], i['file_name'], i['width'], i['height']) for i in train['images']] == [
        (1, 'images/train/run0/01_01_c0001_00000.jpg', 320, 240),
        (2, 'images/train/run0/01_01_c0001_00010.jpg', 320, 240),
        (3, 'images/train/run1/01_01_c0001_00000.jpg', 320, 240),
        (4, 'images/train/run1/01_01_c0001_00010.jpg', 320, 240)]
    assert train['info']['filtered'] == {'with no visible keypoint': 1,
                                         'frames past the end of their video': 1}

    first, head_out = train['annotations'][:2]
    np.testing.assert_array_equal(kpts(first), np.stack([MPII_X, MPII_Y0, [2] * 16], 1))
    assert first['bbox'] == [3, 5, 210, 42] and first['area'] == 210 * 42
    expected = np.stack([MPII_X, np.add(MPII_Y0, 10), [2] * 16], 1)
    expected[9] = 0  # head_top outside the frame: not visible
    np.testing.assert_array_equal(kpts(head_out), expected)
    assert head_out['num_keypoints'] == 15 and head_out['bbox'] == [3, 15, 210, 42]

    # the frames written are the clip's frames 0 and 10 (grey 0 and 100), frame 20 is not
    frame10 = cv2.imread(str(out / train['images'][1]['file_name']))
    assert frame10.shape == (240, 320, 3) and abs(frame10.mean() - 100) < 8
    assert cv2.imread(str(out / train['images'][0]['file_name'])).mean() < 8
    assert not (out / 'images/train/run0/01_01_c0001_00020.jpg').exists()

    assert [i['file_name'] for i in val['images']] == ['images/val/run0/02_03_c0002_00000.jpg']
    np.testing.assert_array_equal(kpts(val['annotations'][0])[:, :2],
                                  np.stack([MPII_X, MPII_Y0], 1))
    assert 'surreal_train.json: 4 images, 4 instances kept, 2 filtered' in stdout


def test_frame_step_and_frames_dir(surreal_root, tmp_path):
    """As the project's configs want it: json in data/surreal/annotations, frames (and the
    file names' root) in data/surreal."""
    data = tmp_path / 'data' / 'surreal'
    outputs = convert_surreal(str(surreal_root), str(data / 'annotations'), splits=['train'],
                              frame_step=4, frames_dir=str(data))
    images = outputs['surreal_train.json']['images']
    # run0: 0, 4, ..., 20 (20 all outside); run1: 0, 4, 8 (12 onwards past the 12-frame video)
    assert [i['file_name'].rsplit('_', 1)[1] for i in images] == [
        '00000.jpg', '00004.jpg', '00008.jpg', '00012.jpg', '00016.jpg',
        '00000.jpg', '00004.jpg', '00008.jpg']
    assert all((data / i['file_name']).is_file() for i in images)
    assert sorted(p.name for p in data.iterdir()) == ['annotations', 'images']
    assert [p.name for p in (data / 'annotations').iterdir()] == ['surreal_train.json']


def test_missing_split(surreal_root, tmp_path):
    with pytest.raises(Exception, match='cmu/test: SURREAL split `test` not found'):
        convert_surreal(str(surreal_root), str(tmp_path / 'out'))


@pytest.mark.parametrize('content, message', [
    ({'joints2D': np.zeros((2, 23, 5))},
     'field `joints2D` has shape (2, 23, 5); expected (2, 24) or (2, 24, N)'),
    ({'pose': np.zeros((72, 5))}, 'field `joints2D` is missing'),
])
def test_malformed_clip_writes_nothing(surreal_root, tmp_path, content, message):
    """The bad clip is in val, read after train's: no frame and no json is written."""
    mat_file = surreal_root / 'cmu/val/run0/02_03/02_03_c0002_info.mat'
    scipy.io.savemat(str(mat_file), content)
    out = tmp_path / 'out'
    assert_fails_cleanly(
        lambda: convert_surreal(str(surreal_root), str(out), splits=['train', 'val']), out,
        'surreal_val.json', 'surreal_train.json', f'{mat_file}: ', message)
    assert not (out / 'images').exists()


def test_unreadable_video(surreal_root, tmp_path):
    video = surreal_root / 'cmu/val/run0/02_03/02_03_c0002.mp4'
    video.write_bytes(b'not a video')
    out = tmp_path / 'out'
    assert_fails_cleanly(
        lambda: convert_surreal(str(surreal_root), str(out), splits=['train', 'val']), out,
        'surreal_val.json', 'surreal_train.json', f'{video}: cannot be opened as a video')
