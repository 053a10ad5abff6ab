# The shared 21-keypoint hand definition of the paper's hand tasks: wrist, then each finger from
# base to tip (thumb 1-4, index 5-8, middle 9-12, ring 13-16, little 17-20). It is FreiHand's
# order (mmpose's freihand2d); RHD files, which go tip to base, are reordered when loaded.
_base_ = ['mmpose::_base_/datasets/freihand2d.py']

dataset_info = dict(
    dataset_name='hand21',
    paper_info=dict(
        author='Jiang, Junguang and Ji, Yifei and Wang, Ximei and Liu, Yufeng and Wang, Jianmin '
        'and Long, Mingsheng',
        title='Regressive Domain Adaptation for Unsupervised Keypoint Detection',
        container='CVPR',
        year='2021',
        homepage=''),
    # the paper's PCK groups (Table 2); Avg is over all 21 keypoints
    part_groups=dict(
        MCP=[1, 5, 9, 13, 17],
        PIP=[2, 6, 10, 14, 18],
        DIP=[3, 7, 11, 15, 19],
        Fingertip=[4, 8, 12, 16, 20]))
