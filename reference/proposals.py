"""Region proposals and R-CNN's training proposals (8.4) for the PyTorch reference: ``scratch.proposals``.

Proposals, their warped crops, labels and regression targets are data, not
arithmetic to compare (like ``reference.scenes``): this module re-exports the
NumPy functions instead of re-deriving them, so both backends' R-CNN and Fast
R-CNN train and test on exactly the same proposals for the same scenes. They
are NumPy arrays; torch code converts them itself (``torch.from_numpy(x)``).
Read ``scratch/proposals.py`` for the method, its measured recall, the warp
and the labelling rules; its tests compare the warp with
``torchvision.ops.roi_align`` and the labels with ``torchvision.ops.box_iou``.
"""

from scratch.proposals import (BG_IOU, CONTEXT, FG_FRACTION, FG_IOU, GRID, IGNORE, MAX_ASPECT, MAX_GROUP, MAX_PIECES,
                               MAX_SIDE, MIN_HEIGHT, STROKE_THRESHOLD, WARP_SIZE, ProposalSet, connected_components,
                               label_proposals, propose, propose_scenes, proposal_set, sample_proposals, warp)

__all__ = ["STROKE_THRESHOLD", "MAX_GROUP", "MAX_PIECES", "GRID", "MIN_HEIGHT", "MAX_SIDE", "MAX_ASPECT", "CONTEXT",
           "WARP_SIZE", "FG_IOU", "BG_IOU", "FG_FRACTION", "IGNORE", "ProposalSet", "connected_components", "propose",
           "propose_scenes", "warp", "label_proposals", "sample_proposals", "proposal_set"]
