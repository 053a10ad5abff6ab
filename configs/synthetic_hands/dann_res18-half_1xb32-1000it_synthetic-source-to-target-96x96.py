# Embedded benchmark, DANN (Ganin et al., JMLR 2016) for heatmap regression: a domain
# discriminator on psi's pooled features, behind gradient reversal. Same start, data,
# iterations and optimisation as RegDA, the discriminator trained like a head.
_base_ = ['../_base_/synthetic-hands_adaptation_1000it.py']
from mmpose_regda.configs import adaptation  # noqa: E402

model = dict(
    type='FeatureAlignmentPoseEstimator',
    alignment=dict(type='DomainAdversarialLoss', in_channels=64, hidden_channels=256))
optim_wrapper = dict(adv_head=None, alignment=_base_.optim_wrapper.head)
# DANN's reversal coefficient warms up from 0 to 1 (the reference library's schedule, its time
# constant scaled to the stage's iterations as RegDA's)
custom_hooks = adaptation.custom_hooks('DANN', warm_start_iters=_base_.iterations // 15)
