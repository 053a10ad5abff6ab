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
