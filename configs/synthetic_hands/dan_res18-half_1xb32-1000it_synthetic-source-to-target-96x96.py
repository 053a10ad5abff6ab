# Embedded benchmark, DAN (Long et al., ICML 2015) for heatmap regression: psi minimises the
# multi-kernel MMD between its pooled source and target features. Same start, data, iterations
# and optimisation as RegDA.
_base_ = ['../_base_/synthetic-hands_adaptation_1000it.py']
model = dict(type='FeatureAlignmentPoseEstimator', alignment=dict(type='MultiKernelMMDLoss'))
optim_wrapper = dict(adv_head=None)
custom_hooks = [dict(type='SyncBuffersHook'),
                dict(type='AdaptationScheduleHook', grad_scale=None)]
