# Embedded benchmark, MCD (Saito et al., CVPR 2018) for heatmaps: two heads on psi maximise their
# target discrepancy, psi minimises it. Same start, data, optimisers and iterations as RegDA.
_base_ = ['../_base_/synthetic-hands_adaptation_1000it.py']
from mmpose_regda.configs import adaptation  # noqa: E402

model = dict(type='MCDPoseEstimator')
# MCD sends psi both heads' full gradient: no warm start of a gradient scale
custom_hooks = adaptation.custom_hooks('MCD')
