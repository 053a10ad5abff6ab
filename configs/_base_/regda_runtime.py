# MMPose's runtime with the plugin, RegDA's optimisation, its hook and its DDP wrapper.
_base_ = ['./default_runtime.py', './schedules/regda_sgd_inverse-decay.py']

# Warm start of the f' -> psi gradient (0 -> 0.1) and an optional source-only warm-up.
custom_hooks = [
    dict(type='SyncBuffersHook'),
    dict(type='RegDAHook', warmup_iters=0, grad_scale=dict(lo=0., hi=0.1, alpha=1.,
                                                           max_iters=1000)),
]

# Every pass of the three objectives goes through DDP's forward (CPU: gloo, set up by the tools).
model_wrapper_cfg = dict(type='RegDADistributedDataParallel', find_unused_parameters=True)
