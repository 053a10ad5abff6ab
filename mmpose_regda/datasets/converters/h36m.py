"""Human3.6M (2D) to COCO json, in the 16-keypoint MPII layout.

Human3.6M's raw archives (videos, CDF pose files) are first preprocessed by mmpose's own
``tools/dataset_converters/preprocess_h36m.py``, which extracts frames and writes an annotation
``.npz`` per split; this converter reads such an ``.npz``:

- ``imgname`` (N,): ``S1/S1_Directions_1.54138969/S1_Directions_1.54138969_000001.jpg``, relative
  to the images folder; the last 6 digits are the frame number, from 1;
- ``center`` (N, 2) and ``scale`` (N,): the person box, square, of side ``scale * 200`` px;
- ``part`` (N, 17, 3): ``[x, y, visible]`` in H36M's 17-joint order (0 root, 1-3 right hip,
  knee, foot, 4-6 left hip, knee, foot, 7 spine, 8 thorax, 9 neck base, 10 head, 11-13 left
  shoulder, elbow, wrist, 14-16 right shoulder, elbow, wrist), mapped by ``H36M_TO_MPII``.

Also read, as found in mmpose's own sample ``test_h36m.npz``: bare file names (the frame is then
looked up at ``<subject>/<sequence>/<name>``) and SPIN's 24-joint ``part`` (14 LSP joints, then
pelvis, MPII thorax (empty for H36M), spine, jaw, head, 5 face points), brought to the 17-joint
order by ``J24_TO_H36M`` (H36M's thorax sits in the LSP neck, its neck base in the jaw): the
sample's joints equal those of mmpose's 17-joint ``h36m_coco.json`` of the same frames (the
pelvis to 0.02 px). That json's category names are wrong (``left_hip`` for joint 1, ...): joint
1 is the right hip in the 24-joint labels and in ``preprocess_h36m.py``'s joint list.

A frame is looked for at ``<root>/<path>`` then ``<root>/images/<path>``; its size is read from
the file, or, when it is absent, taken from ``image_size`` or else from its camera as
``preprocess_h36m.py`` lists them (54138969 and 60457274: 1000x1002, 55011271 and 58860488:
1000x1000), which is only a guess: in mmpose's samples S7's 55011271 frame is 1000x1002. The
box is clipped to the image. Frames whose number ``n`` has ``(n - 1) % frame_step != 0`` are
left out (the default 5 takes 50 fps to 10 fps, keeping the frames ``preprocess_h36m.py``
extracts at its default rate). Subjects S1, S5, S6, S7, S8 train and S9, S11 test; other
subjects are left out. ``preprocess_h36m.py`` writes one ``.npz`` per split: give both at once,
as both outputs are (re)written by every run. Image ids count the records of all files from 1.
Outputs ``h36m_train.json`` and ``h36m_test.json``. Refused, with the file and record: a
``root`` that is not a folder, a ``scale`` that is not a positive finite number, and an array of
pickled objects in the ``.npz`` (numpy never unpickles them: that could run code).

``box='keypoints'`` writes the tight box of the visible keypoints instead of the person box,
the box the reference implementation crops around (1.5 times its longer side).
"""
import os
import os.path as osp
import re
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np

from .coco_writer import (BODY16, CocoBuilder, ConversionError, check_array, finish,
                          read_image_size, reading, square_box)

H36M_TO_MPII = (3, 2, 1, 4, 5, 6, 0, 8, 9, 10, 16, 15, 14, 11, 12, 13)
J24_TO_H36M = (14, 2, 1, 0, 3, 4, 5, 16, 12, 17, 18, 9, 10, 11, 8, 7, 6)
CAMERA_SIZES = {'54138969': (1000, 1002), '55011271': (1000, 1000),
                '58860488': (1000, 1000), '60457274': (1000, 1002)}
FRAME_NAME = re.compile(r'^(S\d+)_.+\.(\d+)_(\d{6})\.jpg$')


def load_h36m_npz(ann_file: str) -> Tuple[np.ndarray, dict]:
    """``imgname`` and the ``center``/``scale``/``part`` arrays of an annotation ``.npz``."""
    with reading(ann_file, 'an .npz archive'), np.load(ann_file) as npz:
        arrays = {}
        for field in ('imgname', 'center', 'scale', 'part'):
            if field not in npz.files:
                raise ConversionError(f'{ann_file}: field `{field}` is missing (found '
                                      f'{sorted(npz.files)})')
            try:
                arrays[field] = npz[field]
            except ValueError as e:
                if 'allow_pickle' not in str(e):
                    raise
                # numpy refuses to unpickle object arrays: a pickle can run code when loaded
                raise ConversionError(
                    f'{ann_file}: field `{field}` is an array of pickled Python objects, which '
                    'is never loaded (unpickling can run code); expected numbers or strings, as '
                    "mmpose's preprocess_h36m.py writes") from None
    num = np.shape(arrays['imgname'])[0] if np.ndim(arrays['imgname']) else 0
    for field, array in arrays.items():
        if np.ndim(array) == 0 or len(array) != num:
            raise ConversionError(f'{ann_file}: field `{field}` has shape {np.shape(array)}; '
                                  f'expected one entry per image ({num} in `imgname`)')
    return arrays.pop('imgname'), arrays


