"""The converters' shared pieces: field checks and their messages, boxes, the holdout draw, the
categories from the metainfo files, and the all-or-nothing write."""
import json
import os

import numpy as np
import pytest

from mmpose_regda.datasets.converters import ConversionError, write_outputs
from mmpose_regda.datasets.converters.coco_writer import (CocoBuilder, holdout, load_categories,
                                                          read_array, square_box, visible_box)


def test_read_array_names_file_record_field_and_expectation():
    where = 'anno.pickle: sample 3'
    assert read_array({'a': [[1, 2]]}, 'a', [(1, 3), (None, 2)], where).shape == (1, 2)
    cases = [({}, "anno.pickle: sample 3: field `a` is missing; expected an array of shape "
                  "(N, 2) (x, y)"),
             ({'a': 'text'}, "field `a` is not a numeric array (got 'text'); expected shape "
                             "(N, 2) (x, y)"),
             ({'a': np.zeros((2, 3))}, 'field `a` has shape (2, 3); expected (N, 2) (x, y)'),
             ({'a': [[1, np.inf]]}, 'field `a` holds NaN or infinite values')]
    for record, message in cases:
        with pytest.raises(ConversionError) as error:
            read_array(record, 'a', (None, 2), where, 'x, y')
        assert message in str(error.value)


def test_boxes():
    xy = np.array([[10., 20.], [-5., 30.], [50., 400.], [40., 25.]])
    # the hidden point (-5, 30) does not count; y = 400 is clipped to the 300 px image
    assert visible_box(xy, np.array([1, 0, 1, 1], bool), 200, 300) == [10, 20, 40, 280]
    assert visible_box(xy, np.zeros(4, bool), 200, 300) == [0, 0, 0, 0]
    assert square_box(np.array([100., 50.]), 80, 200, 300) == [60, 10, 80, 80]
    assert square_box(np.array([190., 20.]), 80, 200, 300) == [150, 0, 50, 60]


def test_holdout_is_the_seeded_permutation():
    # np.random.RandomState(42).permutation(10) = [8 1 5 0 7 2 9 4 3 6]
    assert np.flatnonzero(holdout(10, 3)).tolist() == [1, 5, 8]
    assert holdout(10, 0).sum() == 0 and holdout(10, 10).all()
    with pytest.raises(ConversionError, match='cannot hold out 11 test items of 10'):
        holdout(10, 11)


def test_builder_and_categories():
    builder = CocoBuilder('body16', 'test')
    xy = np.arange(32, dtype=float).reshape(16, 2)
    assert builder.add(4, 'a.jpg', 100, 100, xy, np.zeros(16, bool)) is None
    ann = builder.add(4, 'a.jpg', 100, 100, xy, np.arange(16) < 2, extra='kept')
    coco = builder.to_dict()
    assert coco['images'] == [dict(id=4, file_name='a.jpg', width=100, height=100)]
    assert coco['annotations'] == [ann]
    assert ann['keypoints'][:9] == [0, 1, 2, 2, 3, 2, 0, 0, 0] and ann['extra'] == 'kept'
    assert (ann['id'], ann['bbox'], ann['area'], ann['num_keypoints']) == (1, [0, 1, 2, 2], 4, 2)
    assert coco['info']['filtered'] == {'with no visible keypoint': 1}
    body = coco['categories'][0]
    assert body['keypoints'][6:10] == ['pelvis', 'thorax', 'upper_neck', 'head_top']
    assert [1, 2] in body['skeleton'] and max(map(max, body['skeleton'])) == 16
    assert load_categories('hand21')[0]['keypoints'][17:] == [
        'pinky_finger1', 'pinky_finger2', 'pinky_finger3', 'pinky_finger4']


def test_write_outputs_is_all_or_nothing(tmp_path):
    (tmp_path / 'a.json').write_text('old a')
    with pytest.raises(TypeError):
        write_outputs(str(tmp_path), {'a.json': {'fine': 1}, 'b.json': {'bad': object()}})
    assert (tmp_path / 'a.json').read_text() == 'old a'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['a.json']

    paths = write_outputs(str(tmp_path / 'new'), {'a.json': {'x': 1}, 'b.json': {'y': 2}})
    assert paths == [str(tmp_path / 'new' / 'a.json'), str(tmp_path / 'new' / 'b.json')]
    assert json.loads((tmp_path / 'new' / 'b.json').read_text()) == {'y': 2}
    assert sorted(p.name for p in (tmp_path / 'new').iterdir()) == ['a.json', 'b.json']
    umask = os.umask(0)
    os.umask(umask)
    # not the private 0600 of the temporary file
    assert (tmp_path / 'new' / 'a.json').stat().st_mode & 0o777 == 0o666 & ~umask
