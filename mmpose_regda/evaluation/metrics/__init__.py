from .keypoint_mae import KeypointMAE
from .paper_protocol_pck_accuracy import PaperProtocolPCKAccuracy
from .part_pck_accuracy import PART_GROUP_PRESETS, PartPCKAccuracy

__all__ = ['PartPCKAccuracy', 'PaperProtocolPCKAccuracy', 'PART_GROUP_PRESETS', 'KeypointMAE']
