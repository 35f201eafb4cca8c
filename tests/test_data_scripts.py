"""Tests of data_scripts/get_data.py and of the offline fallback in ebjepa_mini.data.sources.

None of them needs a network: downloads are exercised with file:// URLs and with a
refused connection to 127.0.0.1, and the offline copies are used only when present.
"""
from __future__ import annotations

import gzip
import hashlib
import importlib.util
import io
import json
import os
import pickle
import struct
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # for `import ebjepa_mini` when the package is not installed
    sys.path.insert(0, str(ROOT))


def _load_get_data():
    spec = importlib.util.spec_from_file_location("get_data_under_test", ROOT / "data_scripts" / "get_data.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


gd = _load_get_data()

UNREACHABLE = "http://127.0.0.1:9/"  # the discard port: connection refused at once, no network used


def _shared_data_dir() -> Path:
    env = os.environ.get("EBJEPA_DATA")
    return Path(env).expanduser() if env else Path(__file__).resolve().parents[2] / "shared" / "data"


def _datasets_present(root: Path) -> tuple[str, ...]:
    out = []
    if (root / "mnist.npz").is_file():
        out.append("mnist")
    if (root / "cifar10_test.npz").is_file() and any(
            (root / n).is_file() for n in ("cifar10_train.npz", "cifar10_train_10k.npz")):
        out.append("cifar10")
    return tuple(out)


SHARED = _shared_data_dir()
SHARED_DATASETS = _datasets_present(SHARED)
needs_shared = pytest.mark.skipif(not SHARED_DATASETS, reason=f"no offline data files in {SHARED}")


# ---------------------------------------------------------------------------------------
# synthetic files
# ---------------------------------------------------------------------------------------

def _idx_images(x: np.ndarray) -> bytes:
    """IDX3 by hand: 16-byte header (magic 0x00000803, N, rows, cols) + pixels."""
    n, h, w = x.shape
    return struct.pack(">IIII", 0x00000803, n, h, w) + x.astype(np.uint8).tobytes()


def _idx_labels(y: np.ndarray) -> bytes:
    """IDX1 by hand: 8-byte header (magic 0x00000801, N) + labels."""
    return struct.pack(">II", 0x00000801, len(y)) + np.asarray(y, np.uint8).tobytes()


def _cifar_batch(x_hwc: np.ndarray, y, protocol: int = 2, legacy_numpy_path: bool = False) -> bytes:
    """A CIFAR-10 python batch: {b'data': [N, 3072] uint8 (R plane, G plane, B plane), b'labels': [...]}."""
    data = np.ascontiguousarray(x_hwc.transpose(0, 3, 1, 2).reshape(len(x_hwc), -1))
    blob = pickle.dumps({b"batch_label": b"synthetic", b"labels": [int(v) for v in y], b"data": data},
                        protocol=protocol)
    if legacy_numpy_path:  # what the official (Python 2, NumPy 1) files refer to
        assert b"cnumpy._core.multiarray\n_reconstruct\n" in blob
        blob = blob.replace(b"cnumpy._core.multiarray\n_reconstruct\n", b"cnumpy.core.multiarray\n_reconstruct\n")
    return blob


def _tar_add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


# ---------------------------------------------------------------------------------------
# IDX parsing
# ---------------------------------------------------------------------------------------

def test_parse_idx_images_and_labels():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    y = np.array([3, 1, 4, 1, 5])
    xi, yi = gd.parse_idx(_idx_images(x)), gd.parse_idx(_idx_labels(y))
    assert xi.shape == (5, 28, 28) and xi.dtype == np.uint8
    np.testing.assert_array_equal(xi, x)
    assert yi.shape == (5,) and yi.tolist() == [3, 1, 4, 1, 5]
    xi[0, 0, 0] ^= 1  # a writable copy, not a view of the bytes
    # idx_bytes is the inverse, byte for byte
    assert gd.idx_bytes(x) == _idx_images(x) and gd.idx_bytes(y.astype(np.uint8)) == _idx_labels(y)


def test_parse_idx_big_endian_int32():
    a = np.array([[1, -2], [70000, 3]], dtype=">i4")
    data = struct.pack(">BBBBII", 0, 0, 0x0C, 2, 2, 2) + a.tobytes()
    out = gd.parse_idx(data)
    assert out.dtype == np.int32 and out.tolist() == [[1, -2], [70000, 3]]


@pytest.mark.parametrize("data, match", [
    (b"\x01\x00\x08\x01" + struct.pack(">I", 0), "not an IDX file"),
    (b"\x00\x00\x07\x01" + struct.pack(">I", 0), "unknown IDX type code"),
    (struct.pack(">II", 0x801, 4) + b"\x00\x01\x02", "payload has 3 bytes"),
    (struct.pack(">II", 0x801, 2) + b"\x00\x01\x02", "payload has 3 bytes"),
    (struct.pack(">IIII", 0x803, 1, 28, 28)[:12], "truncated IDX header"),
])
def test_parse_idx_rejects_malformed(data, match):
    with pytest.raises(ValueError, match=match):
        gd.parse_idx(data)


def test_read_idx_gz_checks_uncompressed_md5(tmp_path):
    raw = _idx_labels(np.arange(10) % 10)
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(raw))
    assert gd.read_idx_gz(path, _md5(raw)).tolist() == list(range(10))
    with pytest.raises(gd.ChecksumError, match="does not match"):
        gd.read_idx_gz(path, "0" * 32)
    (tmp_path / "plain").write_bytes(raw)
    with pytest.raises(ValueError, match="not a readable gzip"):
        gd.read_idx_gz(tmp_path / "plain")


