#!/usr/bin/env python
"""Download MNIST and CIFAR-10, verify them, and write the book's NumPy archives.

Usage (from the repository root)::

    python data_scripts/get_data.py [--dataset mnist|cifar10|all] [--dest DIR]
                                    [--verify-only] [--full-cifar | --no-full-cifar]

Where a network exists, the script

1. downloads the four official MNIST IDX ``.gz`` files (trying the mirrors in
   ``MNIST_MIRRORS`` in order) and the official CIFAR-10 python tarball,
2. checks every download against its published md5 and refuses a file that does not match,
3. parses them (IDX -> arrays, CIFAR pickle batches -> arrays) and writes, atomically,
   the same archives as the offline copies: ``mnist.npz``, ``cifar10_train.npz`` (all 50k,
   unless ``--no-full-cifar``), ``cifar10_train_10k.npz`` (1,000 per class) and
   ``cifar10_test.npz``, plus ``CHECKSUMS.json`` with the array-content md5s it wrote,
4. verifies what it wrote, exactly as ``--verify-only`` does.

Nothing is written to ``DIR`` until every download has passed its md5 check. The raw
downloads are kept in ``DIR/raw`` (``--raw-dir``) and reused when their md5 still matches.

``--verify-only`` downloads nothing: it checks the archives already in the data directory
(shapes, dtypes, class counts, index columns, and the array-content md5s that are known:
``KNOWN_MD5`` in ``ebjepa_mini/data/sources.py``, the official uncompressed MNIST IDX md5s,
and ``CHECKSUMS.json`` when this script wrote one).

The data directory is ``--dest``, else ``$EBJEPA_DATA``, else ``./data``, the directory the
chapters' loaders (``ebjepa_mini.data.sources``) read.

Exit codes: 0 success; 1 verification failed (or a download could not be parsed);
2 bad command-line arguments; 3 a download failed (no network?); 4 a download had the wrong
md5 and was refused.
"""
from __future__ import annotations

import argparse
import codecs
import contextlib
import gzip
import hashlib
import http.client
import importlib.util
import io
import json
import os
import pickle
import struct
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np


def _load_sources():
    """``ebjepa_mini.data.sources`` without importing the package (whose ``__init__`` imports
    torch, which this script does not need). Falls back to a normal import when the script
    is used outside the repository checkout."""
    path = Path(__file__).resolve().parents[1] / "ebjepa_mini" / "data" / "sources.py"
    if not path.is_file():
        from ebjepa_mini.data import sources  # an installed package

        return sources
    spec = importlib.util.spec_from_file_location("_ebjepa_mini_data_sources", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up while the file runs
    spec.loader.exec_module(module)
    return module


sources = _load_sources()

# --------------------------------------------------------------------------------------
# Sources and published checksums
# --------------------------------------------------------------------------------------

#: Base URLs tried in order for the MNIST files (the file name is appended).
MNIST_MIRRORS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
]

#: array name in mnist.npz -> (file name, md5 of the .gz, md5 of the uncompressed IDX file)
MNIST_FILES = {
    "x_train": ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873",
                "6bbc9ace898e44ae57da46a324031adb"),
    "y_train": ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432",
                "a25bea736e30d166cdddb491f175f624"),
    "x_test": ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3",
               "2646ac647ad5339dbf082846283269ea"),
    "y_test": ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c",
               "27ae3e4e09519cfbb04c329615203637"),
}

#: Full URLs tried in order for the CIFAR-10 python tarball.
CIFAR_URLS = ["https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"]
CIFAR_TARBALL = "cifar-10-python.tar.gz"
CIFAR_MD5 = "c58f30108f718f92721af3b95e74349a"
CIFAR_TRAIN_MEMBERS = tuple(f"cifar-10-batches-py/data_batch_{i}" for i in range(1, 6))
CIFAR_TEST_MEMBER = "cifar-10-batches-py/test_batch"

NUM_CLASSES = 10
#: images per class in cifar10_train_10k.npz
CIFAR_SUBSET_PER_CLASS = 1000

