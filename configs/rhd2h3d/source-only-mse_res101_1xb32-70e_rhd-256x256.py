# RHD->H3D, source only: the paper's baseline row (L2 loss), trained on RHD,
# evaluated on H3D.
_base_ = [
    '../_base_/source-only_runtime.py',
    '../_base_/models/simplebaseline-mse_res101_256x256.py',
    '../_base_/datasets/paper_datasets_256x256.py',
]

train_dataloader = dict(dataset=_base_.rhd_train)
val_dataloader = dict(dataset=_base_.h3d_test)
test_dataloader = val_dataloader
