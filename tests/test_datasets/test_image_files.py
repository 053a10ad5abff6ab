"""The build-time image check: what it refuses and what it lets through, from the files' ends."""
import cv2
import numpy as np
import pytest

from mmpose_regda.datasets.image_files import image_file_problem


@pytest.mark.parametrize('name',
                         ['freihand/00000355.jpg', 'rhd/00111.png', 'coco/000000000785.jpg'])
def test_real_images_pass_and_their_truncations_do_not(pose_samples, tmp_path, name):
    data = (pose_samples / name).read_bytes()
    path = tmp_path / 'image'
    path.write_bytes(data)
    assert image_file_problem(str(path)) is None
    # data appended after the end marker (as some cameras do) is accepted
    path.write_bytes(data + b'\0' * 100)
    assert image_file_problem(str(path)) is None
    for size in (len(data) - 20, len(data) // 2, 1000):
        path.write_bytes(data[:size])
        kind, marker = (('PNG', 'the IEND chunk') if name.endswith('png') else
                        ('JPEG', 'the end-of-image marker FF D9'))
        assert image_file_problem(str(path)) == (
            f'is a {kind} cut short: {size} bytes, without {marker} at its end')


def test_other_formats_opencv_reads_pass(tmp_path):
    image = np.full((8, 8, 3), 100, np.uint8)
    for suffix in ('.bmp', '.tiff', '.webp'):
        assert cv2.imwrite(str(tmp_path / f'a{suffix}'), image)
        assert image_file_problem(str(tmp_path / f'a{suffix}')) is None, suffix
    assert image_file_problem(str(tmp_path / 'none.jpg')) == 'not found'
