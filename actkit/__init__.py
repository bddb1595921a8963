"""actkit: the shared helpers of the activation-functions course.

Modules (import them by name, e.g. ``from actkit.data import load_mnist``):

- :mod:`actkit.data`: MNIST / Fashion-MNIST loaders that work offline and online;
- :mod:`actkit.repro`: ``set_seeds`` for Python, NumPy and TensorFlow;
- :mod:`actkit.plotting`: figures shared by the notebooks;
- :mod:`actkit.notebooks`, :mod:`actkit.nbgrader_ext`, :mod:`actkit.demo`: instructor-side grading tools.

No reference solution lives in this package.
"""

__version__ = "0.1.0"
