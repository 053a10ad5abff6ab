# RHD->H3D, stage 1 of RegDA: source-only training with the spatial KL loss L_T
# (the model RegDA adapts; also the "source only (KL)" row), evaluated on H3D.
_base_ = [
    '../_base_/source-only_runtime.py',
    '../_base_/models/simplebaseline-kl_res101_256x256.py',
    '../_base_/datasets/paper_datasets_256x256.py',
]

train_dataloader = dict(dataset=_base_.rhd_train)
val_dataloader = dict(dataset=_base_.h3d_test)
test_dataloader = val_dataloader
