# SURREAL->LSP: any checkpoint of the task tested on LSP with the paper's protocol
# (the numbers to put next to Table 5):
#     python tools/test.py \
#         configs/surreal2lsp/test_res101_lsp-256x256_paper-protocol.py CHECKPOINT
_base_ = ['../_base_/paper-protocol-test_res101_256x256.py']
model = dict(head=dict(out_channels=16))  # body16 layout
test_dataloader = dict(dataset=_base_.lsp_test)
val_dataloader = test_dataloader
# The LSP oracle trains on the first 1000 images: test it on the other 1000 with
#     --cfg-options test_dataloader.dataset.ann_file=annotations/lsp_test.json
