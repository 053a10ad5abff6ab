"""UnlabeledTopdownDataset: targets with boxes only, from a COCO file or an image list."""
import json

import numpy as np
import pytest

import mmpose_regda  # noqa: F401
from mmpose.registry import DATASETS

PIPELINE = [dict(type='LoadImage'), dict(type='GetBBoxCenterScale'),
            dict(type='TopdownAffine', input_size=(64, 64)), dict(type='PackPoseInputs')]


def build(**cfg):
    from mmengine.registry import init_default_scope
    init_default_scope('mmpose')
    return DATASETS.build(dict(type='UnlabeledTopdownDataset', **cfg))


def test_coco_with_boxes_only(pose_samples, tmp_path):
    coco = json.loads((pose_samples / 'freihand' / 'test_freihand.json').read_text())
    for ann in coco['annotations']:
        del ann['keypoints']  # boxes only
    (tmp_path / 'boxes.json').write_text(json.dumps(coco))
    dataset = build(ann_file=str(tmp_path / 'boxes.json'), metainfo='hand21',
                    data_root=str(pose_samples / 'freihand'), pipeline=PIPELINE)
    assert len(dataset) == 8
    x, y, w, h = coco['annotations'][0]['bbox']
    info = dataset.get_data_info(0)
    np.testing.assert_allclose(info['bbox'][0], [x, y, x + w, y + h], rtol=1e-6)
    assert info['keypoints'].shape == (1, 21, 2) and not info['keypoints_visible'].any()
    item = dataset[0]
    assert item['inputs'].shape == (3, 64, 64)
    assert item['data_samples'].metainfo['flip_indices'] == list(range(21))


def test_keypoints_in_the_file_are_not_read(pose_samples):
    dataset = build(ann_file='test_freihand.json', metainfo='hand21',
                    data_root=str(pose_samples / 'freihand'))
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        assert not info['keypoints'].any() and not info['keypoints_visible'].any()


def test_image_list_with_boxes(pose_samples, tmp_path):
    (tmp_path / 'list.txt').write_text(
        '# image x y w h\n00000355.jpg 10 20 100 90\n\n00017620.jpg 0 0 50.5 60\n')
    dataset = build(ann_file=str(tmp_path / 'list.txt'), metainfo='body16',
                    data_root=str(pose_samples / 'freihand'), pipeline=PIPELINE)
    assert len(dataset) == 2
    np.testing.assert_allclose(dataset.get_data_info(1)['bbox'][0], [0, 0, 50.5, 60])
    assert dataset.metainfo['num_keypoints'] == 16
    assert dataset[1]['inputs'].shape == (3, 64, 64)


@pytest.mark.parametrize('content,message', [
    ('', r'has no instance'),
    ('a.jpg 1 2 3\n', r'line 1: expected `image_path x y width height`'),
    ('a.jpg 1 2 -3 4\n', r'line 1: box .* positive width and height'),
    ('a.jpg 1 2 x 4\n', r'line 1: box must be 4 numbers'),
])
def test_bad_image_lists(tmp_path, content, message):
    (tmp_path / 'list.txt').write_text(content)
    with pytest.raises(ValueError, match=message) as error:
        build(ann_file=str(tmp_path / 'list.txt'), metainfo='hand21')
    assert 'list.txt' in str(error.value)


def test_coco_instance_without_box_and_required_metainfo(tmp_path):
    coco = dict(images=[dict(id=1, file_name='a.jpg')],
                annotations=[dict(id=3, image_id=1)])
    (tmp_path / 'c.json').write_text(json.dumps(coco))
    with pytest.raises(ValueError, match=r'c.json: annotation 3: no `bbox`'):
        build(ann_file=str(tmp_path / 'c.json'), metainfo='hand21')
    with pytest.raises(ValueError, match='needs `metainfo`'):
        build(ann_file=str(tmp_path / 'c.json'))
    with pytest.raises(FileNotFoundError, match='nothing.json'):
        build(ann_file=str(tmp_path / 'nothing.json'), metainfo='hand21')


def test_a_target_box_outside_its_image_is_refused(pose_samples, tmp_path):
    coco = json.loads((pose_samples / 'freihand' / 'test_freihand.json').read_text())
    coco['annotations'][1]['bbox'] = [230, 10, 40, 40]  # the images are 224x224
    (tmp_path / 'boxes.json').write_text(json.dumps(coco))
    with pytest.raises(ValueError, match=r'boxes\.json: annotation .*: box \[230, 10, 40, 40\] '
                       r'lies entirely outside its 224x224 image'):
        build(ann_file=str(tmp_path / 'boxes.json'), metainfo='hand21',
              data_root=str(pose_samples / 'freihand'))
    # an image list: the size comes from the image file; partly outside is fine
    (tmp_path / 'list.txt').write_text('00000355.jpg -20 -20 40 40\n00017620.jpg -50 5 40 40\n')
    with pytest.raises(ValueError, match=r'list\.txt: line 2: box \[-50, 5, 40, 40\] lies '
                       'entirely outside its 224x224 image'):
        build(ann_file=str(tmp_path / 'list.txt'), metainfo='hand21',
              data_root=str(pose_samples / 'freihand'))
    (tmp_path / 'list.txt').write_text('missing.jpg 0 0 40 40\n')
    with pytest.raises(FileNotFoundError, match=r'list\.txt: line 1: image .*missing\.jpg not '
                       'found'):
        build(ann_file=str(tmp_path / 'list.txt'), metainfo='hand21',
              data_root=str(pose_samples / 'freihand'))


def test_a_truncated_target_file_is_named(pose_samples, tmp_path):
    text = (pose_samples / 'freihand' / 'test_freihand.json').read_text()
    (tmp_path / 'target.json').write_text(text[:100])
    with pytest.raises(ValueError, match=r'target\.json: not a valid JSON file .*truncated'):
        build(ann_file=str(tmp_path / 'target.json'), metainfo='hand21')
