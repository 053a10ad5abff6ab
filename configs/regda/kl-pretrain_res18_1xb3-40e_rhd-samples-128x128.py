# Stage 1 of RegDA: source-only pretraining of SimpleBaseline with the spatial KL loss L_T (the
# model RegDA adapts), on the RHD samples. Adam 1e-3 as the paper's stage 1, shortened.
_base_ = [
    '../_base_/default_runtime.py',
    '../_base_/models/simplebaseline-kl_res18_128x128.py',
    '../_base_/datasets/rhd-samples_128x128.py',
]

train_cfg = dict(max_epochs=40, val_interval=20)
randomness = dict(seed=0)

optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3))
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=40, milestones=[30], gamma=0.1, by_epoch=True)
]

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=20))
