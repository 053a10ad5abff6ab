from collections import OrderedDict
from typing import Dict, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from mmpose.evaluation.functional import keypoint_pck_accuracy
from mmpose.registry import METRICS

#: The paper's groups when neither the config nor the dataset's metainfo gives them.
PART_GROUP_PRESETS = dict(
    hand=dict(
        MCP=[1, 5, 9, 13, 17],
        PIP=[2, 6, 10, 14, 18],
        DIP=[3, 7, 11, 15, 19],
        Fingertip=[4, 8, 12, 16, 20]),
    body=dict(
        Shoulder=[12, 13], Elbow=[11, 14], Wrist=[10, 15], Hip=[2, 3], Knee=[1, 4],
        Ankle=[0, 5]))


@METRICS.register_module()
class PartPCKAccuracy(BaseMetric):
    """PCK as the RegDA paper reports it: by part, relative to the crop size.

    A keypoint is correct when its distance to the ground truth is below ``alpha`` times the
    side of the crop the model saw (the paper's "image size": crops of 256 px), measured in the
    original image. Accuracy is computed per keypoint over the samples where that keypoint is
    visible, then averaged over the keypoints of each part (hand: MCP, PIP, DIP, Fingertip;
    body: Shoulder, Elbow, Wrist, Hip, Knee, Ankle) and over ``avg_keypoints`` for ``Avg``.
    Keypoints never visible in the evaluated set are left out of every average.

    Groups come from the config (``part_groups``: a dict or ``'hand'``/``'body'``), else from
    the dataset's metainfo (``part_groups`` of the package's ``hand21``/``body16`` files).
    ``Avg`` covers ``avg_keypoints`` (config, then metainfo), else every keypoint: all 21 for
    hands; for bodies the metainfo limits it to the 12 keypoints the datasets share.

    Keys: ``PCK/<part>`` and ``PCK/Avg`` (use ``save_best='PCK/Avg'``; but report the final
    model's numbers, not the best epoch's on a test set). Distances and per-keypoint accuracy
    are mmpose's ``keypoint_pck_accuracy``. This is the plugin's protocol; the paper's tables
    were computed otherwise (heatmap argmax, no flip test): :class:`PaperProtocolPCKAccuracy`.

    Which predictions are scored is ``pred_field``: f's ``pred_instances`` by default; a
    ``RegDAPoseEstimator`` with ``test_cfg.adv_head_predictions=True`` also writes f''s into
    ``adv_pred_instances``, so that one validation scores both heads (Fig. 9)::

        val_evaluator = [
            dict(type='PartPCKAccuracy'),                          # PCK/Avg, PCK/MCP, ...
            dict(type='PartPCKAccuracy', pred_field='adv_pred_instances',
                 prefix='adv_head'),                               # adv_head/PCK/Avg, ...
        ]

    ``prefix`` names the predictions and goes in front of ``PCK`` (``<prefix>/PCK/<part>``),
    where mmengine's ``BaseMetric`` would replace ``PCK`` with it (``adv_head/Avg``): every
    head's keys then read alike after its name, and ``save_best='PCK/Avg'`` still means f.
    Two instances need different prefixes (mmengine's ``Evaluator`` refuses duplicate keys).

    Args:
        alpha (float): threshold as a fraction of the crop side. Defaults to 0.05.
        part_groups (dict | str, optional): ``{name: [keypoint ids]}`` or a preset name.
        avg_keypoints (Sequence[int], optional): keypoints averaged into ``Avg``.
        collect_device (str): as mmengine's ``BaseMetric``.
        prefix (str, optional): put in front of ``PCK`` in every key (see above). Defaults to
            none: ``PCK/<part>``.
        pred_field (str): the data-sample field holding the predictions to score. Defaults to
            ``'pred_instances'``.
    """
    default_prefix = 'PCK'

    def __init__(self,
                 alpha: float = 0.05,
                 part_groups=None,
                 avg_keypoints: Optional[Sequence[int]] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 pred_field: str = 'pred_instances'):
        prefix = prefix.strip('/') if prefix else None
        super().__init__(collect_device=collect_device,
                         prefix=f'{prefix}/{self.default_prefix}' if prefix else None)
        if not isinstance(pred_field, str) or not pred_field:
            raise ValueError('PartPCKAccuracy: pred_field must name a data-sample field such '
                             f"as 'pred_instances', got {pred_field!r}")
        self.pred_field = pred_field
        if not 0 < alpha <= 1:
            raise ValueError(f'PartPCKAccuracy: alpha must be in (0, 1], got {alpha}')
        if isinstance(part_groups, str):
            if part_groups not in PART_GROUP_PRESETS:
                raise ValueError(f'PartPCKAccuracy: unknown part_groups preset {part_groups!r}; '
                                 f'expected one of {sorted(PART_GROUP_PRESETS)} or a dict')
            part_groups = PART_GROUP_PRESETS[part_groups]
        self.alpha = alpha
        self.part_groups = part_groups
        self.avg_keypoints = avg_keypoints

    def process(self, data_batch: Sequence[dict], data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            gt = sample['gt_instances']
            if 'bbox_scales' not in gt:
                raise KeyError('PartPCKAccuracy needs the crop size: `bbox_scales` in the '
                               'ground truth instances (packed by PackPoseInputs after '
                               'GetBBoxCenterScale and TopdownAffine)')
            if self.pred_field not in sample:
                raise KeyError(self._missing_pred_field_message(sample))
            visible = np.asarray(gt['keypoints_visible']).reshape(-1) > 0
            self.results.append(
                dict(
                    pred=np.asarray(sample[self.pred_field]['keypoints'])[0, :, :2],
                    gt=np.asarray(gt['keypoints'])[0, :, :2],
                    visible=visible,
                    crop_side=float(np.max(np.asarray(gt['bbox_scales'])[0]))))

    def _missing_pred_field_message(self, sample) -> str:
        hint = ''
        if self.pred_field == 'adv_pred_instances':
            hint = (" The adversarial head's predictions are only written by a two-head "
                    'estimator (RegDAPoseEstimator, ...) with '
                    'model.test_cfg.adv_head_predictions=True.')
        return (f'PartPCKAccuracy(pred_field={self.pred_field!r}): the data sample has no '
                f'{self.pred_field!r} field (it has: {", ".join(sorted(sample))}).{hint}')

    def resolve_groups(self, num_keypoints: int) -> 'OrderedDict[str, list]':
        """The reported groups, ``Avg`` last: from the config, else from the dataset's
        metainfo; ``Avg`` covers ``avg_keypoints`` or every keypoint."""
        meta = self.dataset_meta or {}
        groups = OrderedDict(self.part_groups or meta.get('part_groups') or {})
        groups['Avg'] = list(self.avg_keypoints or meta.get('avg_keypoints')
                             or range(num_keypoints))
        for name, ids in groups.items():
            bad = [i for i in ids if not 0 <= i < num_keypoints]
            if bad:
                raise ValueError(f'{type(self).__name__}: group {name} names keypoints {bad}, '
                                 f'but the predictions have {num_keypoints} keypoints')
        return groups

    def compute_metrics(self, results: list) -> Dict[str, float]:
        pred = np.stack([r['pred'] for r in results])
        gt = np.stack([r['gt'] for r in results])
        visible = np.stack([r['visible'] for r in results])
        crop_side = np.array([r['crop_side'] for r in results])
        # mmpose's PCK: distances normalised by the crop side, -1 for keypoints never visible
        per_keypoint, _, _ = keypoint_pck_accuracy(
            pred, gt, visible, thr=self.alpha, norm_factor=np.repeat(crop_side[:, None], 2, 1))
        per_keypoint = np.where(per_keypoint < 0, np.nan, per_keypoint)

        groups = self.resolve_groups(per_keypoint.size)
        metrics = OrderedDict(
            (name, mean_over(per_keypoint, ids)) for name, ids in groups.items())
        MMLogger.get_current_instance().info(
            f'PCK@{self.alpha} of {self.pred_field} by part: ' +
            '  '.join(f'{k} {100 * v:.1f}' for k, v in metrics.items()))
        return metrics


def mean_over(per_keypoint: np.ndarray, ids) -> float:
    """Mean of the keypoints' accuracies, skipping keypoints never visible (NaN if none is)."""
    values = per_keypoint[list(ids)]
    values = values[~np.isnan(values)]
    return float(values.mean()) if values.size else float('nan')