def locate_frame(root: str, imgname: str, where: str,
                 default_size: Optional[Tuple[int, int]]) -> Tuple[str, str, str, int, int]:
    """Subject, file name (relative to ``root``), frame number and size of one record."""
    match = FRAME_NAME.match(osp.basename(imgname))
    if match is None:
        raise ConversionError(f'{where}: `imgname` {imgname!r} is not a Human3.6M frame name '
                              '(S<subject>_<action>.<camera>_<6-digit frame>.jpg)')
    subject, camera, frame = match.groups()
    path = imgname
    if '/' not in imgname:
        path = f'{subject}/{imgname[:-len("_000000.jpg")]}/{imgname}'
    for file_name in (path, f'images/{path}'):
        path_on_disk = osp.join(root, file_name)
        if osp.isfile(path_on_disk):
            return (subject, file_name, int(frame)) + tuple(read_image_size(path_on_disk))
    size = default_size or CAMERA_SIZES.get(camera)
    if size is None:
        raise ConversionError(f'{where}: frame not found under {root} and camera {camera} is '
                              'unknown; give the image size')
    return (subject, path, int(frame)) + tuple(size)


def convert_h36m(ann_file: Union[str, Sequence[str]],
                 root: str,
                 out_dir: Optional[str] = None,
                 train_subjects: Sequence[str] = ('S1', 'S5', 'S6', 'S7', 'S8'),
                 test_subjects: Sequence[str] = ('S9', 'S11'),
                 frame_step: int = 5,
                 image_size: Optional[Tuple[int, int]] = None,
                 box: str = 'person') -> Dict[str, dict]:
    """Convert preprocessed Human3.6M ``.npz`` files to ``h36m_{train,test}.json``.

    Args:
        ann_file (str | Sequence[str]): the ``.npz`` file(s) written by mmpose's
            ``preprocess_h36m.py``, read in turn.
        root (str): the dataset root the json refers to, holding the frames.
        out_dir (str, optional): where to write the json files; None writes nothing.
        train_subjects, test_subjects (Sequence[str]): the subjects of each split.
        frame_step (int): keep frames 1, 1 + step, 1 + 2 * step, ...
        image_size (tuple, optional): ``(width, height)`` for frames not on disk; by default
            from the camera.
        box (str): the box written: ``'person'`` (the preprocessed square person box) or
            ``'keypoints'`` (around the visible keypoints, as the reference crops).

    Returns:
        dict: ``{file name: COCO dict}``.
    """
    if box not in ('person', 'keypoints'):
        raise ConversionError(f"Human3.6M: box must be 'person' or 'keypoints', got {box!r}")
    if not osp.isdir(root):
        # frames are looked for under it; without it every size would be the camera's guess
        raise ConversionError(f'Human3.6M: root {root} is not a folder; expected the dataset '
                              'root holding the frames (directly or under images/)')
    split_of = {**{s: 'h36m_train.json' for s in train_subjects},
                **{s: 'h36m_test.json' for s in test_subjects}}
    builders = {name: CocoBuilder(BODY16, f'Human3.6M {split} ({", ".join(subjects)}), every '
                                  f'{frame_step}th frame, MPII 16-keypoint layout')
                for name, split, subjects in (('h36m_train.json', 'train', train_subjects),
                                              ('h36m_test.json', 'test', test_subjects))}
    image_id = 0
    ann_files = [ann_file] if isinstance(ann_file, (str, os.PathLike)) else ann_file
    for path in ann_files:
        imgnames, arrays = load_h36m_npz(path)
        for i, imgname in enumerate(map(str, imgnames)):
            image_id += 1
            where = f'{path}: record {i} ({imgname})'
            center = check_array(arrays['center'][i], (2, ), f'{where}: field `center`', 'x, y')
            scale = check_array(arrays['scale'][i], (), f'{where}: field `scale`',
                                'box side / 200')
            if scale <= 0:
                raise ConversionError(f'{where}: field `scale` is {float(scale):g}; expected a '
                                      'positive number (the person box side / 200 px)')
            part = check_array(arrays['part'][i], [(17, 3), (24, 3)], f'{where}: field `part`',
                               'x, y, visible of H36M\'s 17 joints or SPIN\'s 24')
            subject, file_name, frame, width, height = locate_frame(root, imgname, where,
                                                                    image_size)
            if subject not in split_of:
                continue
            builder = builders[split_of[subject]]
            if (frame - 1) % frame_step:
                builder.skip(f'frames not in every {frame_step}th')
                continue
            joints = (part[list(J24_TO_H36M)] if len(part) == 24 else part)[list(H36M_TO_MPII)]
            builder.add(image_id, file_name, width, height, joints[:, :2], joints[:, 2] > 0,
                        bbox=(square_box(center, float(scale) * 200, width, height)
                              if box == 'person' else None))
    return finish(builders, out_dir)
