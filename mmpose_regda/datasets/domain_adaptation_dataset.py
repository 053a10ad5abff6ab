import random
from typing import Optional, Sequence, Union

import numpy as np
from mmengine.dataset import BaseDataset

from mmpose.registry import DATASETS


def _dataset_name(dataset) -> str:
    return f'{dataset.metainfo.get("dataset_name", type(dataset).__name__)} ' \
        f'({getattr(dataset, "ann_file", type(dataset).__name__)})'


@DATASETS.register_module()
class DomainAdaptationDataset:
    """One labeled source sample and one target sample per item, for domain adaptation.

    Item ``(s, t, seed)`` (from ``DomainAdaptationSampler``) is ``dict(source=source[s],
    target=target[t])``, each packed by its own dataset's pipeline; the default collate turns a
    batch of them into ``dict(source=batch, target=batch)``, the input of
    ``RegDAPoseEstimator.train_step``. The seed, when given, seeds python's and numpy's random
    generators before each pipeline, so augmentation depends on the epoch and the position only.
    A plain integer index (another sampler) pairs ``i % len(source)`` with ``i % len(target)``.

    The target's labels, if it has any, are carried along untouched and never read by a training
    loss (use ``UnlabeledTopdownDataset`` for a target with boxes only). Both domains must share
    the keypoint definition (``AdaptationScheduleHook`` checks it with the model's heads before
    training). The metainfo is the source's.

    Args:
        source (dict | Dataset): the labeled source dataset.
        target (dict | Dataset): the target dataset.
        length (int, optional): items per epoch, over all ranks (the reference: 500 iterations
            x 32 = 16000). Defaults to the larger dataset's size.
    """

    def __init__(self,
                 source: Union[dict, BaseDataset],
                 target: Union[dict, BaseDataset],
                 length: Optional[int] = None):
        self.source = DATASETS.build(source) if isinstance(source, dict) else source
        self.target = DATASETS.build(target) if isinstance(target, dict) else target
        for role, dataset in (('source', self.source), ('target', self.target)):
            if len(dataset) == 0:
                raise ValueError(f'DomainAdaptationDataset: the {role} dataset '
                                 f'{_dataset_name(dataset)} is empty')
        if length is not None and length <= 0:
            raise ValueError(f'DomainAdaptationDataset: length must be > 0, got {length}')
        self.length = length or max(len(self.source), len(self.target))

    @property
    def metainfo(self) -> dict:
        return self.source.metainfo

    @property
    def num_source(self) -> int:
        return len(self.source)

    @property
    def num_target(self) -> int:
        return len(self.target)

    def full_init(self) -> None:
        for dataset in (self.source, self.target):
            if hasattr(dataset, 'full_init'):
                dataset.full_init()

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: Union[int, Sequence[int]]) -> dict:
        if isinstance(index, (tuple, list)):
            source_index, target_index, seed = index
        else:
            source_index, target_index = index % self.num_source, index % self.num_target
            seed = None
        return dict(source=self._get(self.source, source_index, seed),
                    target=self._get(self.target, target_index, None if seed is None else seed + 1))

    @staticmethod
    def _get(dataset, index: int, seed: Optional[int]):
        if seed is not None:
            # mmpose's transforms draw from numpy's and python's global generators
            np.random.seed(seed % 2**32)
            random.seed(seed)
        return dataset[index]
