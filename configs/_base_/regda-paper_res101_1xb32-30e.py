# RegDA on the paper's tasks: the KL-pretrained ResNet-101 SimpleBaseline adapted for 30 epochs
# of 500 iterations, batch 32 per domain, with the reference implementation's optimisation.
# Task configs set the source, the target (boxes only), the test set and the stage-1 checkpoint.
_base_ = [
    './regda_runtime.py',
    './models/simplebaseline-kl_res101_256x256.py',
    './datasets/paper_datasets_256x256.py',
]
# The start of adaptation, as the paper ("the model is adopted as the feature generator psi")
# and the reference: psi (backbone + neck) from stage 1's checkpoint, f and f' fresh. The model
# loads psi's weights from `psi_checkpoint` when it is initialised (and skips the backbone's own
# ImageNet initialisation, which they overwrite); each task config names its stage-1 checkpoint:
#     model = dict(
#         psi_checkpoint='work_dirs/kl-pretrain_res101_1xb32-70e_rhd-256x256/iter_35000.pth')
# To start from stage 1's f as well, give the checkpoint as `load_from` instead (psi and f load
# key for key, f' stays fresh). mmpose_regda.utils.adaptation_start_options gives both as
# --cfg-options / Config.merge_from_dict settings.
model = dict(type='RegDAPoseEstimator', psi_checkpoint=None)
train_cfg = dict(by_epoch=True, max_epochs=30, val_interval=5)
train_dataloader = dict(
    sampler=dict(_delete_=True, type='DomainAdaptationSampler', shuffle=True),
    dataset=dict(type='DomainAdaptationDataset', length=500 * 32))
