# dSprites toy task (Table 1), RegDA: adapts the KL-pretrained model from `source_domain`
# (labeled) to `target_domain` (images only). f' minimises L_F against the region form of the
# ground-false distribution (Eq. 15: every position of A = rows/columns 16..47 but f's
# prediction), psi minimises L_T. Every other setting is shared with DD, which inherits this file.
#
# 150 iterations of batch 32 per domain (2.4 epochs of the 2000 target images) with the
# reference's optimisation (SGD, heads at 10x, inverse decay; the paper's dSprites runs use lr
# 0.1 for the heads too). Why 150: twelve of these runs (DD and RegDA on six transfers) must fit,
# with the three pretrains and the evaluations, in about 20 minutes on a 2-core CPU. A RegDA
# iteration measured 0.55 s on one core of such a machine (median of 20, the other core busy),
# so the twelve take at most 12 x 150 x 0.55 s = 16.5 minutes, less with both cores free. The
# warm start of the f' -> psi gradient keeps the reference's proportion (time constant 1000 of
# 15000 iterations there, 10 of 150 here).
_base_ = [
    '../_base_/regda_runtime.py',
    '../_base_/models/simplebaseline-kl_res18-quarter-2stages_64x64.py',
    '../_base_/datasets/synthetic-sprites_64x64.py',
]
model = dict(
    type='RegDAPoseEstimator',
    ground_false=dict(type='GroundFalseTargetGenerator', sigma=2., region=(16, 47, 16, 47)),
    adv_head_objective='min L_F',
    generator_objective='min L_T')
iterations = 150
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=iterations,
                 val_interval=iterations)
custom_hooks = [
    dict(type='SyncBuffersHook'),
    dict(type='RegDAHook', warmup_iters=0,
         grad_scale=dict(lo=0., hi=0.1, alpha=1., max_iters=iterations // 15)),
]
train_dataloader = dict(
    sampler=dict(_delete_=True, type='DomainAdaptationSampler', shuffle=True),
    dataset=dict(
        type='DomainAdaptationDataset',
        source=_base_.source_train,
        target=_base_.target_train_unlabeled))
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=iterations))
log_processor = dict(by_epoch=False)
# stage 1's final checkpoint (tools/benchmark_synthetic_sprites.py passes its own path)
load_from = ('work_dirs/kl-pretrain_res18-quarter-2stages_1xb32-300it_sprites-source-64x64/'
             'iter_300.pth')
