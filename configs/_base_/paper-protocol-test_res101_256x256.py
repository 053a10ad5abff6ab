# The paper's evaluation protocol, the reference implementation's, which produced the published
# tables: PCK@0.05 on the integer argmax of the 64x64 output, ground truth from the argmax of the
# target heatmap, no flip test, averaged over batches of 32 (PaperProtocolPCKAccuracy), on the
# reference's crops. Put only such numbers next to the paper's.
#
# For any checkpoint of a paper task: source only (MSE), KL pretraining, RegDA, DD, the other
# comparison rows and the oracle all predict with psi and f alone, which this builds (checkpoint
# keys of f' or other adaptation parts are left unused). The KLHeatmapHead also reads an MSE
# model's head: the protocol scores the raw output (logits or heatmaps), which it outputs as is.
_base_ = [
    './default_runtime.py',
    './models/simplebaseline-kl_res101_256x256.py',
    './datasets/paper_datasets_256x256.py',
]
model = dict(
    backbone=dict(init_cfg=None),  # every weight comes from the tested checkpoint
    test_cfg=dict(_delete_=True, flip_test=False, output_logits=True))
test_evaluator = dict(_delete_=True, type='PaperProtocolPCKAccuracy', alpha=0.05, batch_size=32)
val_evaluator = test_evaluator
