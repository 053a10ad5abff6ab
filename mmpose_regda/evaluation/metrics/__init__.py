from .keypoint_mae import KeypointMAE
from .part_pck_accuracy import PART_GROUP_PRESETS, PartPCKAccuracy

__all__ = ['PartPCKAccuracy', 'PART_GROUP_PRESETS', 'KeypointMAE']
