"""The mean teacher (UDAPE's consistency) and RegDA + mean teacher: the views and the warp
between them, the EMA, the confidence mask, the occlusion, and target labels kept out."""
import copy
import math

import numpy as np
import pytest
import torch

from mmpose.structures import PoseDataSample
from mmpose_regda.datasets.transforms import MeanTeacherViews, PackMeanTeacherInputs
from mmpose_regda.models.task_modules import MeanTeacherConsistency
from mmpose_regda.models.utils import view_to_view_matrices, warp_heatmaps
from tiny_regda import (INPUT_SIZE, NUM_KEYPOINTS, assert_target_labels_never_matter,
                        build_optim_wrapper, build_tiny_regda, make_two_domain_batch)


def affine_about_centre(angle_degrees, scale, centre):
    """Rotation by ``angle_degrees`` and scaling by ``scale`` about ``centre``, (3, 3)."""
    angle = math.radians(angle_degrees)
    linear = scale * np.array([[math.cos(angle), -math.sin(angle)],
                               [math.sin(angle), math.cos(angle)]])
    affine = np.eye(3)
    affine[:2, :2] = linear
    affine[:2, 2] = np.asarray(centre) - linear @ np.asarray(centre)
    return affine


def sample_with_warps(teacher_warp, student_warp):
    return PoseDataSample(metainfo=dict(teacher_warp=np.asarray(teacher_warp, np.float32),
                                        student_warp=np.asarray(student_warp, np.float32)))


def gaussian_heatmap(x, y, size, sigma=1.):
    ys, xs = torch.meshgrid(torch.arange(size).float(), torch.arange(size).float(),
                            indexing='ij')
    return torch.exp(-((xs - x)**2 + (ys - y)**2) / (2 * sigma**2))


