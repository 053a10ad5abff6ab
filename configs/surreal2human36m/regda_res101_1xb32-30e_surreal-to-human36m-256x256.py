# SURREAL->Human3.6M, RegDA: adapts the KL-pretrained model (SURREAL labeled -> Human3.6M boxes
# only) for the paper's 30 epochs of 500 iterations, batch 32 per domain, and evaluates the final
# model on Human3.6M. The reference's script adapts this task for 10 epochs: the 10e config.
_base_ = ['../_base_/regda-paper_res101_1xb32-30e.py']
train_dataloader = dict(
    dataset=dict(source=_base_.surreal_train, target=_base_.human36m_train_unlabeled))
val_dataloader = dict(dataset=_base_.human36m_test)
test_dataloader = val_dataloader
# stage 1's final checkpoint: psi (backbone, neck) starts from it, f and f' fresh
stage1_checkpoint = 'work_dirs/kl-pretrain_res101_1xb32-70e_surreal-256x256/iter_35000.pth'
model = dict(psi_checkpoint=stage1_checkpoint,
             head=dict(out_channels=16))  # body16 layout