# ---------------------------------------------------------------------------------------
# CIFAR batches
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("protocol, legacy", [(2, True), (2, False), (4, False), (5, False)])
def test_parse_cifar_batch_gives_rgb_hwc(protocol, legacy):
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, size=(4, 32, 32, 3), dtype=np.uint8)
    x[0] = 0
    x[0, :, :, 0] = 255  # image 0 is pure red: its first 1,024 bytes (the R plane) are 255
    blob = _cifar_batch(x, [0, 9, 3, 3], protocol, legacy)
    xb, yb = gd.parse_cifar_batch(blob)
    assert xb.shape == (4, 32, 32, 3) and xb.dtype == np.uint8 and xb.flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(xb, x)
    assert yb.dtype == np.int64 and yb.tolist() == [0, 9, 3, 3]
    assert (xb[0, ..., 0] == 255).all() and (xb[0, ..., 1:] == 0).all()


def test_parse_cifar_batch_rejects_bad_batches():
    x = np.zeros((2, 32, 32, 3), np.uint8)
    with pytest.raises(ValueError, match="labels of shape"):
        gd.parse_cifar_batch(_cifar_batch(x, [1, 2, 3]))
    with pytest.raises(ValueError, match="0..9"):
        gd.parse_cifar_batch(_cifar_batch(x, [1, 10]))
    with pytest.raises(ValueError, match="keys 'data' and 'labels'"):
        gd.parse_cifar_batch(pickle.dumps({b"data": np.zeros((1, 3072), np.uint8)}))
    with pytest.raises(ValueError, match=r"\[N, 3072\] uint8"):
        gd.parse_cifar_batch(pickle.dumps({"data": np.zeros((1, 100), np.uint8), "labels": [0]}))


class _Sneaky:
    def __reduce__(self):
        return (os.getcwd, ())  # harmless, but a real attack would name os.system here


def test_parse_cifar_batch_refuses_code_in_pickle():
    with pytest.raises(pickle.UnpicklingError, match="refusing to load global"):
        gd.parse_cifar_batch(pickle.dumps({b"data": _Sneaky(), b"labels": []}))


# ---------------------------------------------------------------------------------------
# the 10k subset rule
# ---------------------------------------------------------------------------------------

