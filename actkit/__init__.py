"""actkit: the shared helpers of the activation-functions course.

Modules (import them by name, e.g. ``from actkit.data import load_mnist``):

- :mod:`actkit.data`: MNIST / Fashion-MNIST loaders that work offline and online;
- :mod:`actkit.repro`: ``set_seeds`` for Python, NumPy and TensorFlow;
- :mod:`actkit.plotting`, :mod:`actkit.interactive`: figures shared by the notebooks;
- :mod:`actkit.instructor`: the instructor's tools around the course (``notebooks``, ``demo``, ``release``,
  ``site``, ``course``: the Colab setting, ``publish``: the student repository, ``mathjax``: formulas typeset
  offline); students never import it;
- :mod:`actkit.grading`: the grading side (an optional extra, ``pip install actkit[grading]``); the
  modules above it that students use import nothing from it.

No reference solution lives in this package.
"""

__version__ = "0.1.0"
