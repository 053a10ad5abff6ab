# Stage 2: RegDA adaptation of the KL-pretrained model from the rendered RHD samples (labeled
# source) to the real FreiHand samples (target, read with boxes only), evaluated with the
# paper's PCK by part on the FreiHand samples. A CPU-sized smoke run of the method: the paper's
# configurations are ResNet-101 at 256x256 (configs/rhd2h3d/, configs/rhd2freihand/, ...).
_base_ = [
    '../_base_/regda_runtime.py',
    '../_base_/models/simplebaseline-kl_res18_128x128.py',
    '../_base_/datasets/rhd-samples_128x128.py',
]

model = dict(
    type='RegDAPoseEstimator',
    # f' has f's architecture; it starts from scratch (the pretrained checkpoint has no f').
    ground_false=dict(type='GroundFalseTargetGenerator', sigma=1.),
    trade_off=1.,
    source_disparity_weight=4.)

train_cfg = dict(max_epochs=10, val_interval=5)
randomness = dict(seed=0)

target_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomBBoxTransform', rotate_factor=30, scale_factor=(0.8, 1.2)),
    dict(type='TopdownAffine', input_size=_base_.codec['input_size']),
    dict(type='PackPoseInputs')
]
train_dataloader = dict(
    batch_size=3,
    sampler=dict(_delete_=True, type='DomainAdaptationSampler', shuffle=True),
    dataset=dict(
        _delete_=True,
        type='DomainAdaptationDataset',
        source=_base_.source_dataset,
        # boxes only: the FreiHand keypoints in this file are not even read
        target=dict(
            type='UnlabeledTopdownDataset',
            metainfo='hand21',
            data_root=_base_.data_root,
            ann_file='freihand/test_freihand.json',
            data_prefix=dict(img='freihand/'),
            pipeline=target_pipeline)))
target_test_dataset = dict(
    type='SharedHandDataset',
    dataset_name='freihand',
    data_root=_base_.data_root,
    data_mode='topdown',
    ann_file='freihand/test_freihand.json',
    data_prefix=dict(img='freihand/'),
    test_mode=True,
    pipeline=_base_.val_pipeline)
val_dataloader = dict(dataset=dict(_delete_=True, **target_test_dataset))
test_dataloader = val_dataloader

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=5),
    checkpoint=dict(type='CheckpointHook', interval=5))

# The stage-1 checkpoint: psi (backbone, neck) and f (head) load key for key.
load_from = 'work_dirs/kl-pretrain_res18_1xb3-40e_rhd-samples-128x128/epoch_40.pth'
