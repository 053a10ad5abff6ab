# The 16-keypoint body definition of the paper's body tasks, MPII's layout: r/l ankle, knee, hip,
# pelvis, thorax, upper neck, head top, r/l wrist, elbow, shoulder. SURREAL's SMPL joints,
# Human3.6M's joints and LSP's 14 joints are converted to it (LSP lacks pelvis and thorax:
# they are stored as invisible). PCK is reported on the keypoints all three datasets share.
_base_ = ['mmpose::_base_/datasets/mpii.py']

dataset_info = dict(
    dataset_name='body16',
    paper_info=dict(
        author='Jiang, Junguang and Ji, Yifei and Wang, Ximei and Liu, Yufeng and Wang, Jianmin '
        'and Long, Mingsheng',
        title='Regressive Domain Adaptation for Unsupervised Keypoint Detection',
        container='CVPR',
        year='2021',
        homepage=''),
    # the paper's PCK groups (Tables 4, 5); Avg is over these 12 shared keypoints
    part_groups=dict(
        Shoulder=[12, 13],
        Elbow=[11, 14],
        Wrist=[10, 15],
        Hip=[2, 3],
        Knee=[1, 4],
        Ankle=[0, 5]),
    avg_keypoints=[0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15])
