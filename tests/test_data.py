"""The dataset loaders, on the real offline files and on missing ones (never downloading)."""

from __future__ import annotations

import gzip
import hashlib

import numpy as np
import pytest

from actkit import data
from actkit.data import DatasetNotFoundError, load_fashion_mnist, load_mnist, read_idx, stratified_split


@pytest.fixture
def no_env(monkeypatch):
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)


@pytest.fixture
def no_keras_download(monkeypatch):
    """Any attempt to use the Keras download fails the way it does offline."""

    def offline(name):
        raise OSError("network is unreachable")

    monkeypatch.setattr(data, "_load_keras", offline)


def test_offline_mnist_is_the_official_test_set(shared_data):
    folder = shared_data / "mnist"
    assert hashlib.md5((folder / "t10k-images-idx3-ubyte.gz").read_bytes()).hexdigest() == (
        "9fb629c4189551a2d022fa330f9573f3"
    )
    assert hashlib.md5((folder / "t10k-labels-idx1-ubyte.gz").read_bytes()).hexdigest() == (
        "ec29112dd5afa0611ce80d1b7f02629c"
    )


def test_read_idx_real_files(shared_data):
    images = read_idx(shared_data / "mnist" / "t10k-images-idx3-ubyte.gz")
    labels = read_idx(shared_data / "mnist" / "t10k-labels-idx1-ubyte.gz")
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10000,) and set(np.unique(labels)) == set(range(10))
    assert images.max() == 255 and images.min() == 0


def test_read_idx_rejects_bad_files(tmp_path):
    bad = tmp_path / "bad.gz"
    bad.write_bytes(gzip.compress(b"\x01\x02\x08\x01\x00\x00\x00\x05abc"))
    with pytest.raises(ValueError, match="not an IDX"):
        read_idx(bad)
    short = tmp_path / "short.gz"
    short.write_bytes(gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x05abc"))
    with pytest.raises(ValueError, match="header says"):
        read_idx(short)


def test_read_idx_big_endian_types(tmp_path):
    f = tmp_path / "ints"
    f.write_bytes(b"\x00\x00\x0c\x02\x00\x00\x00\x02\x00\x00\x00\x01" + np.array([-3, 70000], ">i4").tobytes())
    out = read_idx(f)
    assert out.shape == (2, 1) and out.ravel().tolist() == [-3, 70000]


def test_stratified_split_keeps_class_shares():
    labels = np.repeat(np.arange(10), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
    train, test = stratified_split(labels, 0.2, seed=0)
    assert len(test) == 2000 and len(train) == 8000
    assert not set(train) & set(test)
    for cls, n in zip(*np.unique(labels, return_counts=True), strict=True):
        assert abs((labels[test] == cls).sum() - 0.2 * n) <= 1
    again, _ = stratified_split(labels, 0.2, seed=0)
    other, _ = stratified_split(labels, 0.2, seed=1)
    assert np.array_equal(train, again) and not np.array_equal(train, other)


def test_load_mnist_offline_split(no_env, shared_data, capsys):
    ds = load_mnist(shared_data)
    (x_train, y_train), (x_test, y_test) = ds
    assert x_train.shape == (8000, 28, 28) and x_test.shape == (2000, 28, 28)
    assert y_train.shape == (8000,) and y_test.shape == (2000,)
    assert x_train.dtype == np.uint8
    printed = capsys.readouterr().out
    assert "only the official 10,000-image test set" in printed and "8,000 train / 2,000 test" in printed
    assert "stratified" in ds.description and ds.source.endswith("mnist")
    # stratified: every digit keeps its share in both parts
    full = read_idx(shared_data / "mnist" / "t10k-labels-idx1-ubyte.gz")
    assert np.abs(np.bincount(y_test) - 0.2 * np.bincount(full)).max() <= 1
    # no image is in both parts
    train_keys = {x.tobytes() for x in x_train}
    assert sum(x.tobytes() in train_keys for x in x_test) < 5  # MNIST has a few exact duplicates at most


def test_load_mnist_from_environment(monkeypatch, shared_data):
    monkeypatch.setenv("COURSE_DATA_DIR", str(shared_data))
    ds = load_mnist(verbose=False)
    assert ds.x_train.shape[0] == 8000 and str(shared_data) in ds.source


def test_explicit_path_wins_over_environment(monkeypatch, shared_data, tmp_path):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "nowhere"))
    assert load_mnist(shared_data / "mnist", verbose=False).x_test.shape[0] == 2000


