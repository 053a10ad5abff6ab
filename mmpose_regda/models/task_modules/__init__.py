from .ground_false_target_generator import GroundFalseTargetGenerator, GroundFalseTargets

__all__ = ['GroundFalseTargetGenerator', 'GroundFalseTargets']
