"""decode_images_once: the same samples as reading the files every time, without the files."""
import copy
import json
import shutil

import numpy as np
import pytest
from mmengine.registry import init_default_scope

import mmpose_regda  # noqa: F401
from mmpose.registry import DATASETS

PIPELINE = [dict(type='LoadImage'), dict(type='GetBBoxCenterScale'),
            dict(type='TopdownAffine', input_size=(64, 64)), dict(type='PackPoseInputs')]


@pytest.mark.parametrize('dataset_type', ['SharedHandDataset', 'UnlabeledTopdownDataset'])
def test_decoded_once_gives_the_same_samples_and_needs_no_file_after(pose_samples, tmp_path,
                                                                     dataset_type):
    init_default_scope('mmpose')
    shutil.copytree(pose_samples / 'freihand', tmp_path / 'freihand')
    cfg = dict(type=dataset_type, data_root=str(tmp_path), ann_file='freihand/test_freihand.json',
               data_prefix=dict(img='freihand/'), pipeline=PIPELINE)
    cfg.update(data_mode='topdown') if dataset_type == 'SharedHandDataset' else cfg.update(
        metainfo='hand21')
    from_files = DATASETS.build(copy.deepcopy(cfg))
    expected = [from_files[i]['inputs'].numpy() for i in range(len(from_files))]
    decoded = DATASETS.build(dict(cfg, decode_images_once=True))
    for image in (tmp_path / 'freihand').glob('*.jpg'):
        image.unlink()  # from now on only the decoded copies exist
    assert len(decoded) == len(expected) == 8
    for i, inputs in enumerate(expected):
        np.testing.assert_array_equal(decoded[i]['inputs'].numpy(), inputs)
    with pytest.raises(Exception):
        from_files[0]  # noqa: B018  the file-reading dataset does need its files


def test_a_broken_image_decoded_once_names_the_annotation(pose_samples, tmp_path):
    init_default_scope('mmpose')
    shutil.copytree(pose_samples / 'freihand', tmp_path / 'freihand')
    image = tmp_path / 'freihand' / '00017620.jpg'
    image.write_bytes(b'')
    with pytest.raises(ValueError) as error:
        DATASETS.build(dict(type='SharedHandDataset', data_root=str(tmp_path / 'freihand'),
                            ann_file='test_freihand.json', decode_images_once=True))
    ann = next(a for a in json.loads((tmp_path / 'freihand' / 'test_freihand.json').read_text(
    ))['annotations'] if a['image_id'] == 17620)
    assert str(error.value) == (
        f'{tmp_path / "freihand" / "test_freihand.json"}: annotation id {ann["id"]} (image id '
        f'17620): image {image} is empty (0 bytes); expected a complete JPEG or PNG file (copy '
        'or extract it again, or remove its annotations)')