def test_split_seed_and_fraction(no_env, shared_data):
    a = load_mnist(shared_data, seed=0, verbose=False)
    b = load_mnist(shared_data, seed=0, verbose=False)
    c = load_mnist(shared_data, seed=1, test_fraction=0.1, verbose=False)
    assert np.array_equal(a.y_test, b.y_test)
    assert c.x_test.shape[0] == 1000


def test_missing_dataset_names_every_place(no_env, no_keras_download, tmp_path):
    with pytest.raises(DatasetNotFoundError) as err:
        load_mnist(tmp_path / "missing")
    message = str(err.value)
    assert str(tmp_path / "missing") in message
    assert "Keras download: failed (OSError: network is unreachable)" in message
    assert "To get it" in message and "COURSE_DATA_DIR" in message
    assert "Traceback" not in message


def test_missing_without_download(no_env, tmp_path):
    with pytest.raises(DatasetNotFoundError, match="not tried"):
        load_mnist(tmp_path, download=False)


def test_missing_fashion_mentions_debian(no_env, no_keras_download, tmp_path, monkeypatch):
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST_DIR", tmp_path / "debian")
    with pytest.raises(DatasetNotFoundError) as err:
        load_fashion_mnist(tmp_path)
    assert "apt-get install dataset-fashion-mnist" in str(err.value)
    assert "Debian dataset-fashion-mnist" in str(err.value)


def test_fashion_mnist_from_debian(no_env):
    if not (data.DEBIAN_FASHION_MNIST_DIR / data.TEST_IMAGES).is_file():
        pytest.fail("dataset-fashion-mnist is not installed (.ci/run installs it with apt-get)")
    ds = load_fashion_mnist(verbose=False, download=False)
    assert ds.x_train.shape == (60000, 28, 28) and ds.x_test.shape == (10000, 28, 28)
    assert "official split" in ds.description
    assert ds.class_names[9] == "Ankle boot" and len(ds.class_names) == 10


def test_full_train_files_are_used_when_present(tmp_path, shared_data):
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        (folder / name).write_bytes((shared_data / "mnist" / name).read_bytes())
        (folder / name.replace("t10k", "train")).write_bytes((shared_data / "mnist" / name).read_bytes())
    ds = load_mnist(tmp_path, verbose=False)
    assert ds.x_train.shape[0] == 10000 and ds.x_test.shape[0] == 10000
    assert "official split" in ds.description


def test_description_path_is_the_same_in_every_clone(no_env, shared_data, monkeypatch):
    """Committed notebook outputs print the loader's description, so it must not name the clone's
    absolute location: relative when the folder and the working folder share a parent, absolute
    only for unrelated system folders."""
    data_dir = shared_data.resolve()
    notebooks = data_dir.parent / "course-clone" / "notebooks"
    monkeypatch.setattr(data.Path, "cwd", classmethod(lambda cls: notebooks))
    ds = load_mnist(shared_data)
    assert ds.description.startswith(f"MNIST from ../../{data_dir.name}/mnist: only the official")
    assert str(data_dir) not in ds.description
    monkeypatch.setattr(data.Path, "cwd", classmethod(lambda cls: data.Path("/proc/self")))
    assert data._display_path(data.DEBIAN_FASHION_MNIST_DIR) == str(data.DEBIAN_FASHION_MNIST_DIR)


def test_test_part_only(no_env, shared_data, monkeypatch):
    """train=False: the same test arrays, no training part; with the official split the training files
    (the large ones) are not even read."""
    full, only = load_mnist(shared_data, verbose=False), load_mnist(shared_data, verbose=False, train=False)
    assert np.array_equal(full.x_test, only.x_test) and np.array_equal(full.y_test, only.y_test)
    assert only.x_train.shape == (0, 28, 28) and only.y_train.shape == (0,) and "train=False" in only.description
    if not (data.DEBIAN_FASHION_MNIST_DIR / data.TEST_IMAGES).is_file():
        pytest.fail("dataset-fashion-mnist is not installed (.ci/run installs it with apt-get)")
    read, real = [], data.read_idx
    monkeypatch.setattr(data, "read_idx", lambda path: read.append(path.name) or real(path))
    fashion = load_fashion_mnist(verbose=False, download=False, train=False)
    assert read == [data.TEST_IMAGES, data.TEST_LABELS] and fashion.x_test.shape == (10000, 28, 28)
    assert fashion.x_train.shape == (0, 28, 28) and "10,000 test images" in fashion.description
