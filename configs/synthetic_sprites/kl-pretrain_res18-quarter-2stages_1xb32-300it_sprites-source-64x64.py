# dSprites toy task (Table 1), stage 1: source only with the spatial KL loss L_T on
# `source_domain` (the "ResNet18" row on the other domains, the oracle on its own, and the model
# that DD and RegDA adapt): the paper's supervised schedule shortened to 300 iterations of batch
# 32 (budget: docs/configs.md).
_base_ = [
    '../_base_/source-only_runtime.py',
    '../_base_/models/simplebaseline-kl_res18-quarter-2stages_64x64.py',
    '../_base_/datasets/synthetic-sprites_64x64.py',
]
iterations = 300
train_cfg = dict(max_iters=iterations, val_interval=iterations)
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=False, gamma=0.1,
         milestones=[iterations * 45 // 70, iterations * 60 // 70])
]
default_hooks = dict(checkpoint=dict(interval=iterations), logger=dict(interval=50))
train_dataloader = dict(dataset=_base_.source_train)
