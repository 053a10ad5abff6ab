import json
import logging
import os.path as osp
from collections import defaultdict
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.logging import print_log

from mmpose.datasets.datasets.base import BaseCocoStyleDataset
from mmpose.registry import DATASETS
from .annotation_file_checks import check_category_keypoints, check_unique_ids
from .decoded_images import attach_decoded_images
from .image_files import name_image_load_errors

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


def dropped_because(info: dict) -> str:
    """Why mmpose's ``BaseCocoStyleDataset._is_valid_instance`` leaves an instance out."""
    if info.get('iscrowd'):
        return 'crowd annotations (iscrowd 1)'
    if info.get('num_keypoints', 1) == 0:
        return 'with no labelled keypoint (num_keypoints 0)'
    x1, y1, x2, y2 = info['bbox'][0]
    if x2 <= x1 or y2 <= y1:
        raw = (info.get('raw_ann_info') or {}).get('bbox', [0, 0, 1, 1])
        if raw[2] <= 0 or raw[3] <= 0:
            return 'with a box of zero or negative width or height'
        return 'with a box outside its image'
    return 'with no keypoint coordinate above 0'


# RHD's files list each finger from tip to base; the shared order goes base to tip.
RHD_TO_SHARED_ORDER = [0] + [base + 3 - j for base in range(1, 21, 4) for j in range(4)]


