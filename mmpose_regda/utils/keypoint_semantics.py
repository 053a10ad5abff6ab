"""Keypoint semantics across the datasets and the model of one run: the same keypoints, by name,
in the same order (a count alone lets RHD's tip-to-base order train against a base-to-tip test
set without a word)."""
from typing import Dict, List, Mapping, Optional


def keypoint_names(metainfo: Optional[Mapping]) -> Optional[List[str]]:
    """The keypoint names of an MMPose dataset metainfo, in index order (None if it has none)."""
    id2name = (metainfo or {}).get('keypoint_id2name')
    if not id2name:
        return None
    return [id2name[i] for i in sorted(id2name)]


def check_keypoint_semantics(names: Dict[str, Optional[List[str]]],
                             counts: Optional[Dict[str, int]] = None) -> None:
    """Raise unless every named source of keypoints agrees with the others.

    Args:
        names: where -> keypoint names in index order (None where unknown, e.g. a head).
        counts: where -> number of keypoints, for sources without names (the model's heads).

    Raises:
        ValueError: different counts (all named), the same names in another order (both
            orders named), or different names (both lists named), with what to change.
    """
    counts = dict(counts or {})
    counts.update({where: len(n) for where, n in names.items() if n is not None})
    if len(set(counts.values())) > 1:
        raise ValueError('the datasets and the model disagree on the number of keypoints: '
                         + ', '.join(f'{where} has {n}' for where, n in counts.items())
                         + "; set the heads' out_channels to the datasets' count and give "
                         'every dataset the same keypoint definition (metainfo)')
    known = [(where, n) for where, n in names.items() if n is not None]
    if not known:
        return
    ref_where, ref = known[0]
    for where, other in known[1:]:
        if other == ref:
            continue
        if sorted(other) == sorted(ref):
            raise ValueError(
                f'{ref_where} and {where} have the same keypoints in another order:\n'
                f'  {ref_where}: {", ".join(ref)}\n  {where}: {", ".join(other)}\n'
                'A model trained on one order scores the other wrong. Read both in one order: '
                "for hands, the plugin's SharedHandDataset reads files in the shared hand21 "
                "order (wrist, then each finger base to tip) and RHD's tip-to-base files with "
                "keypoint_order='rhd'; otherwise give the datasets one metainfo and convert the "
                "files' order.")
        only_ref = [n for n in ref if n not in other]
        only_other = [n for n in other if n not in ref]
        raise ValueError(
            f'{ref_where} and {where} name different keypoints:\n'
            f'  {ref_where}: {", ".join(ref)}\n  {where}: {", ".join(other)}\n'
            f'(only in the first: {", ".join(only_ref) or "-"}; only in the second: '
            f'{", ".join(only_other) or "-"}). Adaptation and evaluation need one keypoint '
            'definition: give every dataset the same metainfo, mapping the files to it.')
