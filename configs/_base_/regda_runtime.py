# MMPose's runtime with the plugin, the adaptation methods' optimisation (one optimizer per part,
# RegDA's schedule), their schedule hook and their DDP wrapper.
_base_ = ['./default_runtime.py', './schedules/regda_sgd_inverse-decay.py']

# Warm start of the f' -> psi gradient (0 -> 0.1) and an optional source-only warm-up.
custom_hooks = [
    dict(type='SyncBuffersHook'),
    dict(type='AdaptationScheduleHook', warmup_iters=0,
         grad_scale=dict(lo=0., hi=0.1, alpha=1., max_iters=1000)),
]

# One DDP module per part (mmagic's GANs use the same): every pass through a part all-reduces
# that part's gradients, whichever update it belongs to.
model_wrapper_cfg = dict(type='MMSeparateDistributedDataParallel')
