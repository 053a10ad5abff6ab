# Stage 2 of the guide (docs/adapting_a_stock_config.md) on MMPose's stock ViTPose-small (two
# deconvolutions in the head; mmpretrain): RegDA adapts stage 1's model from the labeled source to
# the unlabeled target. Another method is one word: method = 'DD', 'DANN', 'DAN', 'MCD',
# 'MeanTeacher' or 'RegDA+MeanTeacher'.
_base_ = ['./kl_vitpose-small_1xb3-40e_rhd-samples-256x192.py']
from mmpose_regda.configs import adaptation  # noqa: E402  1: the plugin's config pieces

method = 'RegDA'  # 2
# 3: the estimator around the stock model; psi starts from stage 1's checkpoint (the paper's start)
model = adaptation.model(
    _base_.model, method,
    psi_checkpoint='work_dirs/kl_vitpose-small_1xb3-40e_rhd-samples-256x192/epoch_40.pth')
optim_wrapper = adaptation.optim_wrapper(method)  # 4: one SGD per part
param_scheduler = adaptation.param_scheduler()  # 5: the reference's decay
custom_hooks = adaptation.custom_hooks(method)  # 6: the method's schedule and checks
model_wrapper_cfg = adaptation.model_wrapper_cfg  # 7: one DDP module per part
train_cfg = dict(max_epochs=10, val_interval=5)  # 8

# the data part: source and target batches side by side (evaluation as in stage 1)
train_dataloader = adaptation.train_dataloader(
    dict(_base_.source_train, pipeline=_base_.hand_train_pipeline),
    dict(_base_.target_train, pipeline=_base_.hand_train_pipeline), batch_size=3, num_workers=0,
    method=method)  # a mean teacher's target gets its two views
