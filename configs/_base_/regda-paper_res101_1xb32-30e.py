# RegDA on the paper's tasks: the KL-pretrained ResNet-101 SimpleBaseline adapted for 30 epochs
# of 500 iterations, batch 32 per domain, with the reference implementation's optimisation.
# Task configs set the source, the target (boxes only), the test set and the stage-1 checkpoint.
_base_ = [
    './regda_runtime.py',
    './models/simplebaseline-kl_res101_256x256.py',
    './datasets/paper_datasets_256x256.py',
]
model = dict(type='RegDAPoseEstimator')
train_cfg = dict(by_epoch=True, max_epochs=30, val_interval=5)
train_dataloader = dict(
    sampler=dict(_delete_=True, type='DomainAdaptationSampler', shuffle=True),
    dataset=dict(type='DomainAdaptationDataset', length=500 * 32))
