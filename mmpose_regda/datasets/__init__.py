from .domain_adaptation_dataset import DomainAdaptationDataset
from .domain_adaptation_sampler import DomainAdaptationSampler
from .keypoint_coco_dataset import (RHD_TO_SHARED_ORDER, KeypointCocoDataset, SharedBodyDataset,
                                    SharedHandDataset, metainfo_file)
from .transforms import RandomColorJitter, RandomGaussianBlur
from .unlabeled_topdown_dataset import UnlabeledTopdownDataset

__all__ = [
    'DomainAdaptationDataset', 'DomainAdaptationSampler', 'KeypointCocoDataset',
    'SharedHandDataset', 'SharedBodyDataset', 'UnlabeledTopdownDataset', 'RHD_TO_SHARED_ORDER',
    'metainfo_file', 'RandomColorJitter', 'RandomGaussianBlur'
]
