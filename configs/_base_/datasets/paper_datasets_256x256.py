# The paper's datasets, converted to COCO json by tools/dataset_converters (see README and
# docs/paper_protocol.md for the options the paper configs expect: RHD --reference, Human3.6M
# --box keypoints, LSP --split all train test), under data/<dataset>/ with the converters'
# output in data/<dataset>/annotations/. Each task config picks its source, target and test
# sets from here.
_base_ = ['./paper_pipelines_256x256.py']

data_root = 'data/'


def _dataset(kind, name, ann_file, pipeline, labeled=True, test_mode=False):
    root = f'{data_root}{name}/'
    if not labeled:
        # boxes only: target keypoints are not even read
        return dict(type='UnlabeledTopdownDataset', metainfo=kind, data_root=root,
                    ann_file=f'annotations/{ann_file}', data_prefix=dict(img=''),
                    pipeline=pipeline)
    return dict(type='SharedHandDataset' if kind == 'hand21' else 'SharedBodyDataset',
                dataset_name=name, data_root=root, data_mode='topdown',
                ann_file=f'annotations/{ann_file}', data_prefix=dict(img=''),
                test_mode=test_mode, pipeline=pipeline)


def _domain(kind, name, train, test):
    """A domain's training set (labeled, then boxes only) and its test set."""
    pipelines = _base_.pipelines[name]
    return (_dataset(kind, name, train, pipelines['train']),
            _dataset(kind, name, train, pipelines['target'], labeled=False),
            _dataset(kind, name, test, pipelines['test'], test_mode=True))


rhd_train, rhd_train_unlabeled, rhd_test = _domain('hand21', 'rhd', 'rhd_train.json',
                                                   'rhd_test.json')
h3d_train, h3d_train_unlabeled, h3d_test = _domain('hand21', 'h3d', 'h3d_train.json',
                                                   'h3d_test.json')
freihand_train, freihand_train_unlabeled, freihand_test = _domain(
    'hand21', 'freihand', 'freihand_train.json', 'freihand_test.json')
surreal_train, surreal_train_unlabeled, surreal_test = _domain(
    'body16', 'surreal', 'surreal_train.json', 'surreal_val.json')
human36m_train, human36m_train_unlabeled, human36m_test = _domain(
    'body16', 'human36m', 'h36m_train.json', 'h36m_test.json')
# LSP as the reference uses it: all 2000 images, for adaptation (boxes only) and for test
# (lsp2coco.py --split all). Its oracle, trained with labels, needs a split: the first 1000
# images train, the other 1000 test (lsp2coco.py --split train test).
lsp_train, lsp_train_unlabeled, lsp_test = _domain('body16', 'lsp', 'lsp_all.json',
                                                   'lsp_all.json')
lsp_split_train, lsp_split_train_unlabeled, lsp_split_test = _domain(
    'body16', 'lsp', 'lsp_train.json', 'lsp_test.json')

train_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True))
val_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False))
test_dataloader = val_dataloader
# the paper's PCK@0.05 by part; groups come from the datasets' metainfo
val_evaluator = dict(type='PartPCKAccuracy', alpha=0.05)
test_evaluator = val_evaluator
