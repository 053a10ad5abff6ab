from collections import OrderedDict
from typing import Dict, Optional, Sequence

import numpy as np
from mmengine.logging import MMLogger

from mmpose.registry import METRICS
from .part_pck_accuracy import PartPCKAccuracy


@METRICS.register_module()
class PaperProtocolPCKAccuracy(PartPCKAccuracy):
    """PCK by part exactly as the reference implementation computed the paper's tables.

    The reference (Transfer-Learning-Library, ``tllib/utils/metric/keypoint_detection.py``
    ``accuracy``, called per validation batch by the RegDA example's ``validate``) scores
    heatmaps, not decoded coordinates:

    - prediction: the integer argmax ``(x, y)`` of the raw network output (logits for a KL
      model); a keypoint whose peak value is ``<= 0`` is predicted at ``(0, 0)``;
    - ground truth: the argmax of the target heatmap the dataset draws: the Gaussian centre
      ``mu = int(p / stride + 0.5)`` of the keypoint ``p`` in input pixels (``stride`` = input
      size / heatmap size), drawn only for a visible keypoint (``visible > 0.5``) whose ``mu``
      lies in the heatmap, else the heatmap is empty and its argmax ``(0, 0)``;
    - a keypoint counts only where its ground truth has ``x > 1`` and ``y > 1`` (so an empty
      target, but also a visible keypoint on the first two rows or columns, is ignored);
    - distance: ``|| pred / n - gt / n ||`` with ``n = (H / 10, W / 10)``, correct below
      ``thr = 0.5``; that is ``alpha = 0.05`` of the heatmap side (3.2 px of a 64 px heatmap,
      12.8 px of the 256 px crop). ``alpha`` is given here; the threshold is ``10 * alpha``;
    - per batch of ``batch_size`` consecutive samples (the reference's ``-b 32``, its loader
      unshuffled, the last batch partial): each keypoint's accuracy over the samples where it
      counts, ``-1`` when it counts in none; each group's accuracy is the plain mean of its
      keypoints' values, a ``-1`` included; the reported value is the mean of the batches'
      values weighted by batch size (``AverageMeter``). ``batch_size=None`` takes the whole set
      as one batch.

    Groups and ``Avg`` are those of :class:`PartPCKAccuracy` (the reference's ``all`` group is
    every hand keypoint, or the 12 shared body keypoints: the metainfo's ``avg_keypoints``).

    What the test pipeline and the model must give (the ``*_paper-protocol.py`` test configs do
    it): ``PackPoseInputs(pack_transformed=True)`` for the keypoints in input pixels, and the raw
    output in ``pred_fields``: ``model.test_cfg=dict(flip_test=False, output_heatmaps=True,
    output_logits=True)``. ``heatmap_field`` picks the field; by default ``'logits'`` when
    present (``KLHeatmapHead``), else ``'heatmaps'`` (mmpose's ``HeatmapHead`` outputs its raw
    heatmaps there). Scored on a KL model's ``heatmaps`` (its softmax) the argmax is the same,
    but no peak is ever ``<= 0``.

    The samples must reach the metric in dataset order, as with mmengine's ``DefaultSampler``
    (``shuffle=False``), for the batches to be the reference's.

    Args:
        alpha (float): threshold as a fraction of the heatmap side. Defaults to 0.05.
        batch_size (int, optional): samples per averaged batch. Defaults to 32.
        heatmap_field (str, optional): the ``pred_fields`` entry scored (see above).
        part_groups, avg_keypoints, collect_device, prefix: as :class:`PartPCKAccuracy`.
    """

    def __init__(self,
                 alpha: float = 0.05,
                 batch_size: Optional[int] = 32,
                 heatmap_field: Optional[str] = None,
                 part_groups=None,
                 avg_keypoints: Optional[Sequence[int]] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None):
        super().__init__(alpha=alpha, part_groups=part_groups, avg_keypoints=avg_keypoints,
                         collect_device=collect_device, prefix=prefix)
        if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
            raise ValueError('PaperProtocolPCKAccuracy: batch_size must be a positive integer '
                             f'(the reference validates in batches of 32) or None, got '
                             f'{batch_size!r}')
        self.batch_size = batch_size
        self.heatmap_field = heatmap_field
        # the reference's thr on distances normalised by a tenth of the heatmap side
        self.thr = 10 * alpha

    def process(self, data_batch: Sequence[dict], data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            heatmaps = np.asarray(self._raw_heatmaps(sample), dtype=np.float32)
            gt = sample['gt_instances']
            if 'transformed_keypoints' not in gt:
                raise KeyError(
                    'PaperProtocolPCKAccuracy needs the ground truth in input pixels: '
                    '`transformed_keypoints` in the ground truth instances; give the test '
                    "pipeline's PackPoseInputs pack_transformed=True")
            keypoints = np.asarray(gt['transformed_keypoints'], dtype=np.float64)[0, :, :2]
            visible = np.asarray(gt['keypoints_visible'], dtype=np.float64).reshape(-1)
            input_size = np.asarray(sample['input_size'], dtype=np.float64)
            self.results.append(dict(distances=reference_distances(
                heatmaps, keypoints, visible, input_size)))

    def _raw_heatmaps(self, sample: dict):
        fields = sample.get('pred_fields')
        fields = {} if fields is None else fields
        name = self.heatmap_field or ('logits' if 'logits' in fields else 'heatmaps')
        if name not in fields:
            raise KeyError(
                f'PaperProtocolPCKAccuracy scores the raw network output, but the predictions '
                f"have no pred_fields.{name} (they have: {', '.join(sorted(fields)) or 'none'}); "
                'set model.test_cfg=dict(flip_test=False, output_heatmaps=True, '
                'output_logits=True)')
        value = fields[name]
        return value.cpu().numpy() if hasattr(value, 'cpu') else value

    def compute_metrics(self, results: list) -> Dict[str, float]:
        distances = np.stack([r['distances'] for r in results])  # (N, K), -1: not counted
        groups = self.resolve_groups(distances.shape[1])
        batch_size = self.batch_size or len(distances)
        totals = OrderedDict((name, 0.) for name in groups)
        for start in range(0, len(distances), batch_size):
            batch = distances[start:start + batch_size]
            per_keypoint = [distance_accuracy(d, self.thr) for d in batch.T]
            for name, ids in groups.items():
                # the reference's group_accuracy: a keypoint never counted adds its -1
                totals[name] += sum(per_keypoint[i] for i in ids) / len(ids) * len(batch)
        metrics = OrderedDict((name, total / len(distances)) for name, total in totals.items())
        MMLogger.get_current_instance().info(
            f'PCK@{self.alpha} (paper protocol: heatmap argmax, batches of {batch_size}) by '
            'part: ' + '  '.join(f'{k} {100 * v:.1f}' for k, v in metrics.items()))
        return metrics


def reference_distances(heatmaps: np.ndarray, keypoints: np.ndarray, visible: np.ndarray,
                        input_size: np.ndarray) -> np.ndarray:
    """One sample's normalised distances by the reference's rule, ``-1`` where not counted.

    Args:
        heatmaps (np.ndarray): (K, H, W) raw network output.
        keypoints (np.ndarray): (K, 2) ground truth in input pixels.
        visible (np.ndarray): (K,) ground-truth visibility.
        input_size (np.ndarray): (2,) input width and height.

    Returns:
        np.ndarray: (K,) float64 distances in tenths of the heatmap side.
    """
    num_keypoints, height, width = heatmaps.shape
    flat = heatmaps.reshape(num_keypoints, -1)
    index = flat.argmax(axis=1)
    pred = np.stack([index % width, index // width], axis=1).astype(np.float32)
    pred[flat.max(axis=1) <= 0] = 0  # get_max_preds: a non-positive peak predicts (0, 0)

    stride = input_size / np.array([width, height], dtype=np.float64)
    mu = np.trunc(keypoints / stride + 0.5)  # generate_target's int(p / stride + 0.5)
    drawn = ((visible > 0.5) & (mu[:, 0] >= 0) & (mu[:, 0] < width) & (mu[:, 1] >= 0)
             & (mu[:, 1] < height))
    target = np.where(drawn[:, None], mu, 0).astype(np.float32)

    norm = np.array([height, width], dtype=np.float64) / 10
    counted = (target[:, 0] > 1) & (target[:, 1] > 1)
    distances = np.full(num_keypoints, -1.)
    distances[counted] = np.linalg.norm(pred[counted] / norm - target[counted] / norm, axis=1)
    return distances


def distance_accuracy(distances: np.ndarray, thr: float) -> float:
    """The reference's ``dist_acc``: share of counted distances below ``thr``, -1 if none."""
    counted = distances != -1
    if not counted.any():
        return -1.
    return float((distances[counted] < thr).sum()) / counted.sum()
