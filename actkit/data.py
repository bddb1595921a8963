"""Dataset loaders for the course: MNIST and Fashion-MNIST as NumPy arrays.

Where the data comes from, in this order (the first place that has it wins):

1. ``path=`` given to the loader: a folder holding the IDX files, or a folder with a
   ``mnist/`` or ``fashion-mnist/`` sub-folder that holds them;
2. the ``COURSE_DATA_DIR`` environment variable, read the same way (CI and ``make`` point it
   at ``../shared/data``);
3. for Fashion-MNIST, Debian's ``dataset-fashion-mnist`` package
   (``/usr/share/datasets/fashion-mnist``);
4. Keras' own download (``keras.datasets.<name>.load_data()``), which needs a network
   connection (Colab has one; the course's tests never use it).

When only the official 10,000-image MNIST *test* set is available (the offline mirror),
the loader splits it into train and test parts, stratified by class with a fixed seed, and
says so in ``Dataset.description`` (and prints it unless ``verbose=False``).

Example::

    from actkit.data import load_mnist
    (x_train, y_train), (x_test, y_test) = load_mnist()
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = [
    "Dataset",
    "DatasetNotFoundError",
    "DEBIAN_FASHION_MNIST_DIR",
    "load_fashion_mnist",
    "load_mnist",
    "read_idx",
    "stratified_split",
]

DEBIAN_FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
ENV_VAR = "COURSE_DATA_DIR"

TRAIN_IMAGES = "train-images-idx3-ubyte.gz"
TRAIN_LABELS = "train-labels-idx1-ubyte.gz"
TEST_IMAGES = "t10k-images-idx3-ubyte.gz"
TEST_LABELS = "t10k-labels-idx1-ubyte.gz"

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}

_HOW_TO_GET = {
    "mnist": (
        "MNIST: put t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz (and, if you have them, "
        "the train-* files) in a folder and pass path=... or set COURSE_DATA_DIR to its parent "
        "(the course repository expects ../shared/data); online, allow the Keras download."
    ),
    "fashion-mnist": (
        "Fashion-MNIST: `sudo apt-get install dataset-fashion-mnist` (Debian/Ubuntu), or put the four "
        "IDX files in <folder>/fashion-mnist and set COURSE_DATA_DIR=<folder>; online, allow the "
        "Keras download."
    ),
}


class DatasetNotFoundError(FileNotFoundError):
    """Raised when a dataset is in none of the places the loader looks."""


@dataclass
class Dataset:
    """Train and test arrays plus a note on where they came from.

    Unpacks like Keras' ``load_data()``: ``(x_train, y_train), (x_test, y_test) = dataset``.
    Images are ``uint8`` arrays of shape ``(N, 28, 28)``; labels are ``uint8`` of shape ``(N,)``.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    name: str
    source: str
    description: str
    class_names: list[str] = field(default_factory=list)

    def __iter__(self):
        return iter(((self.x_train, self.y_train), (self.x_test, self.y_test)))


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (optionally gzip-compressed) into a NumPy array.

    Args:
        path: the ``.gz`` or raw IDX file.

    Returns:
        An array with the shape and dtype the IDX header declares.

    Raises:
        ValueError: if the header is malformed or the data does not match it.

    Example:
        >>> images = read_idx("t10k-images-idx3-ubyte.gz")  # doctest: +SKIP
        >>> images.shape
        (10000, 28, 28)
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        raw = fh.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"{path} is not an IDX file (bad magic number)")
    ndim = raw[3]
    header_end = 4 + 4 * ndim
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header_end != expected:
        raise ValueError(f"{path}: header says {shape} ({expected} bytes) but {len(raw) - header_end} follow")
    return np.frombuffer(raw, dtype=dtype, offset=header_end).reshape(shape).astype(dtype.newbyteorder("="))


