from .ground_false_target_generator import (GroundFalseTargetGenerator, GroundFalseTargets,
                                            heatmap_argmax, keypoint_disparity)

__all__ = [
    'GroundFalseTargetGenerator', 'GroundFalseTargets', 'heatmap_argmax', 'keypoint_disparity'
]
