# Stage 1 of the guide (docs/adapting_a_stock_config.md) on MMPose's stock ViTPose-small (a body
# config, its backbone from mmpretrain: pip install -e ".[vitpose]"): the stock model trained with
# the spatial KL loss on the labeled source hands, evaluated on the target.
_base_ = [
    'mmpose::body_2d_keypoint/topdown_heatmap/coco/'
    'td-hm_ViTPose-small_8xb64-210e_coco-256x192.py',
    './_base_/hand-samples_rhd-to-onehand10k.py',
]
from mmpose_regda.configs import adaptation  # noqa: E402  1: the plugin's config pieces

custom_imports = adaptation.custom_imports(_base_)  # 2: the plugin and ViTPose's own imports
model = adaptation.kl_model(_base_.model, head=dict(out_channels=21))  # 3: KL, 21 hand keypoints
default_hooks = adaptation.default_hooks  # 4: stop on NaN, channels-last, no best-on-test

# the data part: a body config's pipelines (half-body crops) do not fit hands, so the hands' own
# at ViTPose's input size and codec
hand_train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomBBoxTransform', rotate_factor=180, scale_factor=(0.7, 1.3)),
    dict(type='TopdownAffine', input_size=_base_.codec['input_size'], use_udp=True),
    dict(type='GenerateTarget', encoder=_base_.codec),
    dict(type='PackPoseInputs')
]
hand_val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=_base_.codec['input_size'], use_udp=True),
    dict(type='PackPoseInputs')
]
train_dataloader = dict(
    batch_size=3,
    dataset=dict(_delete_=True, pipeline=hand_train_pipeline, **_base_.source_train))
val_dataloader = dict(
    batch_size=4,
    dataset=dict(_delete_=True, pipeline=hand_val_pipeline, **_base_.target_test))
test_dataloader = val_dataloader
val_evaluator = test_evaluator = _base_.hand_evaluator
train_cfg = dict(max_epochs=40, val_interval=20)