def test_select_per_class_first_k_of_each_class_sorted():
    y = np.array([0, 1, 0, 2, 1, 0, 2, 2, 1, 0])
    idx = gd.select_per_class(y, per_class=2, num_classes=3)
    assert idx.dtype == np.int64
    assert idx.tolist() == [0, 1, 2, 3, 4, 6]  # class 0: 0, 2; class 1: 1, 4; class 2: 3, 6
    assert np.bincount(y[idx]).tolist() == [2, 2, 2]


def test_select_per_class_on_cifar_sized_labels():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, size=50000)
    idx = gd.select_per_class(y, 1000)
    assert len(idx) == 10000 and np.all(np.diff(idx) > 0)
    assert np.bincount(y[idx], minlength=10).tolist() == [1000] * 10
    for c in range(10):  # no image of class c before the last one chosen is left out
        chosen = idx[y[idx] == c]
        assert np.array_equal(chosen, np.flatnonzero(y == c)[:1000])


def test_select_per_class_rejects_short_class():
    with pytest.raises(ValueError, match="class 2 has only 1"):
        gd.select_per_class(np.array([0, 0, 1, 1, 2]), per_class=2, num_classes=3)
    with pytest.raises(ValueError, match="per_class"):
        gd.select_per_class(np.array([0, 1]), per_class=0)


# ---------------------------------------------------------------------------------------
# md5 checks and atomic writes
# ---------------------------------------------------------------------------------------

def test_md5_check_rejects_corrupted_file(tmp_path):
    good = b"official bytes" * 100
    path = tmp_path / "file.gz"
    path.write_bytes(good)
    gd.verify_file_md5(path, _md5(good))  # passes
    corrupted = bytearray(good)
    corrupted[7] ^= 0x01
    path.write_bytes(bytes(corrupted))
    with pytest.raises(gd.ChecksumError, match=f"does not match the published md5 {_md5(good)}"):
        gd.verify_file_md5(path, _md5(good))


def test_download_refuses_corrupt_file_and_keeps_nothing(tmp_path):
    src = tmp_path / "mirror" / "train.gz"
    src.parent.mkdir()
    src.write_bytes(b"not what was published")
    raw = tmp_path / "raw"
    with pytest.raises(gd.ChecksumError):
        gd.download(src.as_uri(), raw / "train.gz", "0" * 32, log=lambda *_: None)
    assert list(raw.iterdir()) == []  # no file, no temporary left over


def test_fetch_tries_mirrors_in_order_and_reuses_a_good_copy(tmp_path):
    payload = b"payload" * 1000
    bad = tmp_path / "bad"
    good = tmp_path / "good"
    for d, data in ((bad, b"tampered"), (good, payload)):
        d.mkdir()
        (d / "f.gz").write_bytes(data)
    urls = [UNREACHABLE + "f.gz", bad.as_uri() + "/f.gz", good.as_uri() + "/f.gz"]
    logs = []
    path = gd.fetch("f.gz", urls, _md5(payload), tmp_path / "raw", timeout=5, log=logs.append)
    assert path.read_bytes() == payload
    assert sum("failed" in m for m in logs) == 2
    # second call: the kept copy is reused without touching any URL
    logs.clear()
    assert gd.fetch("f.gz", [UNREACHABLE + "f.gz"], _md5(payload), tmp_path / "raw", log=logs.append) == path
    assert any("using the copy" in m for m in logs)


def test_fetch_reports_every_failed_url(tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "f.gz").write_bytes(b"tampered")
    urls = [UNREACHABLE + "f.gz", bad.as_uri() + "/f.gz"]
    with pytest.raises(gd.DownloadError) as info:
        gd.fetch("f.gz", urls, "0" * 32, tmp_path / "raw", timeout=5, log=lambda *_: None)
    err = info.value
    assert [u for u, _ in err.attempts] == urls
    assert all(u in str(err) for u in urls) and "refused" in str(err)
    assert err.corrupt and err.exit_code == gd.EXIT_CHECKSUM


