from .ground_false_target_generator import GroundFalseTargetGenerator, GroundFalseTargets
from .mean_teacher_consistency import MeanTeacherConsistency, TeacherTargets

__all__ = ['GroundFalseTargetGenerator', 'GroundFalseTargets', 'MeanTeacherConsistency',
           'TeacherTargets']
