"""mmpose_regda.apis.checkpoint_checks and resolve_resume: the checkpoint a run starts from is
readable, of the same kind of training when resuming, and its weights fit the model."""
import pytest
import torch
from mmengine.config import Config
from torch import nn

from mmpose_regda.apis import CheckpointMismatch, resolve_resume
from mmpose_regda.apis.checkpoint_checks import (check_resumable, check_scored_parts,
                                                 check_start_checkpoint, check_weights_fit,
                                                 expected_optimizers, read_checkpoint,
                                                 saved_optimizers)


class Estimator(nn.Module):
    """A source-only model (backbone, head), or an adaptation one (plus adv_head)."""

    def __init__(self, num_keypoints=21, adaptation=False):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))
        self.head = nn.Conv2d(8, num_keypoints, 1)
        if adaptation:
            self.adv_head = nn.Conv2d(8, num_keypoints, 1)


class GetAttr:
    def __init__(self, owner, name):
        self.owner, self.name = owner, name

    def __reduce__(self):
        return getattr, (self.owner, self.name)


SINGLE = dict(state={}, param_groups=[dict(lr=0.1, params=[0])])
PER_PART = dict(generator=SINGLE, head=SINGLE, adv_head=SINGLE)
PART_OPTIM = dict(constructor='RegDAOptimWrapperConstructor',
                  **{part: dict(optimizer=dict(type='SGD', lr=0.1)) for part in PER_PART})


def config_file(path, **fields):
    path.write_text(''.join(f'{key} = {value!r}\n' for key, value in fields.items()))
    return Config.fromfile(str(path))


def training_checkpoint(model, optimizer):
    return dict(meta=dict(epoch=1, iter=3), message_hub={}, optimizer=optimizer,
                state_dict=model.state_dict())


def test_weights_of_another_keypoint_count_are_refused():
    checkpoint = dict(state_dict=Estimator(num_keypoints=21).state_dict())
    with pytest.raises(CheckpointMismatch, match=r'kl\.pth does not fit the model: 2 weights '
                       r'differ in shape \(head\.weight: checkpoint \(21, 8, 1, 1\), model '
                       r'\(17, 8, 1, 1\); head\.bias'):
        check_weights_fit(Estimator(num_keypoints=17), checkpoint, 'kl.pth')


def test_a_source_only_start_of_an_adaptation_model_is_noted_in_one_line():
    source_only = dict(state_dict=Estimator().state_dict())
    notes = check_weights_fit(Estimator(adaptation=True), source_only, 'kl.pth')
    assert notes == ['kl.pth has no `adv_head` (2 tensors), as expected when a source-only '
                     'model starts an adaptation model: `adv_head` keeps its initialisation']
    # when resuming the adaptation run, its f' must be there
    with pytest.raises(CheckpointMismatch, match=r'lacks 2 of the model\'s weights '
                       r'\(adv_head\.weight; adv_head\.bias\)'):
        check_weights_fit(Estimator(adaptation=True), source_only, 'kl.pth',
                          allow_new_parts=False)
    # an adaptation checkpoint evaluated with its source-only config: f is there
    notes = check_weights_fit(Estimator(), dict(state_dict=Estimator(adaptation=True)
                                                .state_dict()), 'regda.pth')
    assert notes == ['regda.pth has a `adv_head` that this model has not: it is not loaded']


def test_weights_of_another_model_are_refused():
    weights = Estimator().state_dict()
    del weights['backbone.1.running_mean']
    with pytest.raises(CheckpointMismatch, match=r'lacks 1 of the model\'s weights '
                       r'\(backbone\.1\.running_mean\)'):
        check_weights_fit(Estimator(), dict(state_dict=weights), 'x.pth')
    weights = {**Estimator().state_dict(), 'head.extra': torch.ones(1)}
    with pytest.raises(CheckpointMismatch, match=r'has 1 weights the model has not '
                       r'\(head\.extra\)'):
        check_weights_fit(Estimator(), dict(state_dict=weights), 'x.pth')
    # DDP's prefix is what mmengine strips too
    wrapped = {f'module.{k}': v for k, v in Estimator().state_dict().items()}
    assert check_weights_fit(Estimator(), dict(state_dict=wrapped), 'x.pth') == []