def test_atomic_write_leaves_no_partial_file_on_error(tmp_path):
    target = tmp_path / "mnist.npz"
    gd.atomic_savez(target, {"a": np.arange(3)})
    before = target.read_bytes()

    class Boom:
        def __array__(self, *args, **kwargs):
            raise RuntimeError("disk full, say")

    with pytest.raises(RuntimeError, match="disk full"):
        gd.atomic_savez(target, {"a": np.zeros(10**6), "b": Boom()})  # fails after 'a' was written
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mnist.npz"]
    with pytest.raises(KeyError):
        with gd.atomic_output(tmp_path / "new.bin") as f:
            f.write(b"half")
            raise KeyError("stop")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mnist.npz"]
    with np.load(target) as f:
        assert f["a"].tolist() == [0, 1, 2]


# ---------------------------------------------------------------------------------------
# the command line, offline
# ---------------------------------------------------------------------------------------

def test_offline_run_fails_clearly_and_writes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(gd, "MNIST_MIRRORS", [UNREACHABLE])
    monkeypatch.setattr(gd, "CIFAR_URLS", [UNREACHABLE + "cifar-10-python.tar.gz"])
    dest = tmp_path / "data"
    rc = gd.main(["--dest", str(dest), "--timeout", "5"])
    err = capsys.readouterr().err
    assert rc == gd.EXIT_NETWORK
    assert UNREACHABLE + "train-images-idx3-ubyte.gz" in err
    assert "fallback" in err and "no network" in err
    assert not dest.exists()


@pytest.fixture
def synthetic_sources(tmp_path, monkeypatch):
    """Tiny MNIST .gz files and a tiny CIFAR tarball behind file:// URLs, with the
    script's published md5s and expected sizes patched to match them."""
    rng = np.random.default_rng(0)
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    mnist_files, shapes, counts = {}, {}, {}
    for split, n in (("train", 30), ("test", 20)):
        x = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        y = np.arange(n) % 10
        for key, raw in ((f"x_{split}", _idx_images(x)), (f"y_{split}", _idx_labels(y))):
            name = gd.MNIST_FILES[key][0]
            gz = gzip.compress(raw, mtime=0)
            (mirror / name).write_bytes(gz)
            mnist_files[key] = (name, _md5(gz), _md5(raw))
        shapes[f"x_{split}"], shapes[f"y_{split}"] = (n, 28, 28), (n,)
        counts[("mnist.npz", f"y_{split}")] = np.bincount(y, minlength=10).tolist()
    # CIFAR: 5 training batches of 12 images, a test batch of 10; 2 per class in the subset
    x_all = rng.integers(0, 256, size=(70, 32, 32, 3), dtype=np.uint8)
    y_all = rng.permutation(np.arange(70) % 10)
    tar_path = mirror / gd.CIFAR_TARBALL
    with tarfile.open(tar_path, "w:gz") as tar:
        _tar_add(tar, "cifar-10-batches-py/batches.meta", pickle.dumps({b"label_names": []}))
        _tar_add(tar, "cifar-10-batches-py/test_batch", _cifar_batch(x_all[60:], y_all[60:]))
        for i in range(5):
            s = slice(12 * i, 12 * i + 12)
            _tar_add(tar, f"cifar-10-batches-py/data_batch_{i + 1}", _cifar_batch(x_all[s], y_all[s]))
    monkeypatch.setattr(gd, "MNIST_FILES", mnist_files)
    monkeypatch.setattr(gd, "MNIST_MIRRORS", [UNREACHABLE, mirror.as_uri() + "/"])
    monkeypatch.setattr(gd, "CIFAR_URLS", [tar_path.as_uri()])
    monkeypatch.setattr(gd, "CIFAR_MD5", gd.file_md5(tar_path))
    monkeypatch.setattr(gd, "CIFAR_SUBSET_PER_CLASS", 2)
    monkeypatch.setattr(gd, "CIFAR_TRAIN_SIZE", 60)
    monkeypatch.setattr(gd.sources, "KNOWN_MD5", {})  # the real MNIST md5s do not apply here
    monkeypatch.setattr(gd, "EXPECTED_SHAPES", {
        "mnist.npz": shapes,
        "cifar10_train.npz": {"x": (60, 32, 32, 3), "y": (60,), "index": (60,)},
        "cifar10_train_10k.npz": {"x": (20, 32, 32, 3), "y": (20,), "index": (20,)},
        "cifar10_test.npz": {"x": (10, 32, 32, 3), "y": (10,), "index": (10,)},
    })
    counts[("cifar10_train.npz", "y")] = np.bincount(y_all[:60], minlength=10).tolist()
    counts[("cifar10_train_10k.npz", "y")] = [2] * 10
    counts[("cifar10_test.npz", "y")] = np.bincount(y_all[60:], minlength=10).tolist()
    monkeypatch.setattr(gd, "EXPECTED_COUNTS", counts)
    return {"x": x_all, "y": y_all, "mirror": mirror}


