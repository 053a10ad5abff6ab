# RHD->FreiHand: any checkpoint of the task tested on FreiHand with the paper's protocol
# (a task of this plugin, not in the paper; the reference's script has FreiHand->RHD):
#     python tools/test.py \
#         configs/rhd2freihand/test_res101_freihand-256x256_paper-protocol.py CHECKPOINT
_base_ = ['../_base_/paper-protocol-test_res101_256x256.py']
test_dataloader = dict(dataset=_base_.freihand_test)
val_dataloader = test_dataloader
