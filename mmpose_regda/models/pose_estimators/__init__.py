from .domain_adaptation import DomainAdaptationEstimator
from .feature_alignment import FeatureAlignmentPoseEstimator
from .mcd import MCDPoseEstimator
from .mean_teacher import MeanTeacherPoseEstimator
from .regda import RegDAPoseEstimator
from .two_head_adaptation import TwoHeadAdaptationEstimator

__all__ = [
    'DomainAdaptationEstimator', 'FeatureAlignmentPoseEstimator', 'MCDPoseEstimator',
    'MeanTeacherPoseEstimator',
    'RegDAPoseEstimator', 'TwoHeadAdaptationEstimator'
]
