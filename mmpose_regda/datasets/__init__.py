from .domain_adaptation_dataset import DomainAdaptationDataset
from .domain_adaptation_sampler import DomainAdaptationSampler
from .keypoint_coco_dataset import (RHD_TO_SHARED_ORDER, KeypointCocoDataset, SharedBodyDataset,
                                    SharedHandDataset, metainfo_file)
from .synthetic_hands import build_synthetic_hands
from .synthetic_sprites import build_synthetic_sprites
from .transforms import (GetSquareCropCenterScale, GetWholeImageCenterScale, MirrorToChirality,
                         RandomColorJitter, RandomGaussianBlur, RandomRotateResizedCrop)
from .unlabeled_topdown_dataset import UnlabeledTopdownDataset

__all__ = [
    'DomainAdaptationDataset', 'DomainAdaptationSampler', 'KeypointCocoDataset',
    'SharedHandDataset', 'SharedBodyDataset', 'UnlabeledTopdownDataset', 'RHD_TO_SHARED_ORDER',
    'metainfo_file', 'build_synthetic_hands', 'build_synthetic_sprites', 'RandomColorJitter',
    'RandomGaussianBlur', 'GetWholeImageCenterScale', 'GetSquareCropCenterScale',
    'RandomRotateResizedCrop', 'MirrorToChirality'
]

from mmpose.registry import DATASETS  # noqa: E402

# functions that build a dataset: `type='SyntheticHands'` / `type='SyntheticSprites'` in configs
DATASETS.register_module(name='SyntheticHands', module=build_synthetic_hands)
DATASETS.register_module(name='SyntheticSprites', module=build_synthetic_sprites)
