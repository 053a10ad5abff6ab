"""Checks of a COCO annotation file as a whole, against the dataset that reads it.

Made by the plugin's datasets when they read a file, before any record is used, for mistakes
that would otherwise train on wrong data without a word:

- :func:`check_unique_ids`: mmpose's ``COCO`` (xtcocotools) indexes images and annotations by
  ``id``: with a duplicated image id one image disappears and its annotations are read on the
  other; with a duplicated annotation id one annotation is read twice and the other never;
- :func:`check_category_keypoints`: a file of another kind of keypoints (COCO persons, 17
  keypoints, given to a hand dataset of 21) is refused by its ``categories``, whose
  ``keypoints`` list the names of the file's keypoints. A file whose categories list no
  keypoints (a boxes-only target) is not checked.
"""
import logging
from collections import Counter
from typing import List, Sequence

from mmengine.logging import print_log

# what goes wrong with a duplicated id, by field
_DUPLICATE_EFFECT = {
    'images': 'annotations refer to their image by id: one of the images would be dropped and '
    'its annotations read on the other',
    'annotations': 'annotations are read by id: one would be read twice and the other never'
}


def _shown(items: Sequence, limit: int = 5) -> str:
    return ', '.join(map(repr, items[:limit])) + (', ...' if len(items) > limit else '')


def check_unique_ids(ann_file: str, coco: dict, field: str) -> None:
    """Raise if two records of ``coco[field]`` (``'images'`` or ``'annotations'``) share an id.

    Raises:
        ValueError: naming the file, the field and the duplicated ids.
    """
    records = coco.get(field) if isinstance(coco, dict) else None
    try:
        counts = Counter(record['id'] for record in records or [])
    except (KeyError, TypeError):
        return  # records without a usable id: left to the reader, which names them
    duplicated = [i for i, n in counts.items() if n > 1]
    if duplicated:
        raise ValueError(
            f'{ann_file}: `{field}` has duplicated ids: {_shown(duplicated)} (used by '
            f'{sum(counts[i] for i in duplicated)} records); expected each id once '
            f'({_DUPLICATE_EFFECT[field]})')


def metainfo_keypoint_names(metainfo: dict) -> List[str]:
    """The keypoint names of a parsed metainfo, in its order."""
    names = metainfo.get('keypoint_id2name', {})
    return [names.get(i, str(i)) for i in range(metainfo['num_keypoints'])]


def check_category_keypoints(ann_file: str, coco: dict, metainfo: dict,
                             keypoints_read: bool = True) -> None:
    """Compare each category's ``keypoints`` names with the dataset's metainfo.

    Another count is an error: the file describes other keypoints. The same count under other
    names is a warning only, for a dataset that reads the keypoints (files name keypoints in
    many ways): they are read by position. Names are compared as a set: mmpose's RHD files list
    them in another order than their data.

    Args:
        ann_file (str): the file, for messages.
        coco (dict): its content.
        metainfo (dict): the parsed metainfo of the dataset reading it.
        keypoints_read (bool): False for a target dataset, which reads only the boxes: its
            error says how to use the boxes of such a file anyway.

    Raises:
        ValueError: naming the file, the category, the count found and the count and names
            expected.
    """
    categories = coco.get('categories') if isinstance(coco, dict) else None
    if not isinstance(categories, list):
        return
    expected = metainfo_keypoint_names(metainfo)
    dataset = metainfo.get('dataset_name', '')
    for i, category in enumerate(categories):
        names = category.get('keypoints') if isinstance(category, dict) else None
        if not names or not isinstance(names, list):  # a boxes-only file: nothing to compare
            continue
        field = f'`categories[{i}].keypoints` (category {category.get("name")!r})'
        if len(names) != len(expected):
            hint = ('give an annotation file of these keypoints, or the metainfo of its own' if
                    keypoints_read else 'a target file of another kind of object (its boxes '
                    'would crop the wrong thing); if its boxes are what you mean, remove '
                    '`keypoints` from its categories')
            raise ValueError(
                f'{ann_file}: {field} lists {len(names)} keypoints ({_shown(names, 3)}); '
                f'expected the {len(expected)} keypoints of the metainfo {dataset!r} '
                f'({_shown(expected, 3)}): {hint}')
        unknown = [name for name in names if name not in expected]
        if unknown and keypoints_read:
            print_log(
                f'{ann_file}: {field} names {len(unknown)} keypoints that the metainfo '
                f'{dataset!r} does not ({_shown(unknown)}); expected its names '
                f'({_shown(expected, 3)}). They are read by position, as the metainfo\'s '
                'keypoints of the same index.', logger='current', level=logging.WARNING)