def test_full_run_on_synthetic_sources(tmp_path, synthetic_sources, capsys):
    dest = tmp_path / "data"
    assert gd.main(["--dest", str(dest), "--timeout", "5"]) == gd.EXIT_OK
    out = capsys.readouterr().out
    assert "All" in out and "checks passed" in out
    x_all, y_all = synthetic_sources["x"], synthetic_sources["y"]
    with np.load(dest / "cifar10_train.npz") as f:
        np.testing.assert_array_equal(f["x"], x_all[:60])
        assert f["y"].dtype == np.int64 and f["index"].tolist() == list(range(60))
    with np.load(dest / "cifar10_train_10k.npz") as f:
        want = gd.select_per_class(y_all[:60], 2)
        assert f["index"].tolist() == want.tolist()
        np.testing.assert_array_equal(f["x"], x_all[want])
    with np.load(dest / "cifar10_test.npz") as f:
        np.testing.assert_array_equal(f["x"], x_all[60:])
    with np.load(dest / "mnist.npz") as f:
        assert f["x_train"].shape == (30, 28, 28) and f["y_train"].dtype == np.int64
    sums = json.loads((dest / "CHECKSUMS.json").read_text())["files"]
    assert set(sums) == {"mnist.npz", "cifar10_train.npz", "cifar10_train_10k.npz", "cifar10_test.npz"}
    assert not [p for p in dest.iterdir() if p.name.endswith(".part")]

    # --verify-only passes on what was written, and catches a changed image afterwards
    assert gd.main(["--verify-only", "--dest", str(dest)]) == gd.EXIT_OK
    with np.load(dest / "cifar10_test.npz") as f:
        arrays = dict(f)
    arrays["x"][3, 0, 0, 0] ^= 1
    np.savez_compressed(dest / "cifar10_test.npz", **arrays)
    capsys.readouterr()
    assert gd.main(["--verify-only", "--dest", str(dest), "--dataset", "cifar10"]) == gd.EXIT_VERIFY
    out = capsys.readouterr().out
    assert "FAIL  cifar10_test.npz: x md5" in out and "CHECKSUMS.json" in out and "FAILED: 1 of" in out


def test_no_full_cifar_writes_only_the_subset(tmp_path, synthetic_sources):
    dest = tmp_path / "data"
    assert gd.main(["--dataset", "cifar10", "--no-full-cifar", "--dest", str(dest)]) == gd.EXIT_OK
    assert sorted(p.name for p in dest.glob("*.npz")) == ["cifar10_test.npz", "cifar10_train_10k.npz"]


def test_corrupt_mirror_file_is_refused(tmp_path, synthetic_sources, monkeypatch, capsys):
    name = gd.MNIST_FILES["x_train"][0]
    mirror = synthetic_sources["mirror"]
    data = bytearray((mirror / name).read_bytes())
    data[-5] ^= 0xFF
    (mirror / name).write_bytes(bytes(data))
    dest = tmp_path / "data"
    assert gd.main(["--dataset", "mnist", "--dest", str(dest)]) == gd.EXIT_CHECKSUM
    err = capsys.readouterr().err
    assert "does not match the published md5" in err and name in err
    assert not (dest / "mnist.npz").exists()


