"""Writes the NPY and plain-HDF5 test fixtures with numpy and h5py.

Run from this folder:  /usr/bin/python3 make_npy_h5.py
Values follow formulas the tests recompute independently:
  numeric:  v[i,j,k] = 100*i + 10*j + k - 60 (signed), the same + 60 (unsigned),
            plus 0.25 for floats;  bool: (i + j + k) % 2 == 0.
"""
import numpy as np, h5py

shape = (2, 3, 4)
i, j, k = np.indices(shape)
base = 100 * i + 10 * j + k

for code in ["f4", "f8", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "b1"]:
    if code == "b1":
        v = (i + j + k) % 2 == 0
    elif code[0] == "u":
        v = base
    elif code[0] == "i":
        v = base - 60
    else:
        v = base - 60 + 0.25
    for order in ["<", ">"]:
        if code in ("i1", "u1", "b1") and order == ">":
            continue
        dt = np.dtype(order + code) if code not in ("i1", "u1", "b1") else np.dtype(code)
        a = np.asarray(v, dtype=dt)
        tag = {"<": "le", ">": "be"}[order]
        np.save(f"npy/{code}_{tag}_c.npy", a)
        np.save(f"npy/{code}_{tag}_f.npy", np.asfortranarray(a))

a = (base - 60 + 0.25).astype("<f4")
np.lib.format.write_array(open("npy/f4_v2.npy", "wb"), a, version=(2, 0))
np.lib.format.write_array(open("npy/f4_v3.npy", "wb"), a, version=(3, 0))
np.save("npy/scalar_f8.npy", np.float64(2.5))
np.save("npy/vector_f4.npy", np.arange(7, dtype="<f4") * 0.5)
np.save("npy/complex.npy", np.zeros(3, dtype=np.complex64))
np.save("npy/structured.npy", np.zeros(3, dtype=[("a", "<f4"), ("b", "<i4")]))

with h5py.File("h5/plain.h5", "w") as f:
    d = f.create_dataset("data", data=(base - 60 + 0.25).astype("<f4"))
    d.attrs["units"] = "counts"                          # variable-length UTF-8 string
    d.attrs["scale"] = 0.5
    d.attrs["axis"] = np.array([1.0, 2.0, 3.0])
    d.attrs["label"] = np.bytes_("fixed")                # fixed-length string
    g = f.create_group("group/sub")
    g.create_dataset("ints", data=np.arange(5, dtype=">i2") - 2)
    g.attrs["count"] = np.int32(5)
    f.create_dataset("big", data=np.arange(64 * 32 * 16, dtype="<f8").reshape(64, 32, 16) * 0.5,
                     chunks=(8, 8, 16), compression="gzip", shuffle=True)
    f.create_dataset("text", data=np.array([b"a", b"b"]))
with h5py.File("h5/single.h5", "w") as f:
    f.create_dataset("only/image", data=np.arange(12, dtype="<f8").reshape(3, 4))