def test_a_keypoint_moved_by_a_known_rotation_and_scale_lands_where_it_should():
    """Teacher's view: the crop itself. Student's: rotated by 90 degrees and scaled by 2 about
    the centre of the 32x32 input. A keypoint at input (8, 12) (heatmap (4, 6) at stride 2) is at
    16 + 2 R90 ((8, 12) - 16) = (24, 0) in the student's input, heatmap (12, 0)."""
    crop = np.eye(3)
    student = affine_about_centre(90, 2., (16., 16.)) @ crop
    matrices = view_to_view_matrices([sample_with_warps(crop, student)], (32, 32), (16, 16))
    assert torch.allclose(matrices[0] @ torch.tensor([4., 6., 1.]), torch.tensor([12., 0., 1.]),
                          atol=1e-5)
    heatmaps = gaussian_heatmap(4., 6., 16)[None, None]
    warped = warp_heatmaps(heatmaps, matrices)
    peak = int(warped.flatten().argmax())
    assert (peak % 16, peak // 16) == (12, 0)
    # scaled by 2: a pixel next to the peak reads the teacher's map half a pixel away,
    # bilinearly between its values at 0 and 1 pixel (1 and exp(-1/2))
    assert warped[0, 0, 0, 13] / warped[0, 0, 0, 12] == pytest.approx(
        (1 + math.exp(-1 / 2)) / 2, abs=1e-5)
    # both views moved: only the affine between them counts
    base = affine_about_centre(30, 0.7, (10., 20.))
    shifted = view_to_view_matrices([sample_with_warps(crop @ base, student @ base)], (32, 32),
                                    (16, 16))
    assert torch.allclose(shifted, matrices, atol=1e-4)


def test_the_views_record_the_affine_between_them():
    """A bright dot drawn in the image: where the student's view shows it is where the recorded
    warps carry it from the teacher's view."""
    image = np.zeros((120, 160, 3), np.uint8)
    image[50:53, 90:93] = 255  # the dot's centre at (91, 51)
    views = MeanTeacherViews(input_size=(64, 64), photometric=[])
    np.random.seed(3)
    results = views(dict(img=image, bbox_center=np.array([[80., 60.]]),
                         bbox_scale=np.array([[100., 100.]])))

    def dot(view):
        gray = view.astype(np.float64).sum(-1)
        ys, xs = np.nonzero(gray > 0.3 * gray.max())
        weights = gray[ys, xs]
        return np.array([(xs * weights).sum(), (ys * weights).sum()]) / weights.sum()

    relative = results['student_warp'] @ np.linalg.inv(results['teacher_warp'])
    expected = (relative @ np.append(dot(results['teacher_img']), 1.))[:2]
    assert np.abs(dot(results['img']) - expected).max() < 1.
    # each view's warp maps the dot of the image to where that view shows it
    for key, warp in (('img', 'student_warp'), ('teacher_img', 'teacher_warp')):
        assert np.abs(dot(results[key]) - (results[warp] @ [91., 51., 1.])[:2]).max() < 1.
    # the views differ: they drew their own affines
    assert not np.allclose(results['student_warp'], results['teacher_warp'])
    packed = PackMeanTeacherInputs()(results)
    assert packed['inputs'].shape == packed['teacher_inputs'].shape == (3, 64, 64)
    assert np.array_equal(packed['data_samples'].metainfo['student_warp'],
                          results['student_warp'])


def test_the_mask_keeps_the_keypoints_above_the_batch_quantile():
    """UDAPE: the k-th smallest confidence, k = 0.5 x 4, is the threshold; strictly above it
    is kept."""
    consistency = MeanTeacherConsistency(mask_quantile=0.5)
    confidence = torch.tensor([[0.1, 0.9], [0.5, 0.3]])
    assert torch.equal(consistency.mask(confidence), torch.tensor([[0., 1.], [1., 0.]]))
    assert torch.equal(MeanTeacherConsistency(mask_quantile=0.).mask(confidence),
                       torch.ones(2, 2))
    assert torch.equal(MeanTeacherConsistency(mask_quantile=0.75).mask(confidence),
                       torch.tensor([[0., 1.], [0., 0.]]))


def test_targets_are_gaussians_at_the_warped_peaks_with_their_confidence():
    consistency = MeanTeacherConsistency(sigma=1.)
    peaked = gaussian_heatmap(3., 5., 16, sigma=1.)
    flat = torch.ones(16, 16)
    probs = torch.stack([peaked / peaked.sum(), flat / flat.sum()])[None]
    identity = torch.eye(3)[None]
    targets = consistency.targets(probs, identity)
    assert targets.keypoints[0, 0].tolist() == [3, 5]
    # a peak as sharp as a training target's has confidence 1; a flat map 1 / (its peak x 256)
    assert targets.confidence[0, 0] == pytest.approx(1., rel=1e-2)  # (untruncated tails)
    target_peak = consistency.target_peak(16, 16)
    assert targets.confidence[0, 1] == pytest.approx(1 / 256 / target_peak, rel=1e-5)
    # the codec's Gaussian at (3, 5), cut at 3 sigma along each axis, normalised
    positions = torch.arange(16.)
    gx = torch.exp(-(positions - 3)**2 / 2) * ((positions - 3).abs() <= 3)
    gy = torch.exp(-(positions - 5)**2 / 2) * ((positions - 5).abs() <= 3)
    expected = gy[:, None] * gx[None]
    assert torch.allclose(targets.heatmaps[0, 0], expected / expected.sum(), atol=1e-7)


def test_occlusion_covers_a_confident_keypoint_with_a_patch_of_the_same_image():
    consistency = MeanTeacherConsistency(occlusion_prob=1., occlusion_confidence=0.9,
                                         occlusion_size=2 / 32)
    inputs = torch.arange(2 * 1 * 32 * 32, dtype=torch.float32).reshape(2, 1, 32, 32)
    keypoints = torch.tensor([[[10., 12.], [25., 25.]], [[5., 5.], [20., 8.]]])
    confidence = torch.tensor([[0.95, 0.2], [0.5, 0.3]])  # one confident keypoint, image 0
    occluded = consistency.occlude(inputs, keypoints, confidence,
                                   generator=torch.Generator().manual_seed(0))
    changed = (occluded != inputs).nonzero()
    assert len(changed) > 0 and set(changed[:, 0].tolist()) == {0}  # image 1: none confident
    ys, xs = changed[:, 2], changed[:, 3]
    assert xs.min() >= 8 and xs.max() < 12 and ys.min() >= 10 and ys.max() < 14  # the 4x4 square
    assert torch.equal(inputs, torch.arange(2048, dtype=torch.float32).reshape(2, 1, 32, 32))
    never = MeanTeacherConsistency(occlusion_prob=0.).occlude(inputs, keypoints, confidence)
    assert torch.equal(never, inputs)


def mean_teacher_batch(seed=0, batch_size=2, rotate=True):
    """The tiny models' two-domain batch, the target with a teacher's view and the warps."""
    batch = make_two_domain_batch(batch_size=batch_size, seed=seed)
    generator = torch.Generator().manual_seed(seed + 100)
    target = batch['target']
    target['teacher_inputs'] = [torch.randint(0, 256, (3, INPUT_SIZE, INPUT_SIZE),
                                              generator=generator, dtype=torch.uint8)
                                for _ in range(batch_size)]
    for i, sample in enumerate(target['data_samples']):
        student = affine_about_centre(20. * (i + 1) if rotate else 0., 1.1, (16., 16.))
        sample.set_metainfo(dict(teacher_warp=np.eye(3, dtype=np.float32),
                                 student_warp=student.astype(np.float32)))
    return batch


def build_mean_teacher(method='MeanTeacherPoseEstimator', **mean_teacher):
    settings = dict(momentum=0.5, occlusion_prob=0.)
    settings.update(mean_teacher)
    if method == 'MeanTeacherPoseEstimator':
        return build_tiny_regda(type=method, mean_teacher=settings)
    return build_tiny_regda(mean_teacher=settings)


@pytest.mark.parametrize('channels_last', [False, True])
def test_the_teacher_is_the_ema_of_the_student_by_hand(channels_last):
    """Iteration 1: the teacher becomes the student, then the student steps and the teacher
    takes momentum x the student: teacher = (1 - m) student_0 + m student_1 (m = 0.5), buffers
    alike. Also after ``ChannelsLastHook`` converted the model once built (mmengine's EMA keeps
    the state dict of its construction, whose tensors the conversion replaces)."""
    model = build_mean_teacher()
    if channels_last:
        model.to(memory_format=torch.channels_last)
    names = [n for n, _ in model.student_modules().named_parameters()]
    student_0 = {n: p.detach().clone() for n, p in model.student_modules().state_dict().items()}
    log = model.train_step(mean_teacher_batch(), build_optim_wrapper(model))
    assert int(model.teacher.steps) == 2 and log['loss_consistency'] > 0
    student_1 = model.student_modules().state_dict()
    teacher = model.teacher.module.state_dict()
    moved = 0
    for name, value in teacher.items():
        if value.is_floating_point():
            expected = 0.5 * student_0[name] + 0.5 * student_1[name]
            assert torch.allclose(value, expected, atol=1e-6), name
            moved += name in names and not torch.equal(student_0[name], student_1[name])
    assert moved > 0
    # the teacher is no part: no optimizer, no gradient
    assert 'teacher' not in str(model.optim_parts())
    assert all(not p.requires_grad for p in model.teacher.parameters())


@pytest.mark.parametrize('method', ['MeanTeacherPoseEstimator', 'RegDAPoseEstimator'])
def test_target_labels_never_reach_a_loss(method, monkeypatch):
    import tiny_regda
    monkeypatch.setattr(tiny_regda, 'make_two_domain_batch',
                        lambda batch_size=2, seed=0, **kw: mean_teacher_batch(seed, batch_size))
    assert_target_labels_never_matter(lambda: build_mean_teacher(method, occlusion_prob=1.,
                                                                 occlusion_confidence=0.))


def test_regda_with_a_mean_teacher_adds_the_consistency_to_objective_1(monkeypatch):
    """RegDA + mean teacher: Objective 1 carries the consistency (psi, f and f' update in it), the
    game's objectives stay RegDA's, and the teacher's predictions can be evaluated."""
    model = build_mean_teacher('RegDAPoseEstimator')
    log = model.train_step(mean_teacher_batch(), build_optim_wrapper(model))
    assert {'loss_consistency', 'loss_ground_false', 'loss_ground_truth'} <= set(log)
    assert 0 < float(log['consistency_kept']) <= 1
    model.eval()
    model.test_cfg['teacher_predictions'] = True
    batch = model.data_preprocessor(make_two_domain_batch(seed=3)['source'], False)
    samples = model.predict(batch['inputs'], batch['data_samples'])
    teacher = samples[0].teacher_pred_instances.keypoints
    assert teacher.shape == samples[0].pred_instances.keypoints.shape == (1, NUM_KEYPOINTS, 2)


def test_methods_without_a_mean_teacher_refuse_one_and_a_batch_without_views_is_named():
    with pytest.raises(ValueError, match='FeatureAlignmentPoseEstimator has no mean teacher'):
        build_tiny_regda(type='FeatureAlignmentPoseEstimator', mean_teacher=dict(),
                         alignment=dict(type='MultiKernelMMDLoss'))
    model = build_mean_teacher()
    with pytest.raises(ValueError, match='no teacher_inputs.*MeanTeacherViews'):
        model.train_step(make_two_domain_batch(), build_optim_wrapper(model))
    model = build_tiny_regda()
    model.test_cfg['teacher_predictions'] = True
    model.eval()
    batch = model.data_preprocessor(make_two_domain_batch(seed=3)['source'], False)
    with pytest.raises(ValueError, match='reads the mean teacher.*has none'):
        model.predict(batch['inputs'], batch['data_samples'])


def test_accumulation_steps_the_teacher_once_per_window():
    model = build_mean_teacher()
    optim_wrapper = build_optim_wrapper(model, accumulative_counts=2)
    optim_wrapper.initialize_count_status(model, 0, 4)
    steps = []
    for i in range(4):
        model.train_step(mean_teacher_batch(seed=i), optim_wrapper)
        steps.append(int(model.teacher.steps))
    # the copy at iteration 1, then an EMA step where the parts step (iterations 2 and 4)
    assert steps == [1, 2, 2, 3]
    assert copy.deepcopy(model.teacher).steps == 3
