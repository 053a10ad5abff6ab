# RHD->H3D: any checkpoint of the task tested on H3D with the paper's protocol
# (the numbers to put next to Table 2):
#     python tools/test.py \
#         configs/rhd2h3d/test_res101_h3d-256x256_paper-protocol.py CHECKPOINT
_base_ = ['../_base_/paper-protocol-test_res101_256x256.py']
test_dataloader = dict(dataset=_base_.h3d_test)
val_dataloader = test_dataloader
