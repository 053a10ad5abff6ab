# RHD->H3D, DAN for heatmaps (Table 2): psi minimises the multi-kernel MMD between its pooled
# source and target features. Same start, data, schedule and optimisation as RegDA.
_base_ = ['./regda_res101_1xb32-30e_rhd-to-h3d-256x256.py']
model = dict(type='FeatureAlignmentPoseEstimator', alignment=dict(type='MultiKernelMMDLoss'))
optim_wrapper = dict(adv_head=None)
custom_hooks = [dict(type='SyncBuffersHook'),
                dict(type='AdaptationScheduleHook', grad_scale=None)]
