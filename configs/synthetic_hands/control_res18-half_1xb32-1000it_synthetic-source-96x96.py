# Embedded benchmark, the control of every adaptation row ("source only, continued"): the
# KL-pretrained psi and f trained on the labeled source alone for the adaptation stage's
# iterations, with its optimisation (SGD, psi at 0.01, f at 10x, inverse decay). What a method
# gains over this row is what its target losses bring, not the extra source training.
_base_ = ['../_base_/synthetic-hands_adaptation_1000it.py']
_sgd = _base_.optim_wrapper.generator.optimizer
optim_wrapper = dict(
    _delete_=True,
    optimizer=_sgd,
    paramwise_cfg=dict(custom_keys=dict(head=dict(lr_mult=10.))))  # f at the heads' 0.1
train_dataloader = dict(
    sampler=dict(_delete_=True, type='DefaultSampler', shuffle=True),
    dataset=dict(_delete_=True, **_base_.source_train))
custom_hooks = [dict(type='SyncBuffersHook')]
model_wrapper_cfg = None
