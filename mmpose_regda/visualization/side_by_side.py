"""Predictions of several checkpoints on the same images, one row per checkpoint, with skeletons.

Used by ``tools/analysis_tools/compare_predictions.py`` and by the embedded benchmark's
before/after picture.
"""
import copy
import os
import os.path as osp
import warnings
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmengine.config import Config

#: Side of one image tile, in pixels.
TILE_SIZE = 192
#: Height of the band above each row that carries its label.
LABEL_BAND_HEIGHT = 28
#: Pixels between two tiles of a row.
TILE_GAP = 2
#: Box padding around the instance, as mmpose's ``GetBBoxCenterScale``.
BOX_PADDING = 1.25
GROUND_TRUTH_LABEL = 'ground truth'


def load_model(config, checkpoint: str, cfg_options: Optional[dict] = None,
               device: str = 'cpu'):
    """``mmpose.apis.init_model`` that names a missing checkpoint instead of failing inside it."""
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint {checkpoint!r} does not exist')
    import mmpose_regda  # noqa: F401  registers the plugin before the model is built
    from mmpose.apis import init_model
    return init_model(load_config(config, cfg_options), checkpoint, device=device)


def build_image_dataset(dataset_or_config):
    """The dataset whose images are drawn: built from a dataset config without its pipeline
    (the models run their own test pipeline on the image files), or returned as given."""
    if not isinstance(dataset_or_config, dict):
        return dataset_or_config
    from mmengine.registry import init_default_scope

    import mmpose_regda  # noqa: F401
    from mmpose.registry import DATASETS
    init_default_scope('mmpose')
    return DATASETS.build(dict(dataset_or_config, pipeline=[]))


def render_side_by_side(models_or_checkpoints: Sequence,
                        labels: Sequence[str],
                        dataset,
                        num_images: int,
                        show_gt: bool = False,
                        tile_size: int = TILE_SIZE,
                        device: str = 'cpu') -> np.ndarray:
    """The predictions of several models on the first ``num_images`` images of ``dataset``.

    Args:
        models_or_checkpoints: per row, a model from ``mmpose.apis.init_model`` (it needs the
            ``cfg`` that ``init_model`` attaches, for its test pipeline; it is put in eval mode)
            or a ``(config, checkpoint)`` pair.
        labels: one per model, drawn above its row (OpenCV's font: ASCII only).
        dataset: a built dataset or a dataset config (e.g. ``cfg.test_dataloader.dataset``);
            its ``get_data_info(i)`` gives ``img_path``, ``bbox`` (xyxy) and, for
            ``show_gt``, ``keypoints`` and ``keypoints_visible``.
        num_images (int): columns; fewer if the dataset is smaller.
        show_gt (bool): put a ground-truth row first; left out, with a warning, when no
            keypoint of the drawn images is visible (a target set read with boxes only).

    Returns:
        np.ndarray: (rows * (LABEL_BAND_HEIGHT + tile_size),
        columns * (tile_size + TILE_GAP) - TILE_GAP, 3) uint8, BGR.
    """
    import mmpose_regda  # noqa: F401  registers the plugin before mmpose.apis is imported
    from mmpose.apis import inference_topdown

    if len(labels) != len(models_or_checkpoints):
        raise ValueError(f'render_side_by_side: {len(labels)} labels for '
                         f'{len(models_or_checkpoints)} models; give one label per model')
    dataset = build_image_dataset(dataset)
    num_images = min(num_images, len(dataset))
    if num_images < 1:
        raise ValueError('render_side_by_side: the dataset is empty or num_images < 1')
    infos = [dataset.get_data_info(i) for i in range(num_images)]
    images = [_read_image(info['img_path']) for info in infos]
    style = _SkeletonStyle.from_metainfo(dataset.metainfo)

    rows = []
    if show_gt:
        visible = [np.asarray(info.get('keypoints_visible', np.zeros((1, 0))))[0] > 0
                   for info in infos]
        if any(v.any() for v in visible):
            rows.append((GROUND_TRUTH_LABEL, [
                _tile(image, info['bbox'][0], np.asarray(info['keypoints'])[0], vis, style,
                      tile_size) for image, info, vis in zip(images, infos, visible)]))
        else:
            warnings.warn('show_gt is set, but the dataset has no visible '
                          'ground-truth keypoint in the drawn images; no ground-truth row')
    for model, label in zip(models_or_checkpoints, labels):
        if isinstance(model, (tuple, list)):
            model = load_model(*model, device=device)
        if getattr(model, 'cfg', None) is None:
            raise ValueError(f'render_side_by_side: the model for {label!r} has no `cfg` (the '
                             'config whose test pipeline it runs); build it with '
                             'mmpose.apis.init_model or pass (config, checkpoint)')
        model.eval()
        tiles = []
        for image, info in zip(images, infos):
            # the model's own test pipeline, on the box the dataset gives
            prediction = inference_topdown(model, image, bboxes=info['bbox'])[0]
            points = np.asarray(prediction.pred_instances.keypoints)[0]
            tiles.append(_tile(image, info['bbox'][0], points, np.ones(len(points), bool),
                               style, tile_size))
        rows.append((label, tiles))
    return np.concatenate([_row(label, tiles) for label, tiles in rows], axis=0)


