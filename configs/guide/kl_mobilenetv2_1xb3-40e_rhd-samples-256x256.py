# Stage 1 of the guide (docs/adapting_a_stock_config.md) on MMPose's stock MobileNetV2 (three
# deconvolutions in the head): the stock model trained with the spatial KL loss on the labeled
# source, evaluated on the target.
_base_ = [
    'mmpose::hand_2d_keypoint/topdown_heatmap/onehand10k/'
    'td-hm_mobilenetv2_8xb64-210e_onehand10k-256x256.py',
    './_base_/hand-samples_rhd-to-onehand10k.py',
]
from mmpose_regda.configs import adaptation  # noqa: E402  1: the plugin's config pieces

custom_imports = adaptation.custom_imports(_base_)  # 2: registers the plugin
model = adaptation.kl_model(_base_.model)  # 3: KL head and loss, all else stock
default_hooks = adaptation.default_hooks  # 4: stop on NaN, channels-last, no best-on-test

# the data part: the source to train on, the target's test set to evaluate
train_dataloader = dict(
    batch_size=3,
    dataset=dict(_delete_=True, pipeline=_base_.train_pipeline, **_base_.source_train))
val_dataloader = dict(
    batch_size=4,
    dataset=dict(_delete_=True, pipeline=_base_.val_pipeline, **_base_.target_test))
test_dataloader = val_dataloader
val_evaluator = test_evaluator = _base_.hand_evaluator
train_cfg = dict(max_epochs=40, val_interval=20)