# ---------------------------------------------------------------------------------------
# --verify-only on the offline copies
# ---------------------------------------------------------------------------------------

@needs_shared
def test_verify_only_passes_on_shared_data(capsys):
    rc = gd.main(["--verify-only", "--dest", str(SHARED), "--dataset",
                  "all" if len(SHARED_DATASETS) == 2 else SHARED_DATASETS[0]])
    out = capsys.readouterr().out
    assert rc == gd.EXIT_OK, out
    assert "FAIL" not in out
    if "mnist" in SHARED_DATASETS:  # the offline MNIST is bit-exact with the official IDX files
        assert "y_train md5 as IDX file a25bea736e30d166cdddb491f175f624 matches" in out


@pytest.mark.skipif(not (SHARED / "mnist.npz").is_file(), reason=f"no mnist.npz in {SHARED}")
def test_verify_only_detects_one_changed_pixel(tmp_path, capsys):
    with np.load(SHARED / "mnist.npz") as f:
        arrays = dict(f)
    arrays["x_train"][123, 14, 14] ^= 0x01
    np.savez(tmp_path / "mnist.npz", **arrays)
    assert gd.main(["--verify-only", "--dataset", "mnist", "--dest", str(tmp_path)]) == gd.EXIT_VERIFY
    fails = [line for line in capsys.readouterr().out.splitlines() if "FAIL " in line]
    assert len(fails) == 2 and all("x_train md5" in line for line in fails)


def test_verify_only_fails_on_empty_dir(tmp_path, capsys):
    assert gd.main(["--verify-only", "--dest", str(tmp_path)]) == gd.EXIT_VERIFY
    out = capsys.readouterr().out
    assert "FAIL  mnist.npz: missing" in out and "FAIL  cifar10_test.npz: missing" in out


# ---------------------------------------------------------------------------------------
# the loaders' labelled fallback
# ---------------------------------------------------------------------------------------

def test_loaders_return_labelled_fallback_without_data(tmp_path, monkeypatch):
    from ebjepa_mini.data import sources

    monkeypatch.setenv("EBJEPA_DATA", str(tmp_path))
    with pytest.warns(UserWarning, match="OFFLINE FALLBACK"):
        mnist = sources.load_mnist()
    assert mnist.is_fallback and "FALLBACK" in mnist.source
    assert mnist.x_train.shape[1:] == (28, 28) and mnist.x_train.dtype == np.uint8
    assert len(mnist.x_train) + len(mnist.x_test) == 1797 and set(np.unique(mnist.y_train)) == set(range(10))
    with pytest.warns(UserWarning, match="get_data.py"):
        cifar = sources.load_cifar10()
    assert cifar.is_fallback and "FALLBACK" in cifar.source
    assert cifar.x_train.shape[1:] == (32, 32, 3) and cifar.x_test.dtype == np.uint8
    with pytest.raises(FileNotFoundError, match="get_data.py"):
        sources.load_mnist(allow_fallback=False)
    with pytest.raises(FileNotFoundError):
        sources.load_cifar10(allow_fallback=False)


@needs_shared
def test_loaders_read_real_data_when_present(monkeypatch):
    from ebjepa_mini.data import sources

    monkeypatch.setenv("EBJEPA_DATA", str(SHARED))
    if "mnist" in SHARED_DATASETS:
        d = sources.load_mnist(allow_fallback=False)
        assert not d.is_fallback and "FALLBACK" not in d.source and d.x_train.shape == (60000, 28, 28)
    if "cifar10" in SHARED_DATASETS:
        d = sources.load_cifar10(allow_fallback=False)
        assert not d.is_fallback and d.x_train.shape[1:] == (32, 32, 3)