class KeypointCocoDataset(BaseCocoStyleDataset):
    """A top-down COCO-style keypoint dataset in one of the plugin's shared keypoint layouts.

    On top of mmpose's ``BaseCocoStyleDataset``:

    - the metainfo file is the package's own, found from any working directory, and keeps its
      ``part_groups`` (the paper's PCK groups, read by ``PartPCKAccuracy``);
    - ``keypoint_order`` reorders keypoints stored in another order as they are read;
    - a malformed record fails with the annotation file, the record id and what was expected,
      instead of a reshape error deep in numpy; a truncated file fails with its name;
    - a file of other keypoints than the metainfo's (by its ``categories``' keypoint names), or
      with duplicated image or annotation ids, fails with the file, the field and what was
      expected (``annotation_file_checks``); a file in which no keypoint is labelled (every
      visibility 0) fails too: it would train a loss of 0;
    - an image that cannot be loaded fails with the annotation file, the annotation id and the
      image (``image_files.name_image_load_errors``), not mmcv's ``failed to load image``;
    - the instances mmpose leaves out (a crowd, no labelled keypoint, a box of no size or
      outside its image) are counted: one warning per file says how many and why, with the
      first ids; a file with no instance left fails with that count, before mmengine's
      serialisation would (``need at least one array to concatenate``).

    Args:
        dataset_name (str, optional): recorded in the metainfo (e.g. ``'h3d'``), shown in logs
            and in error messages.
        keypoint_order (Sequence[int], optional): for each keypoint of the shared layout, its
            index in the file.
        decode_images_once (bool): decode every image when the dataset is built and keep it in
            memory (``attach_decoded_images``), for small datasets read many times.
        **kwargs: as ``BaseCocoStyleDataset`` (``ann_file``, ``data_root``, ``pipeline``...).
    """
    METAINFO_NAME = ''
    # how errors name a sample's record (formatted with its data info)
    RECORD = 'annotation id {id} (image id {img_id})'

    def __init__(self,
                 *args,
                 dataset_name: Optional[str] = None,
                 keypoint_order: Optional[Sequence[int]] = None,
                 decode_images_once: bool = False,
                 **kwargs):
        self.keypoint_order = None if keypoint_order is None else list(keypoint_order)
        self.decode_images_once = decode_images_once
        super().__init__(*args, **kwargs)
        if dataset_name is not None:
            self._metainfo['dataset_name'] = dataset_name
        name_image_load_errors(self.pipeline, self.ann_file, self.RECORD)

    @classmethod
    def _load_metainfo(cls, metainfo: dict = None) -> dict:
        if metainfo is None:
            metainfo = dict(from_file=metainfo_file(cls.METAINFO_NAME))
        return load_metainfo(metainfo)

    def _load_annotations(self):
        # why instances are left out, with their ids (see _describe_dropped)
        self._dropped: Dict[str, List] = defaultdict(list)
        self._num_read = 0
        self._file_checked = False
        try:
            loaded = super()._load_annotations()
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ValueError(f'{self.ann_file}: not a valid JSON file ({e}); it is truncated or '
                             'damaged: download or convert it again') from None
        self._check_file()  # a file without annotations was not checked yet
        return loaded

    def _check_file(self):
        """The checks of the file as a whole, once, before its first record is parsed: mmpose
        reads the file and parses its records in one method, with ``self.coco`` in between."""
        if self._file_checked or getattr(self, 'coco', None) is None:
            return
        self._file_checked = True
        for field in ('images', 'annotations'):
            check_unique_ids(self.ann_file, self.coco.dataset, field)
        check_category_keypoints(self.ann_file, self.coco.dataset, self._metainfo)

    def _get_topdown_data_infos(self, instance_list: List[dict]) -> List[dict]:
        kept = []
        for info in instance_list:
            if self._is_valid_instance(info):  # mmpose's own criteria, unchanged
                kept.append(info)
            else:
                self._dropped[dropped_because(info)].append(info['id'])
        return kept

    def load_data_list(self) -> List[dict]:
        data_list = super().load_data_list()
        if getattr(self, '_dropped', None):
            print_log(f'{self.ann_file}: {self._describe_dropped()}', logger='current',
                      level=logging.WARNING)
        return data_list

    def filter_data(self) -> List[dict]:
        data_list = super().filter_data()
        if not data_list:
            if self.bbox_file:
                why = f'the detections of {self.bbox_file} give none'
            elif not getattr(self, '_num_read', 0):
                why = 'it has no annotation'
            else:
                why = self._describe_dropped()
                if not self._dropped:  # all removed by filter_cfg (bbox_score_thr)
                    why = f'filter_cfg={self.filter_cfg} removed all {self._num_read}'
            raise ValueError(
                f'{self.ann_file}: no instance to use: {why}. Expected at least one instance '
                'with a box overlapping its image and a labelled keypoint.')
        if not self.bbox_file:  # detections carry no keypoints
            self._check_labelled(data_list)
        if self.decode_images_once:
            return attach_decoded_images(
                data_list, lambda info: f'{self.ann_file}: {self.RECORD.format_map(info)}')
        return data_list

    def _check_labelled(self, data_list: List[dict]):
        """Fail if no keypoint of the kept instances counts in the loss (visible, with a joint
        weight above 0). mmpose keeps an instance whose visibilities are all 0 when its
        ``num_keypoints`` is missing or wrong and it has coordinates: a file of only such
        instances would train a loss of exactly 0 for ever."""
        weights = np.asarray(self._metainfo.get('dataset_keypoint_weights', 1.), dtype=float)
        visible = False
        for info in data_list:
            in_loss = np.asarray(info['keypoints_visible'], dtype=float) > 0
            if (in_loss * weights > 0).any():
                return
            visible = visible or in_loss.any()
        why = (f'its visible keypoints all have a joint weight of 0 in the metainfo '
               f'{self._metainfo["dataset_name"]!r} (`joint_weights`)' if visible else
               'every keypoint has visibility 0 (the third value of each `keypoints` triple)')
        raise ValueError(
            f'{self.ann_file}: none of its {len(data_list)} instances has a keypoint that counts '
            f'in the loss: {why}; training on it would give a loss of 0. Expected at least one '
            'keypoint with visibility 1 or 2 (labelled).')

    def _describe_dropped(self) -> str:
        total = sum(len(ids) for ids in self._dropped.values())
        parts = []
        for reason, ids in self._dropped.items():
            shown = ', '.join(map(str, ids[:5])) + (', ...' if len(ids) > 5 else '')
            parts.append(f'{len(ids)} {reason} (ids {shown})')
        return f'{total} of {self._num_read} instances left out: ' + '; '.join(parts)

    def parse_data_info(self, raw_data_info: dict) -> Optional[dict]:
        self._check_file()
        ann = raw_data_info['raw_ann_info']
        self._num_read += 1
        if 'bbox' not in ann or 'keypoints' not in ann:  # mmpose leaves it out
            self._dropped['without `bbox` or `keypoints`'].append(ann.get('id'))
            return None
        num_keypoints = self._metainfo['num_keypoints']
        where = (f'{self.ann_file}: annotation id {ann.get("id")} '
                 f'(image id {ann.get("image_id")})')
        bbox = ann['bbox']
        if (not isinstance(bbox, (list, tuple)) or len(bbox) != 4
                or not np.all(np.isfinite(np.asarray(bbox, dtype=float)))):
            raise ValueError(f'{where}: `bbox` must be [x, y, width, height], got {bbox!r}')
        try:
            got = f'{np.asarray(ann["keypoints"], dtype=float).size} values'
        except (TypeError, ValueError):  # numpy's "inhomogeneous shape", or not numbers
            text = repr(ann['keypoints'])
            got = ('a ragged or non-numeric list: '
                   + (text if len(text) <= 60 else text[:60] + '...'))
        if got != f'{3 * num_keypoints} values':
            raise ValueError(
                f'{where}: `keypoints` has {got}; expected {3 * num_keypoints} numbers, a flat '
                f'list of x, y, visibility for each of the {num_keypoints} keypoints of '
                f'{self._metainfo["dataset_name"]}')
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
