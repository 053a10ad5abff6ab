# dSprites toy task (Table 1), stage 1: source only with the spatial KL loss L_T on
# `source_domain` (the "ResNet18" row on the other domains, the oracle on its own, and the model
# that DD and RegDA adapt). The paper's supervised schedule (Adam 1e-3, x0.1 at 45/70 and 60/70
# of the run) shortened to 300 iterations of batch 32 (about 5 epochs of 2000 images): a
# pretrain iteration measured 0.17 s on one core of a 2-core CPU, so the three pretrains of the
# table (tools/benchmark_synthetic_sprites.py) take under 3 minutes of its 20-minute budget and
# the twelve adaptations get the rest.
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