def stratified_split(
    labels: np.ndarray, test_fraction: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a train/test split that keeps each class's share (largest-remainder rounding).

    Args:
        labels: 1-D array of class labels.
        test_fraction: share of samples that go to the test part, in (0, 1).
        seed: seed of the shuffle; the same seed gives the same split.

    Returns:
        ``(train_idx, test_idx)``: disjoint, sorted index arrays covering every sample.

    Example:
        >>> train_idx, test_idx = stratified_split(np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 1]), 0.5)
        >>> len(test_idx)
        5
    """
    labels = np.asarray(labels)
    if not 0 < test_fraction < 1:
        raise ValueError("test_fraction must be between 0 and 1")
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(labels, return_counts=True)
    n_test = round(len(labels) * test_fraction)
    exact = counts * n_test / len(labels)
    per_class = np.floor(exact).astype(int)
    leftover = n_test - per_class.sum()
    per_class[np.argsort(-(exact - per_class), kind="stable")[:leftover]] += 1
    test_parts = []
    for cls, k in zip(classes, per_class, strict=True):
        idx = np.flatnonzero(labels == cls)
        test_parts.append(rng.permutation(idx)[:k])
    test_idx = np.sort(np.concatenate(test_parts))
    train_idx = np.setdiff1d(np.arange(len(labels)), test_idx)
    return train_idx, test_idx


def _candidate_dirs(name: str, path: str | os.PathLike | None) -> list[tuple[str, Path]]:
    """The folders to look in, in order, each with a label saying why it is on the list."""
    found: list[tuple[str, Path]] = []

    def add(label: str, base: Path) -> None:
        for folder in (base, base / name):
            found.append((label, folder))

    if path is not None:
        add("path argument", Path(path).expanduser())
    env = os.environ.get(ENV_VAR)
    if env:
        add(f"${ENV_VAR}", Path(env).expanduser())
    if name == "fashion-mnist":
        found.append(("Debian dataset-fashion-mnist", DEBIAN_FASHION_MNIST_DIR))
    return found


def _display_path(folder: Path) -> str:
    """The folder as a reader should see it: relative to the working folder when the two share more
    than the file-system root (so that notebook outputs are the same in every clone of the course),
    absolute otherwise (system folders such as Debian's)."""
    folder = folder.resolve()
    cwd = Path.cwd().resolve()
    if os.path.commonpath([folder, cwd]) == folder.anchor:
        return str(folder)
    return os.path.relpath(folder, cwd)


def _load_local(folder: Path, name: str, test_fraction: float, seed: int, train: bool) -> Dataset | None:
    if not (folder / TEST_IMAGES).is_file() or not (folder / TEST_LABELS).is_file():
        return None
    x_test, y_test = read_idx(folder / TEST_IMAGES), read_idx(folder / TEST_LABELS)
    if len(x_test) != len(y_test):
        raise ValueError(f"{folder}: {len(x_test)} images but {len(y_test)} labels")
    pretty = f"{_PRETTY[name]} from {_display_path(folder)}"
    if (folder / TRAIN_IMAGES).is_file() and (folder / TRAIN_LABELS).is_file():
        if not train:  # the training files are the large ones: not even read
            return Dataset(*_no_train(), x_test, y_test, name, str(folder), f"{pretty}: official split, "
                           f"{len(x_test):,} test images (training part not loaded: train=False).",
                           list(_CLASSES[name]))
        x_train, y_train = read_idx(folder / TRAIN_IMAGES), read_idx(folder / TRAIN_LABELS)
        description = (
            f"{pretty}: official split, {len(x_train):,} train / {len(x_test):,} test images."
        )
    else:
        train_idx, test_idx = stratified_split(y_test, test_fraction, seed)
        x_train, y_train = x_test[train_idx], y_test[train_idx]
        x_test, y_test = x_test[test_idx], y_test[test_idx]
        description = (
            f"{pretty}: only the official {len(train_idx) + len(test_idx):,}-image test set "
            f"is available offline, so it was split {len(train_idx):,} train / {len(test_idx):,} test "
            f"(stratified by class, seed {seed})."
        )
    dataset = Dataset(x_train, y_train, x_test, y_test, name, str(folder), description, list(_CLASSES[name]))
    return dataset if train else _without_train(dataset)


def _no_train() -> tuple[np.ndarray, np.ndarray]:
    return np.empty((0, 28, 28), dtype=np.uint8), np.empty((0,), dtype=np.uint8)


def _without_train(dataset: Dataset) -> Dataset:
    """``train=False``: the test part only (the same arrays as with the training part)."""
    dataset.x_train, dataset.y_train = _no_train()
    dataset.description += " Training part not loaded (train=False)."
    return dataset


def _load_keras(name: str) -> Dataset:
    import keras  # imported here: it is slow and only needed online

    module = keras.datasets.mnist if name == "mnist" else keras.datasets.fashion_mnist
    (x_train, y_train), (x_test, y_test) = module.load_data()
    description = (
        f"{_PRETTY[name]} from the Keras download: {len(x_train):,} train / {len(x_test):,} test images."
    )
    return Dataset(x_train, y_train, x_test, y_test, name, "keras", description, list(_CLASSES[name]))


_PRETTY = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}
_CLASSES = {
    "mnist": [str(d) for d in range(10)],
    "fashion-mnist": [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ],
}


