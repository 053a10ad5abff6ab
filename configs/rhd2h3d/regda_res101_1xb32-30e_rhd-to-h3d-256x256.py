# RHD->H3D, RegDA: adapts the KL-pretrained model (RHD labeled -> H3D boxes only) for the
# paper's 30 epochs of 500 iterations, batch 32 per domain, and evaluates the final model on H3D.
_base_ = ['../_base_/regda-paper_res101_1xb32-30e.py']
train_dataloader = dict(
    dataset=dict(source=_base_.rhd_train, target=_base_.h3d_train_unlabeled))
val_dataloader = dict(dataset=_base_.h3d_test)
test_dataloader = val_dataloader
# stage 1's final checkpoint: psi (backbone, neck) starts from it, f and f' fresh
stage1_checkpoint = 'work_dirs/kl-pretrain_res101_1xb32-70e_rhd-256x256/iter_35000.pth'
model = dict(psi_checkpoint=stage1_checkpoint)
