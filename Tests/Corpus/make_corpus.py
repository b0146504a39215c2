"""Writes the bad-input corpus: one file per defect, named after it, written byte by byte
from the format description in dkl-stream(5) (independently of the toolkit's writer).

Run from this folder:  /usr/bin/python3 make_corpus.py
expected.tsv pins, for each file, the command's arguments, exit status and message.
"""
import json, struct
import numpy as np

MAGIC = b"\x89DKL\r\n\x1a\n"
FIELDS = [{"name": "y", "dtype": "i32", "shape": []}, {"name": "x", "dtype": "i32", "shape": []},
          {"name": "v", "dtype": "f32", "shape": [3], "nan": False}]
REC = np.dtype([("y", "<i4"), ("x", "<i4"), ("v", "<f4", (3,))])


def header(fields=FIELDS, version=1):
    h = json.dumps({"dkl_stream": 1, "fields": fields, "attrs": {"grid": [2, 3]}, "provenance": []},
                   separators=(",", ":")).encode()
    h += b" " * ((8 - (16 + len(h)) % 8) % 8)
    return MAGIC + struct.pack("<II", version, len(h)) + h


def records(n=6):
    r = np.zeros(n, REC)
    r["y"], r["x"] = np.divmod(np.arange(n), 3)
    r["v"] = np.arange(3 * n, dtype="f4").reshape(n, 3) / 4
    return r


def end(n):
    return b"DKL_END\n" + struct.pack("<Q", n)


def stream(recs=None, n=None):
    recs = records() if recs is None else recs
    return header() + recs.tobytes() + end(len(recs) if n is None else n)


def ndjson(lines):
    head = json.dumps({"dkl_stream": 1, "fields": FIELDS, "attrs": {}, "provenance": []}, separators=(",", ":"))
    return ("\n".join([head] + lines) + "\n").encode()


good = stream()
files = {
    "valid.dkl": good,
    "valid.ndjson": ndjson(['{"y":0,"x":%d,"v":[1,2.5,-3e-2]}' % i for i in range(3)]),
    "empty.dkl": b"",
    "bad-magic.dkl": b"\x89DKM" + good[4:],
    "bad-version.dkl": good[:8] + struct.pack("<I", 7) + good[12:],
    "truncated-header.dkl": good[:40],
    "truncated.dkl": good[:len(header()) + 2 * REC.itemsize + 7],
    "no-end-marker.dkl": good[:-16],
    "bad-count.dkl": stream(n=5),
    "header-not-json.dkl": MAGIC + struct.pack("<II", 1, 8) + b"{fields:",
    "header-record-mismatch.dkl": header([dict(f, shape=[4]) if f["name"] == "v" else f for f in FIELDS])
                                  + records().tobytes() + end(6),
    "data-after-end.dkl": good + good,
    "nan-not-allowed.dkl": stream(np.concatenate([records(2), np.array([(1, 2, (0, np.nan, 0))], REC)])),
    "invalid-json-line.ndjson": ndjson(['{"y":0,"x":0,"v":[1,2,3]}', '{"y":0,"x":1,"v":[1,2,3]']),
    "nan-not-allowed.ndjson": ndjson(['{"y":0,"x":0,"v":[1,null,3]}']),
    "wrong-shape.ndjson": ndjson(['{"y":0,"x":0,"v":[1,2,3]}', '{"y":0,"x":1,"v":[[1,2,3]]}']),
    "unknown-field.ndjson": ndjson(['{"y":0,"x":0,"v":[1,2,3],"w":1}']),
    "missing-field.ndjson": ndjson(['{"y":0,"v":[1,2,3]}']),
    "not-json-header.ndjson": b"{dkl_stream: 1}\n",
    "not-hdf5.h5": b"this is text, not HDF5\n",
    "empty.npy": b"",
}
for name, data in files.items():
    open(name, "wb").write(data)

np.save("unsupported-dtype.npy", np.zeros(4, np.complex64))
np.save("structured-dtype.npy", np.zeros(4, [("a", "<f4")]))
np.save("wrong-rank.npy", np.zeros((2, 2, 2, 2, 2), "<f4"))
full = open("unsupported-dtype.npy", "rb").read()
np.save("truncated-source.npy", np.zeros((8, 8), "<f8"))
open("truncated.npy", "wb").write(open("truncated-source.npy", "rb").read()[:300])
import os
os.remove("truncated-source.npy")
open("bad-magic.npy", "wb").write(b"\x93NUMPZ" + full[6:])

import h5py
with h5py.File("dataset-not-found.h5", "w") as f:
    f.create_dataset("spectra", data=np.zeros((2, 2, 3), "<f4"))
with h5py.File("wrong-rank.h5", "w") as f:
    f.create_dataset("cube", data=np.zeros((2, 2, 2, 2, 2), "<f4"))

# The crash classes of dkl-cat's readers, one file each.
# An NPY header declaring (2**40, 2**40) float64 values, with none behind it.
h = "{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776, 1099511627776), }"
h += " " * (118 - len(h)) + "\n"
open("shape-overflow.npy", "wb").write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode())
# A chunked dataset of 2**62 rows of fill values.
with h5py.File("huge-chunked.h5", "w") as f:
    f.create_dataset("huge", shape=(2**62, 1), dtype="f8", chunks=(1024, 1), maxshape=(None, 1))
# A USID file whose position index table holds a negative index.
with h5py.File("usid-negative-index.h5", "w") as f:
    g = f.create_group("Measurement_000/Channel_000")
    d = g.create_dataset("Raw_Data", data=np.arange(4.0).reshape(4, 1))
    d.attrs["quantity"] = "Current"
    g["Position_Indices"] = np.array([[0, 0], [0, -1], [1, 0], [1, 1]], "<f8")
    g["Position_Values"] = np.zeros((4, 2))
    g["Spectroscopic_Indices"] = np.zeros((1, 1), "<u4")
    g["Spectroscopic_Values"] = np.zeros((1, 1))
# A variable-length string attribute whose global heap object claims 2**31 bytes (the
# heap collection: 'GCOL', version, 3 reserved, its size (8); then object 1: index (2),
# reference count (2), reserved (4), size (8)).
with h5py.File("damaged-heap.h5", "w") as f:
    d = f.create_dataset("image", data=np.zeros((4, 4), "<f4"))
    d.attrs["units"] = "nanometres"
raw = bytearray(open("damaged-heap.h5", "rb").read())
at = raw.index(b"GCOL") + 16
assert struct.unpack("<H", raw[at:at + 2])[0] == 1
raw[at + 8:at + 16] = struct.pack("<Q", 2**31)
open("damaged-heap.h5", "wb").write(bytes(raw))

# damaged-attribute-message.h5 is not made here: it is a VAE model file damaged by the
# fuzzer (FuzzTests, vae-model case 288: four flipped bytes) on which libhdf5 segfaulted
# in H5Fclose, freeing a damaged attribute message; kept as it was found.

# damaged-chunk.h5 is not made here either: the fuzzer's HDF5 seed (FuzzTests: a 16 x 16
# float32 image in gzip chunks of 8 x 8) with byte 976 of its chunk index set to 31, on
# which libhdf5 copied from past its buffer in H5Dread (dkl-plot map segfaulted) or read
# other bytes than the image's without a word (dkl-cat); kept as it was found.