def test_the_optimizers_a_config_and_a_checkpoint_have():
    assert expected_optimizers(dict(optimizer=dict(type='Adam', lr=1e-3))) == []
    assert expected_optimizers(dict(type='AmpOptimWrapper', optimizer=dict(type='Adam'))) == []
    # the per-part constructor under its new and its old name; non-part keys and dropped parts
    new_style = dict(constructor='PartOptimWrapperConstructor', paramwise_cfg=dict(),
                     type='OptimWrapper', dtype='float16', loss_scale='dynamic',
                     generator=dict(optimizer=dict(type='SGD')), head=dict(optimizer=dict()),
                     adv_head=None)
    assert expected_optimizers(new_style) == ['generator', 'head']
    assert expected_optimizers(PART_OPTIM) == ['adv_head', 'generator', 'head']
    assert expected_optimizers(dict(constructor='SomeoneElsesConstructor')) is None
    assert saved_optimizers(SINGLE) == []
    assert saved_optimizers(dict(PER_PART, loss_scalers={})) == ['adv_head', 'generator', 'head']


def test_resuming_another_methods_checkpoint_says_which_optimizers_each_has(tmp_path):
    regda_cfg = config_file(tmp_path / 'regda.py', optim_wrapper=PART_OPTIM)
    kl_cfg = config_file(tmp_path / 'kl.py', optim_wrapper=dict(optimizer=dict(type='Adam')))
    kl = training_checkpoint(Estimator(), SINGLE)
    regda = training_checkpoint(Estimator(adaptation=True), PER_PART)
    with pytest.raises(CheckpointMismatch, match=r'--resume: kl\.pth holds the optimizer state '
                       r'of a single optimizer \(a source-only.*\), but .*regda\.py trains with '
                       r'one optimizer per part \(adv_head, generator, head\)\. .*load_from'):
        check_resumable(kl, 'kl.pth', regda_cfg)
    with pytest.raises(CheckpointMismatch, match=r'regda\.pth holds the optimizer state of one '
                       r'optimizer per part \(adv_head, generator, head\), but .*kl\.py trains '
                       r'with a single optimizer'):
        check_resumable(regda, 'regda.pth', kl_cfg)
    check_resumable(regda, 'regda.pth', regda_cfg)
    check_resumable(kl, 'kl.pth', kl_cfg)
    with pytest.raises(CheckpointMismatch, match=r'weights\.pth has no `meta`, `message_hub`, '
                       r'`optimizer`: it is not the checkpoint of a training run'):
        check_resumable(dict(state_dict={}), 'weights.pth', kl_cfg)


