# Embedded benchmark, source only with the usual L2 loss (the paper's first row), on the
# "rendered" source.
_base_ = ['../_base_/synthetic-hands_supervised_6500it.py']
model = dict(
    head=dict(
        type='HeatmapHead',
        deconv_out_channels=None,  # the deconvs are in the neck, as for the KL model
        deconv_kernel_sizes=None,
        loss=dict(_delete_=True, type='KeypointMSELoss', use_target_weight=True)))
train_dataloader = dict(dataset=_base_.source_train)
