import os.path as osp
from typing import Optional, Sequence

import numpy as np

from mmpose.datasets.datasets.base import BaseCocoStyleDataset
from mmpose.registry import DATASETS

METAINFO_DIR = osp.join(osp.dirname(osp.abspath(__file__)), 'metainfo')


def metainfo_file(name: str) -> str:
    """Absolute path of one of the package's metainfo files (works from any directory)."""
    return osp.join(METAINFO_DIR, f'{name}.py')


def load_metainfo(metainfo: dict) -> dict:
    """mmpose's ``parse_pose_metainfo``, keeping the PCK groups of the file (``part_groups``,
    ``avg_keypoints``)."""
    from mmengine.config import Config

    from mmpose.datasets.datasets.utils import parse_pose_metainfo
    if not isinstance(metainfo, dict):
        raise TypeError(f'metainfo should be a dict, but got {type(metainfo)}')
    parsed = parse_pose_metainfo(metainfo) if metainfo else metainfo
    if 'from_file' in metainfo:
        raw = Config.fromfile(metainfo['from_file']).dataset_info
        if 'part_groups' in raw:
            parsed['part_groups'] = {k: list(v) for k, v in raw['part_groups'].items()}
        if 'avg_keypoints' in raw:
            parsed['avg_keypoints'] = list(raw['avg_keypoints'])
    return parsed


# RHD's files list each finger from tip to base; the shared order goes base to tip.
RHD_TO_SHARED_ORDER = [0] + [base + 3 - j for base in range(1, 21, 4) for j in range(4)]


class KeypointCocoDataset(BaseCocoStyleDataset):
    """A top-down COCO-style keypoint dataset in one of the plugin's shared keypoint layouts.

    On top of mmpose's ``BaseCocoStyleDataset``:

    - the metainfo file is the package's own, found from any working directory, and keeps its
      ``part_groups`` (the paper's PCK groups, read by ``PartPCKAccuracy``);
    - ``keypoint_order`` reorders keypoints stored in another order as they are read;
    - a malformed record fails with the annotation file, the record id and what was expected,
      instead of a reshape error deep in numpy.

    Args:
        dataset_name (str, optional): recorded in the metainfo (e.g. ``'h3d'``), shown in logs
            and in error messages.
        keypoint_order (Sequence[int], optional): for each keypoint of the shared layout, its
            index in the file.
        **kwargs: as ``BaseCocoStyleDataset`` (``ann_file``, ``data_root``, ``pipeline``...).
    """
    METAINFO_NAME = ''

    def __init__(self,
                 *args,
                 dataset_name: Optional[str] = None,
                 keypoint_order: Optional[Sequence[int]] = None,
                 **kwargs):
        self.keypoint_order = None if keypoint_order is None else list(keypoint_order)
        super().__init__(*args, **kwargs)
        if dataset_name is not None:
            self._metainfo['dataset_name'] = dataset_name

    @classmethod
    def _load_metainfo(cls, metainfo: dict = None) -> dict:
        if metainfo is None:
            metainfo = dict(from_file=metainfo_file(cls.METAINFO_NAME))
        return load_metainfo(metainfo)

    def parse_data_info(self, raw_data_info: dict) -> Optional[dict]:
        ann = raw_data_info['raw_ann_info']
        num_keypoints = self._metainfo['num_keypoints']
        where = (f'{self.ann_file}: annotation id {ann.get("id")} '
                 f'(image id {ann.get("image_id")})')
        if 'bbox' in ann:
            bbox = ann['bbox']
            if (not isinstance(bbox, (list, tuple)) or len(bbox) != 4
                    or not np.all(np.isfinite(np.asarray(bbox, dtype=float)))):
                raise ValueError(f'{where}: `bbox` must be [x, y, width, height], got {bbox!r}')
        if 'keypoints' in ann:
            size = np.asarray(ann['keypoints'], dtype=float).size
            if size != 3 * num_keypoints:
                raise ValueError(
                    f'{where}: `keypoints` has {size} values; expected {3 * num_keypoints} '
                    f'(x, y, visibility for each of the {num_keypoints} keypoints of '
                    f'{self._metainfo["dataset_name"]})')
        info = super().parse_data_info(raw_data_info)
        if info is not None and self.keypoint_order is not None:
            info['keypoints'] = info['keypoints'][:, self.keypoint_order]
            info['keypoints_visible'] = info['keypoints_visible'][:, self.keypoint_order]
        return info


@DATASETS.register_module()
class SharedHandDataset(KeypointCocoDataset):
    """Hands in the shared 21-keypoint order (``metainfo/hand21.py``): H3D, FreiHand, and RHD.

    RHD annotation files (mmpose's, and RHD's own order) list each finger from tip to base:
    give ``keypoint_order='rhd'`` to read them in the shared order. The project's converters
    (``tools/dataset_converters``) already write the shared order.

    An annotation's ``hand_type`` (``'left'``/``'right'``, written by the RHD converter) is
    passed on to the pipeline, where ``MirrorToChirality`` reads it.
    """
    METAINFO_NAME = 'hand21'

    def __init__(self, *args, keypoint_order=None, **kwargs):
        if keypoint_order == 'rhd':
            keypoint_order = RHD_TO_SHARED_ORDER
        super().__init__(*args, keypoint_order=keypoint_order, **kwargs)

    def parse_data_info(self, raw_data_info: dict) -> Optional[dict]:
        info = super().parse_data_info(raw_data_info)
        hand_type = raw_data_info['raw_ann_info'].get('hand_type')
        if info is not None and hand_type is not None:
            info['hand_type'] = hand_type
        return info


@DATASETS.register_module()
class SharedBodyDataset(KeypointCocoDataset):
    """Bodies in the 16-keypoint MPII layout (``metainfo/body16.py``): SURREAL, Human3.6M and
    LSP as converted by the project's converters."""
    METAINFO_NAME = 'body16'
