# SURREAL->Human3.6M: any checkpoint of the task tested on Human3.6M with the paper's protocol
# (the numbers to put next to Table 4):
#     python tools/test.py \
#         configs/surreal2human36m/test_res101_human36m-256x256_paper-protocol.py CHECKPOINT
_base_ = ['../_base_/paper-protocol-test_res101_256x256.py']
model = dict(head=dict(out_channels=16))  # body16 layout
test_dataloader = dict(dataset=_base_.human36m_test)
val_dataloader = test_dataloader