def _load(name, path, download, test_fraction, seed, verbose, train) -> Dataset:
    looked = []
    for label, folder in _candidate_dirs(name, path):
        dataset = _load_local(folder, name, test_fraction, seed, train)
        if dataset is not None:
            break
        looked.append(f"  - {folder} ({label}): no {TEST_IMAGES} / {TEST_LABELS}")
    else:
        if not download:
            looked.append("  - Keras download: not tried (download=False)")
            dataset = None
        else:
            try:
                dataset = _load_keras(name) if train else _without_train(_load_keras(name))
            except Exception as exc:  # noqa: BLE001 - any failure here means "not available"
                looked.append(f"  - Keras download: failed ({type(exc).__name__}: {exc})")
                dataset = None
        if dataset is None:
            if not any("path argument" in line or ENV_VAR in line for line in looked):
                looked.insert(0, f"  - no path argument and ${ENV_VAR} is not set")
            raise DatasetNotFoundError(
                f"{_PRETTY[name]} was not found. Looked in:\n" + "\n".join(looked) + "\nTo get it: "
                + _HOW_TO_GET[name]
            ) from None
    if verbose:
        print(dataset.description)
    return dataset


def load_mnist(
    path: str | os.PathLike | None = None,
    *,
    download: bool = True,
    test_fraction: float = 0.2,
    seed: int = 0,
    verbose: bool = True,
    train: bool = True,
) -> Dataset:
    """Load MNIST as uint8 arrays ``(N, 28, 28)`` and labels ``(N,)``.

    Args:
        path: a folder with the IDX files (or with a ``mnist/`` sub-folder); optional.
        download: whether to fall back to Keras' download when no local copy is found.
        test_fraction: share kept for testing when only the official test set is available.
        seed: seed of that stratified split.
        verbose: print where the data came from and how it was split.
        train: False loads the test part only (``x_train`` and ``y_train`` are empty; the test
            arrays are the same as with the training part), for code that only evaluates.

    Returns:
        A :class:`Dataset`; unpack it as ``(x_train, y_train), (x_test, y_test)``.

    Raises:
        DatasetNotFoundError: naming every place looked and how to get the data.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_mnist("../shared/data")  # doctest: +SKIP
        MNIST from ../shared/data/mnist: only the official 10,000-image test set is available ...
    """
    return _load("mnist", path, download, test_fraction, seed, verbose, train)


def load_fashion_mnist(
    path: str | os.PathLike | None = None,
    *,
    download: bool = True,
    test_fraction: float = 0.2,
    seed: int = 0,
    verbose: bool = True,
    train: bool = True,
) -> Dataset:
    """Load Fashion-MNIST as uint8 arrays ``(N, 28, 28)`` and labels ``(N,)``.

    Same arguments, order of places and errors as :func:`load_mnist`; Debian's
    ``dataset-fashion-mnist`` package (full 60k/10k split) is looked at before the download.
    ``Dataset.class_names`` holds the ten clothing names.

    Example:
        >>> data = load_fashion_mnist(verbose=False)  # doctest: +SKIP
        >>> data.x_train.shape
        (60000, 28, 28)
    """
    return _load("fashion-mnist", path, download, test_fraction, seed, verbose, train)