class _SkeletonStyle:
    """The dataset's skeleton and colours, in OpenCV's BGR."""

    def __init__(self, links, link_colors, keypoint_colors):
        self.links = links
        self.link_colors = link_colors
        self.keypoint_colors = keypoint_colors

    @classmethod
    def from_metainfo(cls, metainfo: dict) -> '_SkeletonStyle':
        links = [tuple(map(int, link)) for link in metainfo.get('skeleton_links', [])]
        num_keypoints = int(metainfo.get('num_keypoints', 0))

        def bgr(colors, count):
            colors = np.asarray(colors if colors is not None else [], dtype=float).reshape(-1, 3)
            if len(colors) != count:
                # metainfo without colours (or a wrong count): one visible colour for all
                return [(0, 255, 255)] * count
            return [tuple(int(c) for c in color[::-1]) for color in colors]

        return cls(links, bgr(metainfo.get('skeleton_link_colors'), len(links)),
                   bgr(metainfo.get('keypoint_colors'), num_keypoints))


def load_config(config, cfg_options: Optional[dict]) -> Config:
    # a copy: init_model edits the config it is given
    config = (Config.fromfile(config) if isinstance(config, (str, os.PathLike)) else
              copy.deepcopy(config))
    if cfg_options:
        config.merge_from_dict(cfg_options)
    return config


def _read_image(path: str) -> np.ndarray:
    image = cv2.imread(path)
    if image is None:
        raise FileNotFoundError(f'cannot read the image {path!r} '
                                '(check the dataset\'s data_root and data_prefix)')
    return image


def _tile(image: np.ndarray, bbox_xyxy: np.ndarray, points: np.ndarray, visible: np.ndarray,
          style: _SkeletonStyle, size: int) -> np.ndarray:
    """The instance's box, squared and padded, scaled to ``size`` with the keypoints drawn."""
    x0, y0, x1, y1 = map(float, bbox_xyxy)
    center = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
    side = max(x1 - x0, y1 - y0, 1.) * BOX_PADDING
    scale = size / side
    offset = size / 2 - scale * center
    warp = np.array([[scale, 0, offset[0]], [0, scale, offset[1]]])
    tile = cv2.warpAffine(image, warp, (size, size), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
    # drawn after the crop, so that lines stay sharp whatever the image's resolution
    points = points[:, :2] * scale + offset
    thickness = max(1, size // 96)
    for (a, b), color in zip(style.links, style.link_colors):
        if a < len(points) and b < len(points) and visible[a] and visible[b]:
            cv2.line(tile, _pixel(points[a]), _pixel(points[b]), color, thickness, cv2.LINE_AA)
    for point, is_visible, color in zip(points, visible, style.keypoint_colors):
        if is_visible:
            cv2.circle(tile, _pixel(point), thickness + 1, color, -1, cv2.LINE_AA)
    return tile


def _pixel(point) -> Tuple[int, int]:
    # far-away predictions would overflow OpenCV's int coordinates; clip them off-tile
    x, y = np.clip(np.round(point), -10000, 10000).astype(int)
    return int(x), int(y)


def _row(label: str, tiles: List[np.ndarray]) -> np.ndarray:
    size = tiles[0].shape[0]
    width = len(tiles) * (size + TILE_GAP) - TILE_GAP
    row = np.full((LABEL_BAND_HEIGHT + size, width, 3), 255, np.uint8)
    row[:LABEL_BAND_HEIGHT] = (48, 48, 48)
    cv2.putText(row, label, (6, LABEL_BAND_HEIGHT - 9), cv2.FONT_HERSHEY_SIMPLEX, 0.55,
                (255, 255, 255), 1, cv2.LINE_AA)
    for column, tile in enumerate(tiles):
        left = column * (size + TILE_GAP)
        row[LABEL_BAND_HEIGHT:, left:left + size] = tile
    return row
