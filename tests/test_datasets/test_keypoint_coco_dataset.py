"""SharedHandDataset / SharedBodyDataset: layouts, RHD reordering, metainfo from anywhere, and
clear errors on malformed annotations."""
import json
import logging
import os

import numpy as np
import pytest

import mmpose_regda  # noqa: F401
from mmpose.registry import DATASETS
from mmpose_regda.datasets import RHD_TO_SHARED_ORDER


def build(cfg):
    from mmengine.registry import init_default_scope
    init_default_scope('mmpose')
    return DATASETS.build(cfg)


def test_rhd_order_map_reverses_each_finger():
    assert RHD_TO_SHARED_ORDER[:9] == [0, 4, 3, 2, 1, 8, 7, 6, 5]
    assert sorted(RHD_TO_SHARED_ORDER) == list(range(21))


def test_rhd_samples_read_in_shared_order(pose_samples, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # metainfo must not depend on the working directory
    dataset = build(dict(type='SharedHandDataset', dataset_name='rhd', keypoint_order='rhd',
                         data_root=str(pose_samples / 'rhd'), ann_file='test_rhd.json',
                         data_prefix=dict(img=''), test_mode=True))
    raw = json.loads((pose_samples / 'rhd' / 'test_rhd.json').read_text())['annotations']
    assert len(dataset) == len(raw) == 3
    info = dataset.get_data_info(0)
    file_keypoints = np.array(raw[0]['keypoints'], dtype=np.float32).reshape(21, 3)
    # shared thumb1 (base) is RHD's thumb 4, shared thumb4 (tip) is RHD's thumb 1
    np.testing.assert_allclose(info['keypoints'][0, 1], file_keypoints[4, :2])
    np.testing.assert_allclose(info['keypoints'][0, 4], file_keypoints[1, :2])
    np.testing.assert_allclose(info['keypoints'][0], file_keypoints[RHD_TO_SHARED_ORDER, :2])
    # in the shared order the thumb runs outwards from the wrist
    wrist = info['keypoints'][0, 0]
    distances = np.linalg.norm(info['keypoints'][0, 1:5] - wrist, axis=1)
    assert (np.diff(distances) > 0).all()
    meta = dataset.metainfo
    assert meta['dataset_name'] == 'rhd' and meta['num_keypoints'] == 21
    assert meta['part_groups']['Fingertip'] == [4, 8, 12, 16, 20]


def test_body16_metainfo_has_the_shared_keypoints(pose_samples, tmp_path):
    ann = dict(images=[dict(id=1, file_name='a.jpg', width=100, height=100)],
               annotations=[dict(id=5, image_id=1, category_id=1, bbox=[10, 10, 50, 80],
                                 num_keypoints=16, keypoints=[20, 30, 2] * 16)],
               categories=[dict(id=1, name='person')])
    (tmp_path / 'body.json').write_text(json.dumps(ann))
    dataset = build(dict(type='SharedBodyDataset', data_root=str(tmp_path),
                         ann_file='body.json', test_mode=True))
    meta = dataset.metainfo
    assert meta['num_keypoints'] == 16 and meta['keypoint_id2name'][12] == 'right_shoulder'
    assert meta['avg_keypoints'] == [0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15]
    assert meta['flip_indices'][:6] == [5, 4, 3, 2, 1, 0]


def write_hand_json(tmp_path, **ann_overrides):
    ann = dict(id=42, image_id=7, category_id=1, bbox=[10, 10, 60, 60], num_keypoints=21,
               keypoints=[30, 30, 2] * 21)
    ann.update(ann_overrides)
    content = dict(images=[dict(id=7, file_name='missing.jpg', width=100, height=100)],
                   annotations=[ann], categories=[dict(id=1, name='hand')])
    path = tmp_path / 'hand.json'
    path.write_text(json.dumps(content))
    return path


@pytest.mark.parametrize('overrides,message', [
    (dict(keypoints=[30, 30, 2] * 20), r'`keypoints` has 60 values; expected 63'),
    (dict(bbox=[10, 10, 60]), r'`bbox` must be \[x, y, width, height\]'),
])
def test_malformed_record_names_file_and_record(tmp_path, overrides, message):
    path = write_hand_json(tmp_path, **overrides)
    with pytest.raises(ValueError, match=message) as error:
        build(dict(type='SharedHandDataset', data_root='', ann_file=str(path), test_mode=True))
    assert str(path) in str(error.value) and 'annotation id 42' in str(error.value)


def test_missing_image_names_the_path(tmp_path):
    path = write_hand_json(tmp_path)
    dataset = build(dict(type='SharedHandDataset', data_root=str(tmp_path),
                         ann_file=str(path), data_prefix=dict(img='images/'),
                         pipeline=[dict(type='LoadImage')], test_mode=True))
    with pytest.raises(Exception, match=os.path.join('images', 'missing.jpg')):
        dataset[0]


def rhd_with_boxes(pose_samples, tmp_path, boxes):
    """The RHD samples (3 hands, 320x320 images) with the given boxes (None: keep)."""
    coco = json.loads((pose_samples / 'rhd' / 'test_rhd.json').read_text())
    for ann, box in zip(coco['annotations'], boxes):
        if box is not None:
            ann['bbox'] = box
    (tmp_path / 'rhd.json').write_text(json.dumps(coco))
    return dict(type='SharedHandDataset', dataset_name='rhd', keypoint_order='rhd',
                data_root=str(pose_samples / 'rhd'), ann_file=str(tmp_path / 'rhd.json'),
                data_prefix=dict(img=''))


def test_dropped_records_are_counted_with_the_reason_and_ids(pose_samples, tmp_path):
    from mmengine.logging import MMLogger
    logger = MMLogger.get_instance('test_dropped_records')
    records = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(record.getMessage())
    logger.addHandler(handler)
    try:
        # 111: a negative width; 7474: a box beyond the 320x320 image; 19020 kept
        dataset = build(rhd_with_boxes(pose_samples, tmp_path,
                                       [[160, 60, -90, 120], [400, 10, 50, 50], None]))
    finally:
        logger.removeHandler(handler)
    assert len(dataset) == 1
    ids = [ann['id'] for ann in json.loads((tmp_path / 'rhd.json').read_text())['annotations']]
    assert [r for r in records if 'left out' in r] == [
        f'{tmp_path / "rhd.json"}: 2 of 3 instances left out: 1 with a box of zero or negative '
        f'width or height (ids {ids[0]}); 1 with a box outside its image (ids {ids[1]})']


def test_a_source_with_no_instance_left_names_the_file_and_why(pose_samples, tmp_path):
    outside = [1000, 1000, 10, 10]
    with pytest.raises(ValueError, match=r'rhd\.json: no instance to use: 3 of 3 instances left '
                       r'out: 3 with a box outside its image \(ids .*\)\. Expected at least one'):
        build(rhd_with_boxes(pose_samples, tmp_path, [outside] * 3))
    (tmp_path / 'empty.json').write_text(json.dumps(dict(images=[], annotations=[],
                                                         categories=[])))
    with pytest.raises(ValueError, match=r'empty\.json: no instance to use: it has no annotation'):
        build(dict(type='SharedHandDataset', ann_file=str(tmp_path / 'empty.json')))


def test_a_truncated_annotation_file_is_named(pose_samples, tmp_path):
    text = (pose_samples / 'rhd' / 'test_rhd.json').read_text()
    (tmp_path / 'rhd_train.json').write_text(text[:len(text) // 2])
    with pytest.raises(ValueError, match=r'rhd_train\.json: not a valid JSON file \(.*\); it is '
                       'truncated or damaged'):
        build(dict(type='SharedHandDataset', ann_file=str(tmp_path / 'rhd_train.json')))


@pytest.mark.parametrize('dataset_type, expected', [
    ('SharedHandDataset', "expected the 21 keypoints of the metainfo 'hand21' ('wrist', "
     "'thumb1', 'thumb2', ...)"),
    ('SharedBodyDataset', "expected the 16 keypoints of the metainfo 'body16' ('right_ankle', "
     "'right_knee', 'right_hip', ...)"),
])
def test_a_file_of_other_keypoints_is_refused(pose_samples, dataset_type, expected):
    """COCO persons (17 keypoints) read as hands or as MPII bodies: refused by the file's
    categories, before a record is parsed."""
    ann_file = str(pose_samples / 'coco' / 'test_coco.json')
    with pytest.raises(ValueError) as error:
        build(dict(type=dataset_type, ann_file=ann_file, test_mode=True))
    assert str(error.value).startswith(
        f"{ann_file}: `categories[0].keypoints` (category 'person') lists 17 keypoints ('nose', "
        f"'left_eye', 'right_eye', ...); {expected}")


def test_same_count_of_other_names_warns_and_reads(tmp_path):
    from mmengine.logging import MMLogger
    path = write_hand_json(tmp_path)
    content = json.loads(path.read_text())
    content['categories'][0]['keypoints'] = [f'point_{i}' for i in range(21)]
    path.write_text(json.dumps(content))
    records = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(record.getMessage())
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        dataset = build(dict(type='SharedHandDataset', ann_file=str(path), test_mode=True))
    finally:
        logger.removeHandler(handler)
    assert len(dataset) == 1
    assert [r for r in records if 'categories' in r] == [
        f"{path}: `categories[0].keypoints` (category 'hand') names 21 keypoints that the "
        "metainfo 'hand21' does not ('point_0', 'point_1', 'point_2', 'point_3', 'point_4', "
        "...); expected its names ('wrist', 'thumb1', 'thumb2', ...). They are read by "
        "position, as the metainfo's keypoints of the same index."]


def test_duplicated_ids_are_refused(tmp_path):
    ann = dict(category_id=1, bbox=[10, 10, 60, 60], num_keypoints=21,
               keypoints=[30, 30, 2] * 21)
    content = dict(images=[dict(id=7, file_name='a.jpg', width=100, height=100),
                           dict(id=8, file_name='b.jpg', width=100, height=100),
                           dict(id=7, file_name='c.jpg', width=100, height=100)],
                   annotations=[dict(ann, id=1, image_id=7), dict(ann, id=2, image_id=8)],
                   categories=[dict(id=1, name='hand')])
    path = tmp_path / 'hand.json'
    path.write_text(json.dumps(content))
    with pytest.raises(ValueError) as error:
        build(dict(type='SharedHandDataset', ann_file=str(path), test_mode=True))
    assert str(error.value) == (
        f'{path}: `images` has duplicated ids: 7 (used by 2 records); expected each id once '
        '(annotations refer to their image by id: one of the images would be dropped and its '
        'annotations read on the other)')
    content['images'].pop()
    content['annotations'][1]['id'] = 1
    path.write_text(json.dumps(content))
    with pytest.raises(ValueError, match=r'hand\.json: `annotations` has duplicated ids: 1 \(used '
                       r'by 2 records\); .*\(annotations are read by id: one would be read twice'):
        build(dict(type='SharedHandDataset', ann_file=str(path), test_mode=True))


@pytest.mark.parametrize('num_keypoints', [None, 21])
def test_a_source_without_a_visible_keypoint_is_refused(tmp_path, num_keypoints):
    """Visibility 0 everywhere, but coordinates and no (or a wrong) num_keypoints: mmpose keeps
    the instances, and training would see a loss of 0."""
    path = write_hand_json(tmp_path, keypoints=[30, 30, 0] * 21, num_keypoints=num_keypoints)
    if num_keypoints is None:
        content = json.loads(path.read_text())
        del content['annotations'][0]['num_keypoints']
        path.write_text(json.dumps(content))
    with pytest.raises(ValueError) as error:
        build(dict(type='SharedHandDataset', ann_file=str(path)))
    assert str(error.value) == (
        f'{path}: none of its 1 instances has a keypoint that counts in the loss: every keypoint '
        'has visibility 0 (the third value of each `keypoints` triple); training on it would give '
        'a loss of 0. Expected at least one keypoint with visibility 1 or 2 (labelled).')


def test_ragged_keypoints_name_the_record_and_the_length(tmp_path):
    path = write_hand_json(tmp_path, keypoints=[[30, 30, 2]] * 20 + [[30, 30]])
    with pytest.raises(ValueError) as error:
        build(dict(type='SharedHandDataset', ann_file=str(path), test_mode=True))
    assert str(error.value).startswith(
        f'{path}: annotation id 42 (image id 7): `keypoints` has a ragged or non-numeric list: '
        '[[30, 30, 2], ')
    assert str(error.value).endswith(
        '; expected 63 numbers, a flat list of x, y, visibility for each of the 21 keypoints of '
        'hand21')


@pytest.mark.parametrize('content, problem', [
    (lambda jpeg: jpeg[:len(jpeg) // 2], 'is a JPEG cut short: 8055 bytes, without the '
     'end-of-image marker FF D9 at its end'),
    (lambda jpeg: b'<html>not found</html>', "is not an image: it starts with "
     "'3c 68 74 6d 6c 3e 6e 6f', not with the signature of a JPEG (ff d8 ff) or a PNG "
     "(89 50 4e 47) file"),
])
def test_an_image_that_fails_to_load_names_the_annotation(pose_samples, tmp_path, content,
                                                          problem):
    path = write_hand_json(tmp_path)
    image = tmp_path / 'missing.jpg'
    image.write_bytes(content((pose_samples / 'freihand' / '00000355.jpg').read_bytes()))
    dataset = build(dict(type='SharedHandDataset', data_root=str(tmp_path), ann_file=str(path),
                         pipeline=[dict(type='LoadImage')]))
    with pytest.raises(ValueError) as error:
        dataset[0]
    assert str(error.value) == (
        f'{path}: annotation id 42 (image id 7): image {image} {problem}; expected a complete '
        'JPEG or PNG file (copy or extract it again, or remove its annotations)')
