"""actkit: the shared helpers of the activation-functions course.

Modules (import them by name, e.g. ``from actkit.data import load_mnist``):

- :mod:`actkit.data`: MNIST / Fashion-MNIST loaders that work offline and online;
- :mod:`actkit.repro`: ``set_seeds`` for Python, NumPy and TensorFlow;
- :mod:`actkit.plotting`, :mod:`actkit.interactive`: figures shared by the notebooks;
- :mod:`actkit.notebooks`, :mod:`actkit.demo`, :mod:`actkit.release`, :mod:`actkit.site`,
  :mod:`actkit.course` (the Colab setting), :mod:`actkit.publish` (the student repository): instructor tools;
  :mod:`actkit.mathjax`: formulas typeset offline in the HTML nbconvert writes (site, feedback, formgrader);
- :mod:`actkit.grading`: the grading side (an optional extra, ``pip install actkit[grading]``); the
  modules above it that students use import nothing from it.

No reference solution lives in this package.
"""

__version__ = "0.1.0"
