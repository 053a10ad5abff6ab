# The three rendered RHD samples shipped with the project (source domain of the CPU configs),
# relative to the repository root; tests pass absolute paths with --cfg-options. RHD's files go
# tip to base along each finger: read in the shared hand order.
codec = dict(type='MSRAHeatmap', input_size=(128, 128), heatmap_size=(32, 32), sigma=1)
data_root = '../shared/data/pose_samples/'

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomBBoxTransform', rotate_factor=30, scale_factor=(0.8, 1.2)),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs')
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='PackPoseInputs')
]

source_dataset = dict(
    type='SharedHandDataset',
    dataset_name='rhd',
    keypoint_order='rhd',
    data_root=data_root,
    data_mode='topdown',
    ann_file='rhd/test_rhd.json',
    data_prefix=dict(img='rhd/'),
    pipeline=train_pipeline)

train_dataloader = dict(
    batch_size=3,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=source_dataset)
val_dataloader = dict(
    batch_size=3,
    num_workers=0,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(source_dataset, test_mode=True, pipeline=val_pipeline))
test_dataloader = val_dataloader

val_evaluator = [dict(type='PartPCKAccuracy', alpha=0.05), dict(type='EPE')]
test_evaluator = val_evaluator
