# SURREAL->Human3.6M, source only: the paper's baseline row (L2 loss), trained on SURREAL,
# evaluated on Human3.6M.
_base_ = [
    '../_base_/source-only_runtime.py',
    '../_base_/models/simplebaseline-mse_res101_256x256.py',
    '../_base_/datasets/paper_datasets_256x256.py',
]
model = dict(head=dict(out_channels=16))  # body16 layout

train_dataloader = dict(dataset=_base_.surreal_train)
val_dataloader = dict(dataset=_base_.human36m_test)
test_dataloader = val_dataloader
