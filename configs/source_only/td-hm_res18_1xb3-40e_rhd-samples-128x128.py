# Source-only training of MMPose's stock top-down heatmap model (SimpleBaseline, MSE loss) on the
# three rendered RHD samples shipped with the project: a small end-to-end check of the stack
# (train, validate, checkpoint, test) that runs in about a minute on CPU. The samples, codec,
# pipelines and loaders are the base's; the dataset and metrics are MMPose's own.
_base_ = ['../_base_/default_runtime.py', '../_base_/datasets/rhd-samples_128x128.py']

train_cfg = dict(max_epochs=40, val_interval=20)
randomness = dict(seed=0)

optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3))
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=40, milestones=[30], gamma=0.1, by_epoch=True)
]

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=20))

model = dict(
    type='TopdownPoseEstimator',
    data_preprocessor=dict(
        type='PoseDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    # From scratch: no weights can be downloaded on the CI machines.
    backbone=dict(type='ResNet', depth=18),
    head=dict(
        type='HeatmapHead',
        in_channels=512,
        out_channels=21,
        deconv_out_channels=(128, 128, 128),
        deconv_kernel_sizes=(4, 4, 4),
        loss=dict(type='KeypointMSELoss', use_target_weight=True),
        decoder={{_base_.codec}}),
    test_cfg=dict(flip_test=True, flip_mode='heatmap', shift_heatmap=True))

# MMPose's RHD dataset, in RHD's own keypoint order (the base's reads the shared hand order)
rhd_dataset = dict(
    _delete_=True,
    type='Rhd2DDataset',
    data_root={{_base_.data_root}},
    data_mode='topdown',
    ann_file='rhd/test_rhd.json',
    data_prefix=dict(img='rhd/'))
train_dataloader = dict(dataset=dict(rhd_dataset, pipeline={{_base_.train_pipeline}}))
val_dataloader = dict(
    dataset=dict(rhd_dataset, test_mode=True, pipeline={{_base_.val_pipeline}}))
test_dataloader = val_dataloader

val_evaluator = [
    dict(type='PCKAccuracy', thr=0.2),
    dict(type='AUC'),
    dict(type='EPE'),
]
test_evaluator = val_evaluator
