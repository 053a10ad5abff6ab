from typing import Optional, Union

from mmengine.dataset import BaseDataset

from mmpose.registry import DATASETS


def _num_keypoints(dataset) -> int:
    meta = dataset.metainfo
    if 'num_keypoints' in meta:
        return int(meta['num_keypoints'])
    return len(meta['keypoint_id2name'])


def _dataset_name(dataset) -> str:
    return dataset.metainfo.get('dataset_name', type(dataset).__name__)


@DATASETS.register_module()
class DomainAdaptationDataset:
    """One labeled source sample and one target sample per index, for domain adaptation.

    Item ``i`` is ``dict(source=..., target=...)``, each packed by its own dataset's pipeline;
    the default collate turns a batch of them into ``dict(source=batch, target=batch)``, the input
    of ``RegDAPoseEstimator.train_step``. The target's labels, if it has any, are passed along
    untouched and never read by the model's training losses.

    Both domains must share the keypoint definition (checked when built). The metainfo is the
    source's: it describes the keypoints the model predicts.

    Args:
        source (dict | BaseDataset): the labeled source dataset.
        target (dict | BaseDataset): the target dataset (labels unused).
        length (int, optional): items per epoch; defaults to the larger dataset. The smaller one
            is cycled.
    """

    def __init__(self,
                 source: Union[dict, BaseDataset],
                 target: Union[dict, BaseDataset],
                 length: Optional[int] = None,
                 lazy_init: bool = False):
        self.source = DATASETS.build(source) if isinstance(source, dict) else source
        self.target = DATASETS.build(target) if isinstance(target, dict) else target
        for role, dataset in (('source', self.source), ('target', self.target)):
            if len(dataset) == 0:
                raise ValueError(f'DomainAdaptationDataset: the {role} dataset '
                                 f'{_dataset_name(dataset)} is empty')
        num_source, num_target = _num_keypoints(self.source), _num_keypoints(self.target)
        if num_source != num_target:
            raise ValueError(
                'DomainAdaptationDataset: both domains must share the keypoint definition, but '
                f'the source {_dataset_name(self.source)} has {num_source} keypoints and the '
                f'target {_dataset_name(self.target)} has {num_target}')
        if length is not None and length <= 0:
            raise ValueError(f'DomainAdaptationDataset: length must be > 0, got {length}')
        self.length = length or max(len(self.source), len(self.target))

    @property
    def metainfo(self) -> dict:
        return self.source.metainfo

    def full_init(self) -> None:
        for dataset in (self.source, self.target):
            if hasattr(dataset, 'full_init'):
                dataset.full_init()

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict:
        return dict(source=self.source[index % len(self.source)],
                    target=self.target[index % len(self.target)])
