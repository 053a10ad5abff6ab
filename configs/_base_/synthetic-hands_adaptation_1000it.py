# Adaptation on the embedded benchmark, shared by every method's row (RegDA, DD, Table 3's
# middle row, MCD, DANN, DAN): the KL-pretrained model adapted from the "rendered" source
# (labeled) to the "real" target (boxes only) for 1000 iterations of batch 32 per domain, with
# the reference's optimisation (SGD, heads at 10x, inverse decay). A method config sets the
# model's type and its own parts. 1000 iterations: the game's curves (f's target PCK, the f/f'
# disparity) have flattened by then (docs/results.md, "How long the game needs"). The warm start
# of the gradient from the adversarial part into psi keeps the reference's proportion: its time
# constant is 1000 of 15000 iterations there, 66 of 1000 here.
_base_ = [
    './regda_runtime.py',
    './models/simplebaseline-kl_res18-half_96x96.py',
    './datasets/synthetic-hands_96x96.py',
]
iterations = 1000
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=iterations,
                 val_interval=iterations)
custom_hooks = [
    dict(type='SyncBuffersHook'),
    dict(type='AdaptationScheduleHook', warmup_iters=0,
         grad_scale=dict(lo=0., hi=0.1, alpha=1., max_iters=iterations // 15)),
]
train_dataloader = dict(
    sampler=dict(_delete_=True, type='DomainAdaptationSampler', shuffle=True),
    dataset=dict(
        type='DomainAdaptationDataset',
        source=_base_.source_train,
        target=_base_.target_train_unlabeled))
default_hooks = dict(
    # validation metrics logged at their iteration (plot_training_dynamics.py reads them)
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=iterations))
log_processor = dict(by_epoch=False)
# stage 1's final checkpoint (tools/benchmark_synthetic_hands.py passes its own path)
load_from = ('work_dirs/kl-pretrain_res18-half_1xb32-6500it_synthetic-source-96x96/'
             'iter_6500.pth')
