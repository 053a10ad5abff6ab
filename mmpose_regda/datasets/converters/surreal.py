"""SURREAL to COCO json and jpg frames, in the 16-keypoint MPII layout.

Raw layout (SURREAL v1)::

    <root>/cmu/<split>/run{0,1,2}/<sequence>/<sequence>_c<NNNN>.mp4       320x240 clip
    <root>/cmu/<split>/run{0,1,2}/<sequence>/<sequence>_c<NNNN>_info.mat  'joints2D' (2, 24, T)

``joints2D`` holds the pixel coordinates of SMPL's 24 joints in each of the clip's T frames
(MATLAB drops the last axis of a one-frame clip: ``(2, 24)`` is read as T = 1). The 16 MPII
joints are SMPL joints ``SMPL_TO_MPII``, the reference's list, kept exactly: SURREAL names left
and right mirrored relative to MPII, and the list already accounts for it (it takes SMPL's
"left" ankle 7 for MPII's right ankle, ...). Note that its shoulders are SMPL's collar joints
13 and 14, not SMPL's shoulders 16 and 17. SURREAL has no occlusion
labels: a joint is visible when it lies inside the frame; frames with no joint inside are left
out (and not extracted).

Every ``frame_step``-th frame (0, 10, 20, ... by default) is decoded with OpenCV and written to
``<frames_dir>/images/<split>/<run>/<sequence>_c<NNNN>_<frame:05d>.jpg``: the run is part of the
path because a sequence rendered in several runs has the same clip names in each. The json
``<out_dir>/surreal_<split>.json`` refers to them relative to ``frames_dir`` (by default
``out_dir``), which is therefore the converted dataset's root: for the project's configs
(``data/surreal/annotations/*.json``, images relative to ``data/surreal/``) give
``out_dir='data/surreal/annotations', frames_dir='data/surreal'``. All ``.mat`` files are
checked before any frame is written; the json is written last, so a failure leaves no json
(frames already written are simply rewritten by the next run).
"""
import glob
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import scipy.io

from .coco_writer import (BODY16, NO_VISIBLE, CocoBuilder, ConversionError, check_array, finish,
                          inside_image)

SMPL_TO_MPII = (7, 4, 1, 2, 5, 8, 0, 9, 12, 15, 20, 18, 13, 14, 19, 21)


def load_joints2d(mat_file: str) -> np.ndarray:
    """The ``(2, 24, T)`` ``joints2D`` array of a clip's ``_info.mat``."""
    try:
        mat = scipy.io.loadmat(mat_file, variable_names=['joints2D'])
    except Exception as e:  # scipy raises several types for an unreadable file
        raise ConversionError(f'{mat_file}: cannot be read as a .mat file ({e})') from None
    if 'joints2D' not in mat:
        raise ConversionError(f'{mat_file}: field `joints2D` is missing; expected the (2, 24, '
                              'T) pixel coordinates of the SMPL joints')
    joints = check_array(mat['joints2D'], [(2, 24), (2, 24, None)], f'{mat_file}: field '
                         '`joints2D`', 'x/y, SMPL joint, frame')
    return joints[..., None] if joints.ndim == 2 else joints


def extract_frames(video: str, frames: Sequence[int], size: Tuple[int, int],
                   out_files: Sequence[str]) -> List[int]:
    """Write the given frames (increasing) of ``video`` as jpg; returns the frames written (a
    clip shorter than its annotation lacks the last ones)."""
    capture = cv2.VideoCapture(video)
    if not capture.isOpened():
        raise ConversionError(f'{video}: cannot be opened as a video')
    written, wanted, index, size = [], dict(zip(frames, out_files)), 0, tuple(size)
    last = max(frames, default=-1)
    try:
        while index <= last and capture.grab():
            if index in wanted:
                ok, image = capture.retrieve()
                if not ok or image.shape[1::-1] != size:
                    raise ConversionError(
                        f'{video}: frame {index} could not be decoded at {size[0]}x{size[1]} '
                        f'(got {None if image is None else image.shape[1::-1]})')
                os.makedirs(osp.dirname(wanted[index]), exist_ok=True)
                if not cv2.imwrite(wanted.pop(index), image):
                    raise ConversionError(f'{video}: frame {index} could not be written')
                written.append(index)
            index += 1
    finally:
        capture.release()
    return written


def convert_surreal(root: str,
                    out_dir: str,
                    splits: Sequence[str] = ('train', 'val', 'test'),
                    frame_step: int = 10,
                    frame_size: Tuple[int, int] = (320, 240),
                    frames_dir: Optional[str] = None) -> Dict[str, dict]:
    """Convert SURREAL clips to jpg frames and ``surreal_<split>.json`` in ``out_dir``.

    Args:
        root (str): the folder holding ``cmu/``.
        out_dir (str): where the json files go.
        splits (Sequence[str]): SURREAL splits to convert (``train``, ``val``, ``test``).
        frame_step (int): keep frames 0, step, 2 * step, ...
        frame_size (tuple): ``(width, height)`` of the clips.
        frames_dir (str, optional): the converted dataset's root, where ``images/`` is written
            and which the json's file names are relative to; by default ``out_dir``.

    Returns:
        dict: ``{file name: COCO dict}``.
    """
    width, height = frame_size
    builders, pending = {}, []
    for split in splits:
        split_dir = osp.join(root, 'cmu', split)
        if not osp.isdir(split_dir):
            raise ConversionError(f'{split_dir}: SURREAL split `{split}` not found')
        builder = builders[f'surreal_{split}.json'] = CocoBuilder(
            BODY16, f'SURREAL {split}, every {frame_step}th frame, MPII 16-keypoint layout')
        for mat_file in sorted(glob.glob(osp.join(split_dir, 'run*', '*', '*_info.mat'))):
            joints = load_joints2d(mat_file)
            clip = osp.basename(mat_file)[:-len('_info.mat')]
            run = osp.basename(osp.dirname(osp.dirname(mat_file)))
            frames = []
            for t in range(0, joints.shape[2], frame_step):
                xy = joints[:, SMPL_TO_MPII, t].T
                visible = inside_image(xy, width, height)
                if visible.any():
                    frames.append((t, xy, visible))
                else:
                    builder.skip(NO_VISIBLE)
            video = mat_file[:-len('_info.mat')] + '.mp4'
            pending.append((builder, split, run, clip, video, frames))
    for builder, split, run, clip, video, frames in pending:
        names = [f'images/{split}/{run}/{clip}_{t:05d}.jpg' for t, _, _ in frames]
        done = set(extract_frames(video, [t for t, _, _ in frames], frame_size,
                                  [osp.join(frames_dir or out_dir, name) for name in names]))
        for name, (t, xy, visible) in zip(names, frames):
            if t in done:
                builder.add(len(builder.images) + 1, name, width, height, xy, visible)
            else:
                builder.skip('frames past the end of their video')
    return finish(builders, out_dir)
