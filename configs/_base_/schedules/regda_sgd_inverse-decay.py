# The reference implementation's RegDA optimisation: one SGD per part (Nesterov momentum 0.9,
# weight decay 1e-4), heads at 10x the generator's lr (after DANN), every lr decayed per iteration
# as lr * (1 + 1e-4 * i) ** -0.75.
_sgd = dict(type='SGD', momentum=0.9, nesterov=True, weight_decay=1e-4)
optim_wrapper = dict(
    constructor='PartOptimWrapperConstructor',
    generator=dict(optimizer=dict(_sgd, lr=0.01)),
    head=dict(optimizer=dict(_sgd, lr=0.1)),
    adv_head=dict(optimizer=dict(_sgd, lr=0.1)))
# `end` is set because mmengine would otherwise fix it to this run's max_iters and store it in
# checkpoints: a run resumed with more epochs would then stop decaying. The decay depends on the
# iteration only, so it never needs to end.
param_scheduler = [
    dict(type='InverseDecayLR', gamma=1e-4, power=0.75, begin=0, end=10**9, by_epoch=False)
]