def test_empty_truncated_or_foreign_checkpoint_files(tmp_path):
    empty = tmp_path / 'iter_800.pth'
    empty.touch()
    with pytest.raises(CheckpointMismatch, match=r'--resume: checkpoint .*iter_800\.pth is '
                       r'empty \(0 bytes\)'):
        read_checkpoint(str(empty), '--resume')
    good = tmp_path / 'good.pth'
    torch.save(dict(state_dict=Estimator().state_dict()), good)
    truncated = tmp_path / 'truncated.pth'
    truncated.write_bytes(good.read_bytes()[:good.stat().st_size // 2])
    with pytest.raises(CheckpointMismatch, match=r'truncated\.pth cannot be read '
                       r'\(RuntimeError: .*\); the file is damaged or truncated'):
        read_checkpoint(str(truncated), 'load_from')
    # objects a weights-only load refuses (here a getattr reaching the builtins)
    from mmengine.logging import HistoryBuffer
    crafted = tmp_path / 'crafted.pth'
    torch.save(dict(meta=GetAttr(GetAttr(HistoryBuffer, '__init__'), '__builtins__')), crafted)
    with pytest.raises(CheckpointMismatch, match=r'^checkpoint .*crafted\.pth is refused by '
                       r'weights-only loading \(this checkpoint calls getattr\(.*HistoryBuffer'
                       r".*'__init__'\).*\); it holds objects that mmengine does not save"):
        read_checkpoint(str(crafted))
    torch.save([1, 2], tmp_path / 'list.pth')
    with pytest.raises(CheckpointMismatch, match='holds a list; expected a checkpoint dict'):
        read_checkpoint(str(tmp_path / 'list.pth'))
    with pytest.raises(CheckpointMismatch, match=r'load_from: checkpoint .*missing\.pth not '
                       'found'):
        check_start_checkpoint(Config(dict(load_from=str(tmp_path / 'missing.pth'))),
                               Estimator())
    assert check_start_checkpoint(Config(dict(load_from=str(good))), Estimator()) == []
    # downloads are left to mmengine
    assert check_start_checkpoint(Config(dict(load_from='https://host/x.pth')), None) == []


def test_resume_without_a_checkpoint_to_resume_keeps_load_from(tmp_path):
    cfg = Config(dict(work_dir=str(tmp_path), load_from='kl/iter_800.pth'))
    note = resolve_resume(cfg, 'auto')
    assert cfg.resume is False and cfg.load_from == 'kl/iter_800.pth'
    assert note == (f'--resume: nothing to resume in {tmp_path} (no last_checkpoint); starting '
                    'from load_from=kl/iter_800.pth')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_100.pth'))
    note = resolve_resume(cfg, 'auto')
    assert cfg.resume is True and cfg.load_from == str(tmp_path / 'iter_100.pth')
    assert 'continuing from' in note
    resolve_resume(cfg, 'other.pth')
    assert cfg.resume is True and cfg.load_from == 'other.pth'


class RunsCode:
    """Unpickled without restrictions, this runs a shell command (``posix.system``)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import os
        return os.system, (f'touch {self.marker}', )


def test_a_code_executing_checkpoint_is_called_possibly_malicious_not_damaged(tmp_path):
    marker = tmp_path / 'it_ran'
    path = tmp_path / 'epoch_1.pth'
    torch.save(dict(state_dict=Estimator().state_dict(), meta=RunsCode(marker)), path)
    with pytest.raises(CheckpointMismatch) as exc:
        read_checkpoint(str(path), '--resume')
    assert str(exc.value) == (
        f'--resume: checkpoint {path} is refused by weights-only loading (Trying to load '
        'unsupported GLOBAL posix.system whose module posix is blocked); it holds objects that '
        'mmengine does not save: the file may be malicious (made to run code when it is '
        'loaded), not damaged. Nothing of it was executed; load only checkpoints you trust')
    assert not marker.exists()


def test_scoring_a_part_the_checkpoint_lacks_is_refused():
    source_only = dict(state_dict=Estimator().state_dict())
    f_prime = [dict(type='PartPCKAccuracy'), dict(type='PartPCKAccuracy',
                                                  pred_field='adv_pred_instances')]
    with pytest.raises(CheckpointMismatch, match=r"^kl\.pth has no `adv_head` \(no adv_head\.\* "
                       r"weights: a source-only checkpoint\), but the evaluator PartPCKAccuracy\("
                       r"pred_field='adv_pred_instances'\) scores `adv_head`'s predictions"):
        check_scored_parts(source_only, 'kl.pth', f_prime, Estimator(adaptation=True))
    # f only, or a checkpoint with f', or a model without f': nothing to refuse
    check_scored_parts(source_only, 'kl.pth', f_prime[:1], Estimator(adaptation=True))
    check_scored_parts(dict(state_dict=Estimator(adaptation=True).state_dict()), 'regda.pth',
                       f_prime, Estimator(adaptation=True))
    check_scored_parts(source_only, 'kl.pth', dict(type='Evaluator', metrics=f_prime),
                       Estimator())


def test_a_checkpoint_is_not_scored_on_another_keypoint_order():
    """tools/test.py passes the test set's metainfo: a model trained on RHD's tip-to-base order
    scored on OneHand10K's base-to-tip order is refused with both orders; names agree: passes."""
    from mmpose.datasets.datasets.utils import parse_pose_metainfo

    from mmpose_regda.apis.checkpoint_checks import check_keypoints_match
    rhd = parse_pose_metainfo(dict(from_file='configs/_base_/datasets/rhd2d.py'))
    onehand = parse_pose_metainfo(dict(from_file='configs/_base_/datasets/onehand10k.py'))
    checkpoint = dict(meta=dict(dataset_meta=rhd))
    with pytest.raises(CheckpointMismatch, match=r'(?s)kl.pth \(trained on rhd2d\) and the test '
                       r'dataset \(onehand10k\) have the same keypoints in another order:\n'
                       r'.*thumb4, thumb3.*\n.*thumb1, thumb2'):
        check_keypoints_match(checkpoint, 'kl.pth', onehand)
    check_keypoints_match(dict(meta=dict(dataset_meta=onehand)), 'kl.pth', onehand)
    check_keypoints_match(dict(meta=dict()), 'kl.pth', onehand)  # nothing to compare
