"""Two views of one unlabeled target instance for mean-teacher consistency, and their packing."""
import copy
from typing import Dict, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform, Compose

from mmpose.datasets.transforms import PackPoseInputs
from mmpose.datasets.transforms.formatting import image_to_tensor
from mmpose.registry import TRANSFORMS
from mmpose.structures.bbox import get_warp_matrix

#: UDAPE's augmentation of both views for hands (its RHD -> H3D command: rotation 180, shear
#: -30..30 along x, translation 5% of the input, scale 0.6-1.3).
UDAPE_HAND_VIEW = dict(rotation=180., scale=(0.6, 1.3), shear=30., translate=0.05)


def random_view_affine(input_size: Tuple[int, int], rotation: float = 0.,
                       scale: Sequence[float] = (1., 1.), shear: float = 0.,
                       translate: float = 0.) -> np.ndarray:
    """A random affine of the crop about its centre, as torchvision's ``RandomAffine`` draws it
    (UDAPE's ``RandomAffineRotation``): an angle uniform in ``[-rotation, rotation]`` degrees, a
    scale uniform in ``scale``, a shear along x uniform in ``[-shear, shear]`` degrees, a shift
    uniform in ``[-translate, translate]`` of the input's width and height. (3, 3), input pixels
    to input pixels."""
    w, h = input_size
    angle = np.deg2rad(np.random.uniform(-rotation, rotation))
    zoom = np.random.uniform(*scale)
    shear_x = np.deg2rad(np.random.uniform(-shear, shear))
    shift = np.random.uniform(-translate, translate, size=2) * (w, h)
    cos, sin = np.cos(angle), np.sin(angle)
    rotate = np.array([[cos, -sin], [sin, cos]])
    shear_matrix = np.array([[1., np.tan(shear_x)], [0., 1.]])
    linear = zoom * rotate @ shear_matrix
    centre = np.array([w / 2., h / 2.])
    affine = np.eye(3)
    affine[:2, :2] = linear
    affine[:2, 2] = centre + shift - linear @ centre
    return affine


@TRANSFORMS.register_module()
class MeanTeacherViews(BaseTransform):
    """The teacher's and the student's views of one target instance, each a crop of the box with
    its own random affine and photometric steps, and the affines that made them (UDAPE, Kim et
    al., ECCV 2022: both views from one image, the teacher's predictions carried into the
    student's view).

    Each view is the crop ``TopdownAffine`` would take of the box (same aspect fix, centre,
    scale and rotation), followed by :func:`random_view_affine` with that view's ranges, in one
    warp; then the view's ``photometric`` steps run on its image alone. The student's view is
    ``img``; the teacher's is ``teacher_img``; ``student_warp`` and ``teacher_warp`` (3 x 3,
    original image to input pixels) record the warps, so that a point of the teacher's input
    ``p`` is ``student_warp @ inv(teacher_warp) @ p`` in the student's. Keypoints, where the
    dataset has any, follow the student's warp (they are for visualisation: no loss reads target
    labels).

    In UDAPE's code both views draw from the same ranges (``UDAPE_HAND_VIEW`` for hands) and
    the student's is made harder by occluding keypoints the teacher is confident about, which
    needs the teacher's predictions and so happens in the model
    (``MeanTeacherConsistency``); ``teacher`` can be given smaller ranges for a weaker view.

    Required keys: img, bbox_center, bbox_scale (e.g. after ``GetBBoxCenterScale``); optional
    bbox_rotation, keypoints. Modified keys: img, bbox_scale. Added keys: teacher_img,
    student_warp, teacher_warp, input_size, input_center, input_scale, transformed_keypoints.

    Args:
        input_size (tuple[int, int]): (w, h) of both views.
        teacher, student (dict): each view's :func:`random_view_affine` ranges.
        photometric (list[dict]): transforms run on each view's image after its warp (colour
            jitter, blur), each view drawing its own parameters.
    """

    def __init__(self,
                 input_size: Tuple[int, int],
                 teacher: dict = UDAPE_HAND_VIEW,
                 student: dict = UDAPE_HAND_VIEW,
                 photometric: Sequence[dict] = (dict(type='RandomColorJitter', brightness=0.25,
                                                     contrast=0.25, saturation=0.25), )):
        self.input_size = tuple(int(v) for v in input_size)
        self.views = dict(teacher=dict(teacher), student=dict(student))
        for name, ranges in self.views.items():
            try:
                random_view_affine(self.input_size, **ranges)
            except TypeError as e:
                raise TypeError(f'MeanTeacherViews: {name} ranges {ranges!r}: {e}; expected '
                                'rotation, scale, shear and translate') from None
        self.photometric = Compose(list(copy.deepcopy(photometric)))

    def crop_warp(self, results: Dict) -> np.ndarray:
        """The 3 x 3 warp ``TopdownAffine`` would apply (non-UDP), with its aspect fix."""
        w, h = self.input_size
        bw, bh = results['bbox_scale'][0]
        aspect = w / h
        scale = np.array([bw, bw / aspect] if bw > bh * aspect else [bh * aspect, bh])
        results['bbox_scale'] = scale[None].astype(np.float32)
        rotation = results['bbox_rotation'][0] if 'bbox_rotation' in results else 0.
        warp = np.eye(3)
        warp[:2] = get_warp_matrix(results['bbox_center'][0], scale, rotation,
                                   output_size=(w, h))
        return warp

    def transform(self, results: Dict) -> Optional[Dict]:
        crop = self.crop_warp(results)
        images, warps = {}, {}
        for name, ranges in self.views.items():
            warps[name] = random_view_affine(self.input_size, **ranges) @ crop
            view = dict(results, img=cv2.warpAffine(results['img'], warps[name][:2],
                                                    self.input_size, flags=cv2.INTER_LINEAR))
            images[name] = self.photometric(view)['img']
        results['img'], results['teacher_img'] = images['student'], images['teacher']
        results['student_warp'] = warps['student'].astype(np.float32)
        results['teacher_warp'] = warps['teacher'].astype(np.float32)
        if results.get('keypoints') is not None:
            transformed = results['keypoints'].copy()
            transformed[..., :2] = cv2.transform(results['keypoints'][..., :2],
                                                 warps['student'][:2])
            results['transformed_keypoints'] = transformed
        else:
            results['transformed_keypoints'] = np.zeros([])
            results['keypoints_visible'] = np.ones((1, 1, 1))
        results['input_size'] = self.input_size
        results['input_center'] = results['bbox_center'][0]
        results['input_scale'] = results['bbox_scale'][0]
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(input_size={self.input_size}, teacher='
                f'{self.views["teacher"]}, student={self.views["student"]})')


@TRANSFORMS.register_module()
class PackMeanTeacherInputs(PackPoseInputs):
    """``PackPoseInputs`` for :class:`MeanTeacherViews`: the student's view as ``inputs``, the
    teacher's as ``teacher_inputs``, and both warps in the data sample's metainfo."""

    def __init__(self, meta_keys=PackPoseInputs.__init__.__defaults__[0], **kwargs):
        super().__init__(meta_keys=tuple(meta_keys) + ('student_warp', 'teacher_warp'),
                         **kwargs)

    def transform(self, results: Dict) -> Dict:
        if 'teacher_img' not in results:
            raise KeyError('PackMeanTeacherInputs: no teacher_img in the results; the pipeline '
                           'needs MeanTeacherViews (in place of TopdownAffine) before it')
        packed = super().transform(results)
        packed['teacher_inputs'] = image_to_tensor(results['teacher_img'])
        return packed
