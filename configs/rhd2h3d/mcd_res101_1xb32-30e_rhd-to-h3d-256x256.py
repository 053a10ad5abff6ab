# RHD->H3D, MCD for heatmaps (Table 2): two heads maximise their target discrepancy, psi
# minimises it. Same start, data, schedule and optimisers as RegDA.
_base_ = ['./regda_res101_1xb32-30e_rhd-to-h3d-256x256.py']
model = dict(type='MCDPoseEstimator')
custom_hooks = [dict(type='SyncBuffersHook'),
                dict(type='AdaptationScheduleHook', grad_scale=None)]
