# Embedded benchmark, RegDA: f' minimises L_F on the target, psi minimises L_T (the schedule, data
# and starting point are shared by every adaptation row, see the base).
_base_ = ['../_base_/synthetic-hands_adaptation_300it.py']
model = dict(
    type='RegDAPoseEstimator',
    ground_false=dict(type='GroundFalseTargetGenerator', sigma=1.))  # the codec's sigma
