import json
import os.path as osp
from typing import List, Union

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.fileio import get_local_path

from mmpose.registry import DATASETS
from .annotation_file_checks import check_category_keypoints, check_unique_ids
from .decoded_images import attach_decoded_images
from .image_files import EXPECTED, check_image_files, name_image_load_errors
from .keypoint_coco_dataset import load_metainfo, metainfo_file


def image_size(path: str, where: str):
    """``(width, height)`` of a local image from its header; None for a remote path."""
    if '://' in path:
        return None
    if not osp.isfile(path):
        raise FileNotFoundError(f'{where}: image {path} not found')
    from PIL import Image
    try:
        with Image.open(path) as image:
            return image.size
    except (OSError, SyntaxError) as e:  # PIL's UnidentifiedImageError is an OSError
        raise ValueError(f'{where}: image {path} cannot be read ({e}); {EXPECTED}') from None


@DATASETS.register_module()
class UnlabeledTopdownDataset(BaseDataset):
    """Target images with person/hand boxes and no keypoints, for unsupervised adaptation.

    mmpose's COCO datasets drop instances without keypoints, so a target domain annotated with
    boxes only needs its own reader. Two annotation forms:

    - a COCO json (``.json``): ``images`` and ``annotations`` with ``bbox`` (``[x, y, w, h]``);
      any ``keypoints`` in it are ignored: they never reach training;
    - an image list (``.txt``): one instance per line, ``relative/path.jpg x y w h``.

    Each instance carries zero keypoints with zero visibility, so the usual top-down pipeline
    (``GetBBoxCenterScale``, ``TopdownAffine``, ``PackPoseInputs``) runs unchanged. The metainfo
    must describe the same keypoints as the source domain (``DomainAdaptationDataset`` checks).
    A box must overlap its image (a box partly outside is fine: the crop is padded); one that
    lies entirely outside would train on blank crops and is refused. The image size is the COCO
    image's ``width``/``height``, else read from the image file's header.

    Before the first iteration, each error names the file and the annotation (or line):

    - a COCO file of other keypoints than the metainfo's (its ``categories``' ``keypoints``:
      COCO persons given as a hand target) or with duplicated image ids is refused; a file
      whose categories list no keypoints (boxes only) is not compared;
    - each local image is checked cheaply (``check_images``): it exists, is not empty, starts
      with an image signature and, for a JPEG or PNG, has its end marker (a truncated file does
      not). Only the first and last bytes of each file are read.

    An image that still fails to load in the pipeline names the annotation too.

    Args:
        ann_file (str): the COCO json or the image list, relative to ``data_root``.
        metainfo (str | dict): the keypoint definition, the source's: ``'hand21'`` or
            ``'body16'`` for the package's own, or ``dict(from_file=...)`` as in mmpose.
        data_root (str): root of images and annotation file.
        data_prefix (dict): ``dict(img='...')``, the image folder under ``data_root``.
        pipeline (list): transforms.
        decode_images_once (bool): decode every image when the dataset is built and keep it in
            memory (``attach_decoded_images``), for small datasets read many times.
        check_images (bool): check the images' ends when the dataset is built (see above);
            False skips it, for image files that end otherwise (data appended after a JPEG's
            end marker beyond its last KiB).
    """
    METAINFO: dict = dict()

    def __init__(self,
                 ann_file: str,
                 metainfo: Union[str, dict, None] = None,
                 data_root: str = '',
                 data_prefix: dict = dict(img=''),
                 pipeline: List = [],
                 test_mode: bool = False,
                 lazy_init: bool = False,
                 max_refetch: int = 1000,
                 decode_images_once: bool = False,
                 check_images: bool = True):
        self.decode_images_once = decode_images_once
        self.check_images = check_images
        if metainfo is None:
            raise ValueError('UnlabeledTopdownDataset needs `metainfo`, the keypoint definition '
                             "shared with the source domain ('hand21', 'body16' or "
                             "dict(from_file=...))")
        if isinstance(metainfo, str):
            metainfo = dict(from_file=metainfo_file(metainfo))
        super().__init__(
            ann_file=ann_file,
            metainfo=metainfo,
            data_root=data_root,
            data_prefix=data_prefix,
            pipeline=pipeline,
            test_mode=test_mode,
            lazy_init=lazy_init,
            max_refetch=max_refetch)
        name_image_load_errors(self.pipeline, self.ann_file, self._record_kind() + ' {ann_id}')

    @classmethod
    def _load_metainfo(cls, metainfo: dict = None) -> dict:
        return load_metainfo(metainfo)

    def load_data_list(self) -> List[dict]:
        if not osp.isfile(self.ann_file):
            raise FileNotFoundError(f'UnlabeledTopdownDataset: annotation file not found: '
                                    f'{self.ann_file}')
        with get_local_path(self.ann_file) as local_path:
            if self.ann_file.endswith('.json'):
                records = self._coco_records(local_path)
            else:
                records = self._list_records(local_path)
        if not records:
            raise ValueError(f'UnlabeledTopdownDataset: {self.ann_file} has no instance; '
                             'expected at least one image with a box')
        records = [(osp.join(self.data_prefix['img'], img_path), *rest)
                   for img_path, *rest in records]
        boxes = [self._check_box(bbox, where) for _, bbox, where, _, _ in records]
        if self.check_images:
            check_image_files(((path, where) for path, _, where, _, _ in records), str)
        num_keypoints = self._metainfo['num_keypoints']
        data_list = []
        for index, ((img_path, _, where, size, ann_id), (x, y, w, h)) in enumerate(
                zip(records, boxes)):
            self._check_overlap((x, y, w, h), size or image_size(img_path, where), where)
            data_list.append(
                dict(
                    id=index,
                    img_id=index,
                    ann_id=ann_id,  # the annotation's id in the file, or its line: for errors
                    img_path=img_path,
                    bbox=np.array([[x, y, x + w, y + h]], dtype=np.float32),
                    bbox_score=np.ones(1, dtype=np.float32),
                    keypoints=np.zeros((1, num_keypoints, 2), dtype=np.float32),
                    keypoints_visible=np.zeros((1, num_keypoints), dtype=np.float32),
                    category_id=1))
        if self.decode_images_once:
            return attach_decoded_images(
                data_list, lambda info: f'{self.ann_file}: {self._record_kind()} {info["ann_id"]}')
        return data_list

    def _record_kind(self) -> str:
        """What a record is called in errors: an ``annotation`` (with its id) of a COCO file,
        a ``line`` of an image list."""
        return 'annotation' if self.ann_file.endswith('.json') else 'line'

    def _coco_records(self, path):
        with open(path) as f:
            try:
                coco = json.load(f)
            except (json.JSONDecodeError, UnicodeDecodeError) as e:
                raise ValueError(f'{self.ann_file}: not a valid JSON file ({e}); it is truncated '
                                 'or damaged: download or convert it again') from None
        try:
            check_unique_ids(self.ann_file, coco, 'images')
            images = {img['id']: img['file_name'] for img in coco['images']}
            sizes = {img['id']: (img['width'], img['height']) for img in coco['images']
                     if 'width' in img and 'height' in img}
        except (KeyError, TypeError) as e:
            raise ValueError(f'{self.ann_file}: `images` must be a list of records with `id` and '
                             f'`file_name` ({e!r})') from None
        check_category_keypoints(self.ann_file, coco, self._metainfo, keypoints_read=False)
        records = []
        for i, ann in enumerate(coco.get('annotations', [])):
            where = f'{self.ann_file}: annotation {ann.get("id", i)}'
            if ann.get('image_id') not in images:
                raise ValueError(f'{where}: image_id {ann.get("image_id")!r} is not in `images`')
            if 'bbox' not in ann:
                raise ValueError(f'{where}: no `bbox`; every target instance needs a box')
            records.append((images[ann['image_id']], ann['bbox'], where,
                            sizes.get(ann['image_id']), ann.get('id', i)))
        return records

    def _list_records(self, path):
        records = []
        with open(path) as f:
            for line_no, line in enumerate(f, 1):
                if not line.strip() or line.lstrip().startswith('#'):
                    continue
                fields = line.split()
                where = f'{self.ann_file}: line {line_no}'
                if len(fields) != 5:
                    raise ValueError(f'{where}: expected `image_path x y width height`, got '
                                     f'{line.strip()!r}')
                records.append((fields[0], fields[1:], where, None, line_no))
        return records

    @staticmethod
    def _check_box(bbox, where):
        try:
            x, y, w, h = (float(v) for v in bbox)
        except (TypeError, ValueError):
            raise ValueError(f'{where}: box must be 4 numbers x y width height, got '
                             f'{bbox!r}') from None
        if not (np.isfinite([x, y, w, h]).all() and w > 0 and h > 0):
            raise ValueError(f'{where}: box {bbox!r} must have finite values and a positive '
                             'width and height')
        return x, y, w, h

    @staticmethod
    def _check_overlap(box, size, where):
        if size is None:
            return  # not a local file: left to the pipeline
        x, y, w, h = box
        width, height = size
        if x >= width or y >= height or x + w <= 0 or y + h <= 0:
            raise ValueError(f'{where}: box [{x:g}, {y:g}, {w:g}, {h:g}] lies entirely outside '
                             f'its {width}x{height} image; expected a box that overlaps it '
                             '(x < width, y < height, x + w > 0, y + h > 0)')

    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        for key in ('dataset_name', 'upper_body_ids', 'lower_body_ids', 'flip_pairs',
                    'dataset_keypoint_weights', 'flip_indices', 'skeleton_links'):
            info[key] = self._metainfo[key]
        return info
