# RHD->H3D, DANN for heatmaps (Table 2): a domain discriminator (the reference library's, width
# 1024) on psi's pooled features behind gradient reversal, its coefficient warmed up from 0 to 1
# over the reference's 1000-iteration time constant. Same start, data and schedule as RegDA.
_base_ = ['./regda_res101_1xb32-30e_rhd-to-h3d-256x256.py']
model = dict(
    type='FeatureAlignmentPoseEstimator',
    alignment=dict(type='DomainAdversarialLoss', in_channels=256, hidden_channels=1024))
optim_wrapper = dict(adv_head=None, alignment=_base_.optim_wrapper.head)
custom_hooks = [
    dict(type='SyncBuffersHook'),
    dict(type='AdaptationScheduleHook',
         grad_scale=dict(lo=0., hi=1., alpha=1., max_iters=1000)),
]
