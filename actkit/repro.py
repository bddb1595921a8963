"""Reproducibility: seed every random number generator the course uses in one call."""

from __future__ import annotations

import os
import random
import sys

import numpy as np

__all__ = ["set_seeds"]


def set_seeds(seed: int = 0, *, tensorflow: bool | None = None, deterministic_ops: bool = False) -> None:
    """Seed Python's ``random``, NumPy's global generator and, if wanted, TensorFlow/Keras.

    Args:
        seed: the seed for every generator.
        tensorflow: seed TensorFlow and Keras too. ``None`` (default) does so only when
            TensorFlow or Keras is already imported, so NumPy-only notebooks stay fast.
        deterministic_ops: also ask TensorFlow for deterministic kernels
            (``tf.config.experimental.enable_op_determinism``): bit-identical training runs
            on the same machine, at some cost in speed.

    Returns:
        None.

    Example:
        >>> set_seeds(42)
        >>> a = np.random.rand(3); set_seeds(42); bool((a == np.random.rand(3)).all())
        True
    """
    os.environ["PYTHONHASHSEED"] = str(seed)  # for subprocesses started from here
    random.seed(seed)
    np.random.seed(seed)
    if tensorflow is None:
        tensorflow = "tensorflow" in sys.modules or "keras" in sys.modules
    if tensorflow:
        import keras
        import tensorflow as tf

        keras.utils.set_random_seed(seed)  # python, numpy and tf in one go
        tf.random.set_seed(seed)
        if deterministic_ops:
            tf.config.experimental.enable_op_determinism()
