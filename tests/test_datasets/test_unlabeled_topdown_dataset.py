"""UnlabeledTopdownDataset: targets with boxes only, from a COCO file or an image list."""
import json
import re

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


@pytest.mark.parametrize('metainfo, expected', [
    ('hand21', "expected the 21 keypoints of the metainfo 'hand21' ('wrist', 'thumb1', "
     "'thumb2', ...): a target file of another kind of object"),
    ('body16', "expected the 16 keypoints of the metainfo 'body16' ('right_ankle', "
     "'right_knee', 'right_hip', ...): a target file of another kind of object"),
])
def test_a_target_file_of_other_keypoints_is_refused(pose_samples, tmp_path, metainfo, expected):
    ann_file = pose_samples / 'coco' / 'test_coco.json'
    with pytest.raises(ValueError) as error:
        build(ann_file=str(ann_file), metainfo=metainfo, data_root=str(pose_samples / 'coco'))
    assert str(error.value) == (
        f"{ann_file}: `categories[0].keypoints` (category 'person') lists 17 keypoints ('nose', "
        f"'left_eye', 'right_eye', ...); {expected} (its boxes would crop the wrong thing); if "
        "its boxes are what you mean, remove `keypoints` from its categories")
    # ... as the message says: without keypoint names its boxes are read
    coco = json.loads(ann_file.read_text())
    del coco['categories'][0]['keypoints']
    (tmp_path / 'persons.json').write_text(json.dumps(coco))
    dataset = build(ann_file=str(tmp_path / 'persons.json'), metainfo=metainfo,
                    data_root=str(pose_samples / 'coco'))
    assert len(dataset) == len(coco['annotations'])


def test_duplicated_image_ids_are_refused(pose_samples, tmp_path):
    coco = json.loads((pose_samples / 'freihand' / 'test_freihand.json').read_text())
    ids = [image['id'] for image in coco['images']]
    coco['images'][3]['id'] = coco['images'][5]['id'] = ids[0]
    (tmp_path / 'boxes.json').write_text(json.dumps(coco))
    with pytest.raises(ValueError) as error:
        build(ann_file=str(tmp_path / 'boxes.json'), metainfo='hand21',
              data_root=str(pose_samples / 'freihand'))
    assert str(error.value) == (
        f'{tmp_path / "boxes.json"}: `images` has duplicated ids: {ids[0]} (used by 3 records); '
        'expected each id once (annotations refer to their image by id: one of the images would '
        'be dropped and its annotations read on the other)')


def broken_freihand(pose_samples, tmp_path, index, content):
    """The FreiHand samples in tmp_path, image ``index`` (of the json's order) replaced by
    ``content(its bytes)``. Returns the json, its path and the broken image's path."""
    coco = json.loads((pose_samples / 'freihand' / 'test_freihand.json').read_text())
    for image in coco['images']:
        (tmp_path / image['file_name']).write_bytes(
            (pose_samples / 'freihand' / image['file_name']).read_bytes())
    image = tmp_path / coco['images'][index]['file_name']
    image.write_bytes(content(image.read_bytes()))
    (tmp_path / 'boxes.json').write_text(json.dumps(coco))
    return coco, tmp_path / 'boxes.json', image


EXPECTED = ('expected a complete JPEG or PNG file (copy or extract it again, or remove its '
            'annotations)')


@pytest.mark.parametrize('content, problem', [
    (lambda jpeg: jpeg[:-300], 'is a JPEG cut short: {size} bytes, without the end-of-image '
     'marker FF D9 at its end'),
    (lambda jpeg: b'', 'is empty (0 bytes)'),
    (lambda jpeg: b'GIF89a' + jpeg, "is not an image: it starts with '47 49 46 38 39 61 ff d8', "
     'not with the signature of a JPEG (ff d8 ff) or a PNG (89 50 4e 47) file'),
])
def test_a_broken_target_image_is_found_when_the_dataset_is_built(pose_samples, tmp_path,
                                                                   content, problem):
    coco, ann_file, image = broken_freihand(pose_samples, tmp_path, 2, content)
    ann_id = next(a['id'] for a in coco['annotations']
                  if a['image_id'] == coco['images'][2]['id'])
    with pytest.raises(ValueError) as error:
        build(ann_file=str(ann_file), metainfo='hand21', data_root=str(tmp_path),
              pipeline=PIPELINE)
    problem = problem.format(size=image.stat().st_size)
    assert str(error.value) == (f'{ann_file}: annotation {ann_id}: image {image} {problem}; '
                                f'{EXPECTED}')
    # an image list names the line
    (tmp_path / 'list.txt').write_text(f'# image x y w h\n{image.name} 10 20 100 90\n')
    with pytest.raises(ValueError, match=r'list\.txt: line 2: image .* ' + re.escape(problem)):
        build(ann_file=str(tmp_path / 'list.txt'), metainfo='hand21', data_root=str(tmp_path))


def test_a_target_image_that_fails_to_load_names_the_annotation(pose_samples, tmp_path):
    """With the build-time check off (``check_images=False``) the pipeline's load error names
    the annotation; so does decoding the images once."""
    coco, ann_file, image = broken_freihand(pose_samples, tmp_path, 0, lambda jpeg: jpeg[:2000])
    ann_id = coco['annotations'][0]['id']
    expected = (f'{ann_file}: annotation {ann_id}: image {image} is a JPEG cut short: 2000 bytes, '
                f'without the end-of-image marker FF D9 at its end; {EXPECTED}')
    dataset = build(ann_file=str(ann_file), metainfo='hand21', data_root=str(tmp_path),
                    pipeline=PIPELINE, check_images=False)
    with pytest.raises(ValueError) as error:
        dataset[0]
    assert str(error.value) == expected
    with pytest.raises(ValueError) as error:
        build(ann_file=str(ann_file), metainfo='hand21', data_root=str(tmp_path),
              check_images=False, decode_images_once=True)
    assert str(error.value) == expected