#: Expected array shapes (dtype: uint8 for images "x...", int64 for everything else).
EXPECTED_SHAPES = {
    "mnist.npz": {"x_train": (60000, 28, 28), "y_train": (60000,),
                  "x_test": (10000, 28, 28), "y_test": (10000,)},
    "cifar10_train.npz": {"x": (50000, 32, 32, 3), "y": (50000,), "index": (50000,)},
    "cifar10_train_10k.npz": {"x": (10000, 32, 32, 3), "y": (10000,), "index": (10000,)},
    "cifar10_test.npz": {"x": (10000, 32, 32, 3), "y": (10000,), "index": (10000,)},
}
#: Expected class counts of the label arrays.
EXPECTED_COUNTS = {
    ("mnist.npz", "y_train"): [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
    ("mnist.npz", "y_test"): [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009],
    ("cifar10_train.npz", "y"): [5000] * 10,
    ("cifar10_train_10k.npz", "y"): [1000] * 10,
    ("cifar10_test.npz", "y"): [1000] * 10,
}
#: Size of the concatenated CIFAR-10 training set (the range of ``index`` in the 10k subset).
CIFAR_TRAIN_SIZE = 50000

CHECKSUMS_NAME = "CHECKSUMS.json"
USER_AGENT = "ebjepa-mini-get-data/1.0 (+python urllib)"

EXIT_OK, EXIT_VERIFY, EXIT_USAGE, EXIT_NETWORK, EXIT_CHECKSUM = 0, 1, 2, 3, 4


# --------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------

class ChecksumError(Exception):
    """A file's md5 does not match the published one; the file was refused."""

    def __init__(self, what: str, got: str, expected: str):
        self.what, self.got, self.expected = what, got, expected
        super().__init__(f"{what}: md5 {got} does not match the published md5 {expected} "
                         f"(corrupt or not the official file); refused")


class DownloadError(Exception):
    """Every URL for one file failed. ``attempts`` lists ``(url, reason)`` pairs."""

    def __init__(self, filename: str, attempts: list[tuple[str, str]], corrupt: bool = False):
        self.filename, self.attempts, self.corrupt = filename, attempts, corrupt
        lines = [f"could not download {filename}; every source failed:"]
        lines += [f"  {url}\n      -> {reason}" for url, reason in attempts]
        super().__init__("\n".join(lines))

    @property
    def exit_code(self) -> int:
        return EXIT_CHECKSUM if self.corrupt else EXIT_NETWORK


# --------------------------------------------------------------------------------------
# Checksums and atomic writes
# --------------------------------------------------------------------------------------

def file_md5(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """md5 hex digest of a file's bytes, read in chunks."""
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def verify_file_md5(path: str | os.PathLike, expected: str) -> None:
    """Raise :class:`ChecksumError` unless ``path`` has md5 ``expected``."""
    got = file_md5(path)
    if got != expected.lower():
        raise ChecksumError(str(path), got, expected)


def _new_file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike):
    """Open a temporary file next to ``path`` for binary writing; on success it replaces
    ``path`` in one step (``os.replace``), on any error it is deleted and ``path`` is left
    as it was. Readers never see a partial file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _new_file_mode())  # mkstemp creates 0600
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_savez(path: str | os.PathLike, arrays: dict[str, np.ndarray]) -> Path:
    """``np.savez_compressed(path, **arrays)``, atomically."""
    with atomic_output(path) as f:
        np.savez_compressed(f, **arrays)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write UTF-8 text to ``path``, atomically."""
    with atomic_output(path) as f:
        f.write(text.encode("utf-8"))
    return Path(path)


# --------------------------------------------------------------------------------------
# Downloads
# --------------------------------------------------------------------------------------

def _describe(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return f"{type(exc.reason).__name__}: {exc.reason}" if isinstance(exc.reason, BaseException) \
            else f"URLError: {exc.reason}"
    return f"{type(exc).__name__}: {exc}"


def download(url: str, dest: str | os.PathLike, expected_md5: str, timeout: float = 60.0,
             log=print) -> Path:
    """Stream ``url`` into ``dest`` (atomically) and check its md5 on the way.

    Raises:
        ChecksumError: the bytes do not have ``expected_md5``; nothing is left at ``dest``
            (an older ``dest`` stays as it was).
        urllib.error.URLError, OSError, http.client.HTTPException: the transfer failed.
    """
    dest = Path(dest)
    h = hashlib.md5()
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # before touching dest
        total = int(response.headers.get("Content-Length") or 0)
        done, next_report = 0, 0.25
        with atomic_output(dest) as f:
            while block := response.read(1 << 20):
                h.update(block)
                f.write(block)
                done += len(block)
                if total > 8 << 20 and done / total >= next_report:
                    log(f"    {done / 2**20:.0f} / {total / 2**20:.0f} MB")
                    next_report += 0.25
            got = h.hexdigest()
            if got != expected_md5.lower():
                raise ChecksumError(url, got, expected_md5)
    log(f"    ok: {done / 2**20:.1f} MB, md5 {got} matches")
    return dest


def fetch(filename: str, urls: list[str], expected_md5: str, raw_dir: str | os.PathLike,
          timeout: float = 60.0, log=print) -> Path:
    """``raw_dir/filename`` with md5 ``expected_md5``: reuse it when present and intact,
    else download it from the first of ``urls`` that works and gives the right md5.

    Raises:
        DownloadError: every URL failed (its message lists each URL and why).
    """
    dest = Path(raw_dir) / filename
    if dest.is_file():
        got = file_md5(dest)
        if got == expected_md5.lower():
            log(f"  {filename}: using the copy in {dest} (md5 {got} matches)")
            return dest
        log(f"  {filename}: {dest} has md5 {got}, expected {expected_md5}: downloading again")
    attempts, corrupt = [], False
    for url in urls:
        log(f"  {filename}: downloading {url}")
        try:
            return download(url, dest, expected_md5, timeout=timeout, log=log)
        except ChecksumError as e:
            corrupt = True
            attempts.append((url, f"md5 {e.got} does not match the published md5 {e.expected}; "
                                  f"file refused"))
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as e:
            attempts.append((url, _describe(e)))
        log(f"    failed: {attempts[-1][1]}")
    raise DownloadError(filename, attempts, corrupt=corrupt)


# --------------------------------------------------------------------------------------
# IDX (MNIST)
# --------------------------------------------------------------------------------------

# IDX type code <-> big-endian dtype (http://yann.lecun.com/exdb/mnist/, "THE IDX FILE FORMAT")
_IDX_CODE_OF = {np.dtype("u1"): 0x08, np.dtype("i1"): 0x09, np.dtype(">i2"): 0x0B,
                np.dtype(">i4"): 0x0C, np.dtype(">f4"): 0x0D, np.dtype(">f8"): 0x0E}
_IDX_DTYPE_OF = {code: dtype for dtype, code in _IDX_CODE_OF.items()}


def parse_idx(data: bytes) -> np.ndarray:
    """Parse the bytes of an (uncompressed) IDX file into an array.

    The header is two zero bytes, a type code (0x08 = uint8, ...), the number of
    dimensions ``d``, then ``d`` big-endian uint32 sizes: 16 bytes for MNIST images
    ``[N, 28, 28]``, 8 bytes for labels ``[N]``. The data follow in C order.

    Returns:
        an array of the header's shape, in native byte order (uint8 for MNIST).

    Raises:
        ValueError: bad magic, unknown type code, or a payload whose size does not match.
    """
    data = bytes(data)
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f"not an IDX file: the first bytes are {data[:4]!r}, "
                         f"expected b'\\x00\\x00' + type code + ndim")
    code, ndim = data[2], data[3]
    if code not in _IDX_DTYPE_OF:
        raise ValueError(f"unknown IDX type code 0x{code:02x}; known: "
                         f"{', '.join(f'0x{c:02x}' for c in sorted(_IDX_DTYPE_OF))}")
    if ndim < 1:
        raise ValueError("IDX header gives 0 dimensions")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"truncated IDX header: {len(data)} bytes, need {header} for {ndim} dims")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    dtype = _IDX_DTYPE_OF[code]
    count = int(np.prod(shape, dtype=np.int64))
    if len(data) - header != count * dtype.itemsize:
        raise ValueError(f"IDX payload has {len(data) - header} bytes, the header {shape} "
                         f"of {dtype} needs {count * dtype.itemsize}")
    arr = np.frombuffer(data, dtype=dtype, count=count, offset=header).reshape(shape)
    return arr.astype(dtype.newbyteorder("="))  # native order, writable copy


