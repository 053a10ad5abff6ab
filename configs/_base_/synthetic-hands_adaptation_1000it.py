# Adaptation on the embedded benchmark, shared by every method's row (RegDA, DD, Table 3's
# middle row, MCD, DANN, DAN): the KL-pretrained model adapted from the "rendered" source
# (labeled) to the "real" target (boxes only) for 1000 iterations of batch 32 per domain, with
# the reference's optimisation (SGD, heads at 10x, inverse decay). A method config sets the
# model's type and its own parts. 1000 iterations: the game's curves (f's target PCK, the f/f'
# disparity) have flattened by then (docs/results.md, "How long the game needs").
_base_ = [
    './iteration-based_adaptation_runtime.py',
    './models/simplebaseline-kl_res18-half_96x96.py',
    './datasets/synthetic-hands_96x96.py',
]
train_dataloader = dict(
    sampler=dict(_delete_=True, type='DomainAdaptationSampler', shuffle=True),
    dataset=dict(type='DomainAdaptationDataset', source=_base_.source_train,
                 target=_base_.target_train_unlabeled))
# stage 1's final checkpoint (tools/benchmark_synthetic_hands.py passes its own path)
load_from = ('work_dirs/kl-pretrain_res18-half_1xb32-6500it_synthetic-source-96x96/'
             'iter_6500.pth')
