# The data part of the guide's configs (docs/adapting_a_stock_config.md): a labeled source and an
# unlabeled target in COCO format, here the shared pose samples: 3 rendered RHD hands (labeled;
# RHD's files list each finger tip to base, read in the shared base-to-tip order), 4 real
# OneHand10K hands read with their boxes only for adaptation, and the same 4 with their keypoints
# for evaluation. Datasets without pipelines: each config adds its stock config's. The names are
# ones no stock config uses, so this file and a stock config can both be bases.
samples_root = '../shared/data/pose_samples/'

source_train = dict(
    type='SharedHandDataset',
    dataset_name='rhd',
    keypoint_order='rhd',
    data_root=samples_root,
    data_mode='topdown',
    ann_file='rhd/test_rhd.json',
    data_prefix=dict(img='rhd/'))
# boxes only: the keypoints in this file are never read
target_train = dict(
    type='UnlabeledTopdownDataset',
    metainfo='hand21',
    data_root=samples_root,
    ann_file='onehand10k/test_onehand10k.json',
    data_prefix=dict(img='onehand10k/'))
target_test = dict(
    type='SharedHandDataset',
    dataset_name='onehand10k',
    data_root=samples_root,
    data_mode='topdown',
    ann_file='onehand10k/test_onehand10k.json',
    data_prefix=dict(img='onehand10k/'),
    test_mode=True)
# PCK@0.05 by part, as the paper reports it
hand_evaluator = [dict(type='PartPCKAccuracy', alpha=0.05), dict(type='EPE')]
