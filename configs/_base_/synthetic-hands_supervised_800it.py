# Supervised training on the embedded benchmark (source only, KL pretraining, oracle): the
# paper's schedule shortened to 800 iterations of batch 32 (Adam 1e-3, x0.1 at 45/70 and 60/70
# of the run), the CPU-sized SimpleBaseline, the final model evaluated on the target test set.
_base_ = [
    './source-only_runtime.py',
    './models/simplebaseline-kl_res18-half_96x96.py',
    './datasets/synthetic-hands_96x96.py',
]
iterations = 800
train_cfg = dict(max_iters=iterations, val_interval=iterations)
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=False, gamma=0.1,
         milestones=[iterations * 45 // 70, iterations * 60 // 70])
]
default_hooks = dict(checkpoint=dict(interval=iterations), logger=dict(interval=50))
