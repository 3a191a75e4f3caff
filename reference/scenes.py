"""Multi-digit scenes (8.4) for the PyTorch reference: the same generator as ``scratch.scenes``.

The scenes are data, not arithmetic to compare, so (like ``reference.multi_digit``
and ``reference.mnist``) this module re-exports the NumPy generator instead of
re-deriving it: both backends' segmentation and detection networks train and
test on exactly the same images, masks and boxes for a seed. They are NumPy
arrays; torch code converts them itself (``torch.from_numpy(x)``). Read
``scratch/scenes.py`` for the canvas, the draws, the mask's threshold and
overlap rule, and the box conventions.
"""

from scratch.scenes import (BACKGROUND, MASK_THRESHOLD, MAX_IOU, MAX_SCENE_DIGITS, NUM_CLASSES, SCENE_SIZE,
                            MultiDigitScenes, ground_truth, load_scenes, make_scenes)

__all__ = ["BACKGROUND", "NUM_CLASSES", "SCENE_SIZE", "MAX_SCENE_DIGITS", "MASK_THRESHOLD", "MAX_IOU",
           "MultiDigitScenes", "make_scenes", "load_scenes", "ground_truth"]
