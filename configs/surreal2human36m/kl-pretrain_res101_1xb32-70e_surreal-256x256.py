# SURREAL->Human3.6M, stage 1 of RegDA: source-only training with the spatial KL loss L_T
# (the model RegDA adapts; also the "source only (KL)" row), evaluated on Human3.6M.
_base_ = [
    '../_base_/source-only_runtime.py',
    '../_base_/models/simplebaseline-kl_res101_256x256.py',
    '../_base_/datasets/paper_datasets_256x256.py',
]
model = dict(head=dict(out_channels=16))  # body16 layout

train_dataloader = dict(dataset=_base_.surreal_train)
val_dataloader = dict(dataset=_base_.human36m_test)
test_dataloader = val_dataloader
