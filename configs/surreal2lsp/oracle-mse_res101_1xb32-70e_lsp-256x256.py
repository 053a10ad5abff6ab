# SURREAL->LSP, oracle: trained on LSP with its labels (the upper bound row; the paper has none
# for LSP). It trains on the first 1000 images and tests on the other 1000: the other LSP
# configs test on all 2000, as the reference.
_base_ = [
    '../_base_/source-only_runtime.py',
    '../_base_/models/simplebaseline-mse_res101_256x256.py',
    '../_base_/datasets/paper_datasets_256x256.py',
]
model = dict(head=dict(out_channels=16))  # body16 layout

train_dataloader = dict(dataset=_base_.lsp_split_train)
val_dataloader = dict(dataset=_base_.lsp_split_test)
test_dataloader = val_dataloader