def idx_bytes(arr: np.ndarray) -> bytes:
    """Serialise an array as an IDX file (the inverse of :func:`parse_idx`).

    Raises:
        TypeError: the dtype has no IDX type code (use uint8, int8, int16, int32, float32/64).
    """
    arr = np.asarray(arr)
    big = arr.dtype.newbyteorder(">")
    if big not in _IDX_CODE_OF:
        raise TypeError(f"IDX cannot store dtype {arr.dtype}; allowed: uint8, int8, int16, "
                        f"int32, float32, float64")
    header = struct.pack(">BBBB", 0, 0, _IDX_CODE_OF[big], arr.ndim)
    header += struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + np.ascontiguousarray(arr, dtype=big).tobytes()


def read_idx_gz(path: str | os.PathLike, raw_md5: str | None = None) -> np.ndarray:
    """Gunzip and parse an IDX file; with ``raw_md5``, check the uncompressed bytes first.

    Raises:
        ChecksumError: the uncompressed bytes do not have ``raw_md5``.
        ValueError: not a valid IDX file (or not gzip).
    """
    try:
        with gzip.open(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as e:
        raise ValueError(f"{path}: not a readable gzip file ({e})") from e
    if raw_md5 is not None:
        got = hashlib.md5(data).hexdigest()
        if got != raw_md5:
            raise ChecksumError(f"{path} (uncompressed)", got, raw_md5)
    return parse_idx(data)


def build_mnist(raw_dir: str | os.PathLike) -> dict[str, np.ndarray]:
    """The arrays of ``mnist.npz`` from the four ``.gz`` files in ``raw_dir``.

    Returns:
        ``x_train [N, 28, 28] uint8``, ``y_train [N] int64``, ``x_test``, ``y_test``.

    Raises:
        ValueError: images and labels do not fit together.
    """
    raw_dir = Path(raw_dir)
    out = {key: read_idx_gz(raw_dir / name, raw_md5) for key, (name, _, raw_md5) in MNIST_FILES.items()}
    for split in ("train", "test"):
        x, y = out[f"x_{split}"], out[f"y_{split}"]
        if x.dtype != np.uint8 or x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
            raise ValueError(f"MNIST {split}: images {x.shape} {x.dtype} and labels {y.shape} "
                             f"do not match ([N, 28, 28] uint8 and [N])")
        out[f"y_{split}"] = y.astype(np.int64)
    return out


# --------------------------------------------------------------------------------------
# CIFAR-10 python batches
# --------------------------------------------------------------------------------------

def _allowed_pickle_globals() -> dict[tuple[str, str], object]:
    try:  # NumPy >= 2 keeps these in numpy._core
        from numpy._core import multiarray, numeric
    except ImportError:  # pragma: no cover - NumPy 1.x
        from numpy.core import multiarray, numeric
    allowed = {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype,
               ("_codecs", "encode"): codecs.encode}  # Python 3 bytes at protocol <= 2
    for core in ("numpy.core", "numpy._core"):  # old pickles (the official batches) use numpy.core
        allowed[(f"{core}.multiarray", "_reconstruct")] = multiarray._reconstruct
        allowed[(f"{core}.multiarray", "scalar")] = multiarray.scalar
        allowed[(f"{core}.numeric", "_frombuffer")] = numeric._frombuffer
    return allowed


class _ArrayOnlyUnpickler(pickle.Unpickler):
    """Unpickles dicts, lists, strings, numbers and NumPy arrays, nothing else: a pickle
    cannot run arbitrary code through this loader."""

    _allowed = _allowed_pickle_globals()

    def find_class(self, module, name):
        try:
            return self._allowed[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"refusing to load global {module}.{name}: a CIFAR batch "
                                         f"holds only NumPy arrays, lists and strings") from None


def parse_cifar_batch(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Parse one CIFAR-10 python batch file (``data_batch_1`` ... ``test_batch``).

    A batch is a pickled dict with ``data`` (``[N, 3072]`` uint8: 1,024 red, then 1,024
    green, then 1,024 blue values, each a 32x32 image in row-major order) and ``labels``
    (``N`` ints). The official files are Python 2 pickles, hence ``encoding="bytes"``.

    Returns:
        ``x [N, 32, 32, 3] uint8`` (RGB, HWC) and ``y [N] int64``.

    Raises:
        ValueError: the pickle is not a CIFAR-10 batch.
        pickle.UnpicklingError: the pickle refers to anything other than NumPy arrays.
    """
    obj = _ArrayOnlyUnpickler(io.BytesIO(data), encoding="bytes").load()
    if not isinstance(obj, dict):
        raise ValueError(f"a CIFAR batch is a pickled dict, got {type(obj).__name__}")
    batch = {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in obj.items()}
    if "data" not in batch or "labels" not in batch:
        raise ValueError(f"a CIFAR-10 batch needs keys 'data' and 'labels', got {sorted(batch)}")
    raw = np.asarray(batch["data"])
    if raw.dtype != np.uint8 or raw.ndim != 2 or raw.shape[1] != 3 * 32 * 32:
        raise ValueError(f"CIFAR batch 'data' must be [N, 3072] uint8, got {raw.shape} {raw.dtype}")
    y = np.asarray(batch["labels"], dtype=np.int64)
    if y.shape != (raw.shape[0],):
        raise ValueError(f"CIFAR batch has {raw.shape[0]} images but labels of shape {y.shape}")
    if y.size and (y.min() < 0 or y.max() >= NUM_CLASSES):
        raise ValueError(f"CIFAR-10 labels must lie in 0..{NUM_CLASSES - 1}, got {y.min()}..{y.max()}")
    x = raw.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)  # [N, C, H, W] planes -> [N, H, W, C]
    return np.ascontiguousarray(x), y


def read_cifar_tarball(path: str | os.PathLike) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Read the python tarball's batches without extracting anything to disk.

    Returns:
        ``{"train": (x [50000, 32, 32, 3], y), "test": (x [10000, ...], y)}``, the training
        batches concatenated in ``data_batch_1`` ... ``data_batch_5`` order.

    Raises:
        ValueError: a batch is missing or malformed.
    """
    wanted = set(CIFAR_TRAIN_MEMBERS) | {CIFAR_TEST_MEMBER}
    parsed = {}
    with tarfile.open(path, "r|gz") as tar:  # one streaming pass; nothing is extracted
        for member in tar:
            name = member.name.removeprefix("./")
            if name in wanted and member.isfile():
                with tar.extractfile(member) as f:
                    parsed[name] = parse_cifar_batch(f.read())
    missing = sorted(wanted - set(parsed))
    if missing:
        raise ValueError(f"{path} lacks {missing}; is it the CIFAR-10 *python* version?")
    train = [parsed[m] for m in CIFAR_TRAIN_MEMBERS]
    test = parsed[CIFAR_TEST_MEMBER]
    return {"train": (np.concatenate([x for x, _ in train]), np.concatenate([y for _, y in train])),
            "test": test}


def select_per_class(y: np.ndarray, per_class: int, num_classes: int = NUM_CLASSES) -> np.ndarray:
    """Indices of the first ``per_class`` examples of each class, in the order of ``y``,
    returned sorted (so the classes stay interleaved as in the original data).

    This is the rule behind ``cifar10_train_10k.npz`` (``per_class=1000``).

    Raises:
        ValueError: ``y`` is not 1-D, or a class has fewer than ``per_class`` examples.
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D labels, got shape {y.shape}")
    if not isinstance(per_class, (int, np.integer)) or per_class < 1:
        raise ValueError(f"per_class must be a positive int, got {per_class!r}")
    picked = []
    for c in range(num_classes):
        where = np.flatnonzero(y == c)
        if where.size < per_class:
            raise ValueError(f"class {c} has only {where.size} examples, {per_class} are needed")
        picked.append(where[:per_class])
    return np.sort(np.concatenate(picked)).astype(np.int64)


def build_cifar10(tarball: str | os.PathLike, full: bool = True,
                  per_class: int | None = None) -> dict[str, dict[str, np.ndarray]]:
    """The CIFAR-10 archives (file name -> arrays) from the official python tarball.

    Returns:
        ``cifar10_train.npz`` (only with ``full``), ``cifar10_train_10k.npz`` and
        ``cifar10_test.npz``, each with ``x [N, 32, 32, 3] uint8``, ``y [N] int64`` and
        ``index [N] int64`` (the position in the concatenated training set / test batch).
    """
    per_class = CIFAR_SUBSET_PER_CLASS if per_class is None else per_class
    parts = read_cifar_tarball(tarball)
    x, y = parts["train"]
    files = {}
    if full:
        files["cifar10_train.npz"] = {"x": x, "y": y, "index": np.arange(len(y), dtype=np.int64)}
    sub = select_per_class(y, per_class)
    files["cifar10_train_10k.npz"] = {"x": x[sub], "y": y[sub], "index": sub}
    xt, yt = parts["test"]
    files["cifar10_test.npz"] = {"x": xt, "y": yt, "index": np.arange(len(yt), dtype=np.int64)}
    return files


# --------------------------------------------------------------------------------------
# CHECKSUMS.json
# --------------------------------------------------------------------------------------

def read_checksums(root: str | os.PathLike) -> dict:
    """The parsed ``CHECKSUMS.json`` of a data directory, or ``{}`` when there is none.

    Raises:
        ValueError: the file exists but is not valid.
    """
    path = Path(root) / CHECKSUMS_NAME
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{path} is not valid JSON: {e}") from e
    if not isinstance(data, dict) or not isinstance(data.get("files", {}), dict):
        raise ValueError(f"{path}: expected an object with a 'files' object")
    return data


def record_checksums(root: str | os.PathLike, files: dict[str, dict[str, np.ndarray]],
                     provenance: dict[str, str]) -> Path:
    """Add (or replace) the entries of ``files`` in ``root/CHECKSUMS.json``, atomically."""
    try:
        entries = dict(read_checksums(root).get("files", {}))
    except ValueError as e:
        print(f"warning: {e}; writing a new {CHECKSUMS_NAME}", file=sys.stderr)
        entries = {}
    for name, arrays in files.items():
        entries[name] = {
            "source": provenance.get(name, ""),
            "arrays": {k: {"shape": list(a.shape), "dtype": str(a.dtype), "md5": sources.array_md5(a)}
                       for k, a in arrays.items()},
        }
    doc = {"about": "Written by data_scripts/get_data.py. md5 = hashlib.md5(array.tobytes()) "
                    "of each array in the .npz file (not the md5 of the .npz file).",
           "files": dict(sorted(entries.items()))}
    return atomic_write_text(Path(root) / CHECKSUMS_NAME, json.dumps(doc, indent=2) + "\n")


# --------------------------------------------------------------------------------------
# Verification
# --------------------------------------------------------------------------------------

@dataclass
class Check:
    """One line of the verification report. ``status``: OK, FAIL, SKIP or NOTE."""

    status: str
    file: str
    message: str

    def __str__(self) -> str:
        return f"  {self.status:<4}  {self.file}: {self.message}"


def _files_for(datasets) -> list[str]:
    names = []
    if "mnist" in datasets:
        names.append("mnist.npz")
    if "cifar10" in datasets:
        names += ["cifar10_train.npz", "cifar10_train_10k.npz", "cifar10_test.npz"]
    return names


def _md5_expectations(checksums: dict) -> dict[tuple[str, str], list[tuple[str, str, str]]]:
    """(file, array) -> [(kind, md5, where it comes from)]; kind "array" is the md5 of the
    array's bytes, kind "idx" the md5 of the array written as an official IDX file."""
    out: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    for (name, key), md5 in sources.KNOWN_MD5.items():
        out.setdefault((name, key), []).append(("array", md5, "KNOWN_MD5 (ebjepa_mini/data/sources.py)"))
    for key, (gz_name, _, raw_md5) in MNIST_FILES.items():
        out.setdefault(("mnist.npz", key), []).append(("idx", raw_md5, f"official {gz_name[:-3]}"))
    for name, entry in checksums.get("files", {}).items():
        for key, info in (entry.get("arrays") or {}).items():
            if isinstance(info, dict) and "md5" in info:
                out.setdefault((name, key), []).append(("array", info["md5"], CHECKSUMS_NAME))
    return out


def _check_file(root: Path, name: str, expect_md5, checks: list[Check]) -> dict[str, np.ndarray]:
    """Check one archive; append to ``checks``; return its label/index arrays for cross-checks."""
    path = root / name
    shapes = EXPECTED_SHAPES[name]

    def add(ok: bool, message: str):
        checks.append(Check("OK" if ok else "FAIL", name, message))

    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except Exception as e:  # noqa: BLE001 - any unreadable archive is a failed check
        add(False, f"cannot be read as .npz ({type(e).__name__}: {e})")
        return {}
    missing = [k for k in shapes if k not in arrays]
    if missing:
        add(False, f"missing arrays {missing} (has {sorted(arrays)})")
    kept = {}
    for key, shape in shapes.items():
        if key not in arrays:
            continue
        a = arrays[key]
        dtype = np.dtype(np.uint8 if key.startswith("x") else np.int64)
        good = a.shape == shape and a.dtype == dtype
        add(good, f"{key} {a.shape} {a.dtype}" + ("" if good else f", expected {shape} {dtype}"))
        if not good:
            continue
        if (name, key) in EXPECTED_COUNTS:
            if a.size and (a.min() < 0 or a.max() >= NUM_CLASSES):
                add(False, f"{key} labels outside 0..{NUM_CLASSES - 1} ({a.min()}..{a.max()})")
                continue
            counts = np.bincount(a, minlength=NUM_CLASSES).tolist()
            want = EXPECTED_COUNTS[(name, key)]
            add(counts == want, f"{key} class counts {counts}" + ("" if counts == want else f", expected {want}"))
        if key == "index":
            if name == "cifar10_train_10k.npz":
                ok = bool(np.all(np.diff(a) > 0)) and (a.size == 0 or (a[0] >= 0 and a[-1] < CIFAR_TRAIN_SIZE))
                add(ok, "index strictly increasing within the training set" if ok else
                    f"index must be strictly increasing within 0..{CIFAR_TRAIN_SIZE - 1}")
            else:
                ok = np.array_equal(a, np.arange(len(a)))
                add(ok, "index is 0..N-1 (original order)" if ok else "index is not 0..N-1")
        if key in ("y", "index"):
            kept[key] = a
        for kind, md5, where in expect_md5.get((name, key), []):
            got = sources.array_md5(a) if kind == "array" else hashlib.md5(idx_bytes(a.astype(np.uint8))).hexdigest()
            label = "md5" if kind == "array" else "md5 as IDX file"
            add(got == md5, f"{key} {label} {got} " + ("matches " if got == md5 else f"!= {md5} from ") + where)
        if key == "x" and not any(k == "array" for k, _, _ in expect_md5.get((name, key), [])):
            checks.append(Check("NOTE", name, f"{key}: no content md5 known (the offline CIFAR copies are "
                                              f"JPEG-decoded; files built by get_data.py list theirs in "
                                              f"{CHECKSUMS_NAME})"))
    return kept


def verify_dir(root: str | os.PathLike, datasets=("mnist", "cifar10"),
               require_full: bool | None = None) -> list[Check]:
    """Check the archives of ``datasets`` in the data directory ``root``.

    Required: ``mnist.npz`` for MNIST; ``cifar10_test.npz`` and at least one of
    ``cifar10_train.npz`` / ``cifar10_train_10k.npz`` for CIFAR-10 (``require_full=True``
    requires the full one, ``False`` skips it). Every file present is checked.

    Returns:
        the report lines; the directory passes when none has status FAIL.
    """
    root = Path(root)
    checks: list[Check] = []
    try:
        checksums = read_checksums(root)
    except ValueError as e:
        checks.append(Check("FAIL", CHECKSUMS_NAME, str(e)))
        checksums = {}
    expect_md5 = _md5_expectations(checksums)
    kept = {}
    for name in _files_for(datasets):
        present = (root / name).is_file()
        if name == "cifar10_train.npz" and require_full is False:
            checks.append(Check("SKIP", name, "not checked (--no-full-cifar)"))
            continue
        if not present:
            optional = (name == "cifar10_train.npz" and not require_full) or \
                       (name == "cifar10_train_10k.npz" and (root / "cifar10_train.npz").is_file()
                        and require_full is not False)
            if optional:
                checks.append(Check("SKIP", name, "not present (optional)"))
            else:
                checks.append(Check("FAIL", name, f"missing in {root}; run python data_scripts/get_data.py"))
            continue
        kept[name] = _check_file(root, name, expect_md5, checks)
    full, sub = kept.get("cifar10_train.npz", {}), kept.get("cifar10_train_10k.npz", {})
    if "y" in full and "y" in sub and "index" in sub:
        try:
            ok = np.array_equal(select_per_class(full["y"], CIFAR_SUBSET_PER_CLASS), sub["index"]) and \
                np.array_equal(full["y"][sub["index"]], sub["y"])
        except (ValueError, IndexError):
            ok = False
        checks.append(Check("OK" if ok else "FAIL", "cifar10_train_10k.npz",
                            "index and y agree with cifar10_train.npz (first "
                            f"{CIFAR_SUBSET_PER_CLASS} per class)" if ok else
                            "index/y do not follow the first-per-class rule on cifar10_train.npz"))
    return checks


def report(checks: list[Check], out=None) -> bool:
    """Print the checks and a summary (to ``out``, default stdout); True when nothing failed."""
    out = sys.stdout if out is None else out
    for c in checks:
        print(c, file=out)
    failed = [c for c in checks if c.status == "FAIL"]
    n = sum(c.status in ("OK", "FAIL") for c in checks)
    print(f"FAILED: {len(failed)} of {n} checks." if failed else f"All {n} checks passed.", file=out)
    return not failed


# --------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------

def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="get_data.py",
        description="Download MNIST and CIFAR-10, check their md5s and write the NumPy archives "
                    "the chapters read ($EBJEPA_DATA, default ./data).")
    p.add_argument("--dataset", choices=("mnist", "cifar10", "all"), default="all",
                   help="which dataset (default: all)")
    p.add_argument("--dest", default=None,
                   help="data directory (default: $EBJEPA_DATA, else ./data)")
    p.add_argument("--verify-only", action="store_true",
                   help="download nothing; check the archives already in the data directory")
    p.add_argument("--full-cifar", action=argparse.BooleanOptionalAction, default=None,
                   help="also write cifar10_train.npz with all 50,000 training images "
                        "(default: yes; with --verify-only: require / skip it)")
    p.add_argument("--raw-dir", default=None,
                   help="where downloads are kept and reused (default: DEST/raw)")
    p.add_argument("--mnist-mirror", action="append", default=[], metavar="URL",
                   help="extra MNIST base URL, tried before the built-in mirrors (repeatable)")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds per network read (default: 60)")
    return p.parse_args(argv)


def _offline_message(err: DownloadError, dest: Path) -> str:
    what = ("a download did not match its published md5 and was refused"
            if err.corrupt else "no network, or the sources are unreachable")
    return (f"ERROR: {err}\n\n"
            f"Cause: {what}. No archive in {dest} was written or changed "
            f"(finished downloads are kept for the next run).\n"
            f"The chapters still run: they use the offline fallback, i.e. the offline copies "
            f"if $EBJEPA_DATA points at them, else the labelled scikit-learn digits fallback "
            f"(ImageData.is_fallback=True, 'FALLBACK' in .source).")


def main(argv=None) -> int:
    args = parse_args(argv)
    dest = Path(args.dest).expanduser() if args.dest else sources.data_dir()
    datasets = ("mnist", "cifar10") if args.dataset == "all" else (args.dataset,)

    if args.verify_only:
        print(f"Verifying {dest.resolve()} ({', '.join(datasets)})")
        return EXIT_OK if report(verify_dir(dest, datasets, require_full=args.full_cifar)) else EXIT_VERIFY

    raw_dir = Path(args.raw_dir).expanduser() if args.raw_dir else dest / "raw"
    full = args.full_cifar is not False
    # 1. every download first (md5-checked), so that a failure leaves DEST untouched
    try:
        if "mnist" in datasets:
            print("MNIST")
            mirrors = list(args.mnist_mirror) + list(MNIST_MIRRORS)
            for name, gz_md5, _ in MNIST_FILES.values():
                fetch(name, [m.rstrip("/") + "/" + name for m in mirrors], gz_md5, raw_dir, args.timeout)
        if "cifar10" in datasets:
            print("CIFAR-10")
            fetch(CIFAR_TARBALL, list(CIFAR_URLS), CIFAR_MD5, raw_dir, args.timeout)
    except DownloadError as e:
        print(_offline_message(e, dest), file=sys.stderr)
        return e.exit_code

    # 2. parse and write, one dataset at a time (each archive atomically)
    try:
        if "mnist" in datasets:
            arrays = build_mnist(raw_dir)
            atomic_savez(dest / "mnist.npz", arrays)
            print(f"wrote {dest / 'mnist.npz'}")
            record_checksums(dest, {"mnist.npz": arrays}, {"mnist.npz": "official MNIST IDX .gz files, md5-verified: "
                                                           + ", ".join(v[0] for v in MNIST_FILES.values())})
            del arrays
        if "cifar10" in datasets:
            files = build_cifar10(raw_dir / CIFAR_TARBALL, full=full)
            for name, arrays in files.items():
                atomic_savez(dest / name, arrays)
                print(f"wrote {dest / name}")
            record_checksums(dest, files, {n: f"{CIFAR_URLS[0]} (md5 {CIFAR_MD5})" for n in files})
            del files
    except (ValueError, ChecksumError, pickle.UnpicklingError, tarfile.TarError) as e:
        print(f"ERROR: a verified download could not be converted: {e}", file=sys.stderr)
        return EXIT_VERIFY

    # 3. check what was written, as --verify-only would
    print(f"Verifying {dest.resolve()}")
    return EXIT_OK if report(verify_dir(dest, datasets, require_full=full)) else EXIT_VERIFY


if __name__ == "__main__":
    sys.exit(main())
