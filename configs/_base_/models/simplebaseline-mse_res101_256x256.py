# The paper's source-only baseline (first row of its tables): the same network as the KL model,
# trained with the usual L2 (MSE) heatmap loss.
_base_ = ['./simplebaseline-kl_res101_256x256.py']

model = dict(
    head=dict(
        type='HeatmapHead',
        deconv_out_channels=None,
        deconv_kernel_sizes=None,
        loss=dict(_delete_=True, type='KeypointMSELoss', use_target_weight=True)))
