# RHD->H3D, oracle: trained on H3D with its labels (the upper bound row).
_base_ = [
    '../_base_/source-only_runtime.py',
    '../_base_/models/simplebaseline-mse_res101_256x256.py',
    '../_base_/datasets/paper_datasets_256x256.py',
]

train_dataloader = dict(dataset=_base_.h3d_train)
val_dataloader = dict(dataset=_base_.h3d_test)
test_dataloader = val_dataloader
