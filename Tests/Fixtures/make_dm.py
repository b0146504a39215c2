"""A DigitalMicrograph DM3/DM4 writer for test fixtures and benchmarks (numpy only).

It writes the tag-group layout DigitalMicrograph uses (and the toolkit, HyperSpy and
others read): a header (version, root size, byte order of the values), then a tree of tag
groups; the images are the groups of ImageList (the first, a thumbnail), each with
ImageData (Data, DataType, Dimensions fastest first, Calibrations) and ImageTags.

    python3 make_dm.py FOLDER            the small fixtures of dm/generated (see README there)
    python3 make_dm.py --big PATH GIB    a float32 spectrum image of about GIB GiB, in DM4,
                                         written block by block (for bench/formats.sh)
"""
import struct
import sys

import numpy as np

# DigitalMicrograph's number types in tags, and its image DataType codes.
TAG_TYPE = {np.dtype("int16"): 2, np.dtype("int32"): 3, np.dtype("uint16"): 4, np.dtype("uint32"): 5,
            np.dtype("float32"): 6, np.dtype("float64"): 7, np.dtype("bool"): 8, np.dtype("int8"): 9,
            np.dtype("uint8"): 10, np.dtype("int64"): 11, np.dtype("uint64"): 12}
DATA_TYPE = {np.dtype("int16"): 1, np.dtype("float32"): 2, np.dtype("complex64"): 3, np.dtype("uint8"): 6,
             np.dtype("int32"): 7, np.dtype("int8"): 9, np.dtype("uint16"): 10, np.dtype("uint32"): 11,
             np.dtype("float64"): 12, np.dtype("complex128"): 13, np.dtype("bool"): 14, np.dtype("int64"): 39,
             np.dtype("uint64"): 40}
RGB = 23


class Writer:
    def __init__(self, version, little):
        self.version, self.little = version, little
        self.count = ">Q" if version == 4 else ">I"
        self.order = "<" if little else ">"

    # Values: a number, a string (as an array of UTF-16 units), an array of numbers.
    def number(self, value, dtype):
        dtype = np.dtype(dtype)
        return self.data([TAG_TYPE[dtype]], np.asarray(value, dtype=dtype.newbyteorder(self.order)).tobytes())

    def text(self, s):
        units = np.frombuffer(s.encode("utf-16-le"), "<u2")
        return self.data([20, 4, len(units)], units.astype(np.dtype("u2").newbyteorder(self.order)).tobytes())

    def array(self, values, tag_type, count):
        return self.data([20, tag_type, count], values)

    def data(self, info, payload):
        body = b"%%%%" + struct.pack(self.count, len(info)) + b"".join(struct.pack(self.count, i) for i in info)
        return ("data", body + payload)

    def group(self, tags):
        """tags: a list of (name, value); name "" for list entries."""
        body = b"\x01\x00" + struct.pack(self.count, len(tags))
        for name, (kind, content) in tags:
            raw = name.encode("latin-1")
            body += bytes([20 if kind == "group" else 21]) + struct.pack(">H", len(raw)) + raw
            if self.version == 4:
                body += struct.pack(">Q", len(content))
            body += content
        return ("group", body)

    def file(self, root):
        _, body = root
        head = struct.pack(">I", self.version) + struct.pack(self.count, len(body)) + struct.pack(">I", 1 if self.little else 0)
        return head + body


def image(w, data, dims, data_type, name, calibrations, meta, payload_type=None):
    """One ImageList entry: `data` as raw bytes already in the file's byte order, `dims`
    fastest first, `calibrations` a list of (origin, scale, units) per dimension."""
    tag_type, count = payload_type
    return ("", w.group([
        ("ImageData", w.group([
            ("Calibrations", w.group([
                ("Dimension", w.group([("", w.group([("Origin", w.number(o, "f4")), ("Scale", w.number(s, "f4")),
                                                     ("Units", w.text(u))])) for o, s, u in calibrations])),
            ])),
            ("Data", w.array(data, tag_type, count)),
            ("DataType", w.number(data_type, "i4")),
            ("Dimensions", w.group([("", w.number(d, "u4")) for d in dims])),
        ])),
        ("ImageTags", w.group([
            ("Meta Data", w.group([(k, w.text(v)) for k, v in meta.items()])),
            ("Microscope Info", w.group([("Voltage", w.number(200000.0, "f8"))])),
        ])),
        ("Name", w.text(name)),
    ]))


def thumbnail(w):
    t = np.zeros((4, 4), np.float32)
    return image(w, t.astype(t.dtype.newbyteorder(w.order)).tobytes(), [4, 4], 2, "thumbnail",
                 [(0, 1, ""), (0, 1, "")], {}, (6, 16))


def write(path, version, little, images):
    w = Writer(version, little)
    entries = [thumbnail(w)] + [f(w) for f in images]
    root = w.group([("ImageList", w.group(entries)), ("Version", w.number(3, "u4"))])
    open(path, "wb").write(w.file(root))


def plain(array, name, calibrations, meta=None, order=None):
    """An image entry of a numpy array whose C order is DigitalMicrograph's storage order
    (slowest first): its dimensions are the array's, reversed."""
    def f(w):
        a = np.ascontiguousarray(array)
        dtype = a.dtype
        data = a.astype(dtype.newbyteorder(w.order)).tobytes()
        if dtype == np.complex64:
            # One 8-byte element per pixel (HyperSpy reads Data's count as the pixel count).
            payload = (TAG_TYPE[np.dtype("f8")], a.size)
        elif dtype == np.complex128:
            payload = (TAG_TYPE[np.dtype("f8")], a.size * 2)
        else:
            payload = (TAG_TYPE[dtype], a.size)
        return image(w, data, list(a.shape[::-1]), DATA_TYPE[dtype], name, calibrations, meta or {}, payload)
    return f


def rgb(pixels, name):
    """An RGB image of (H, W, 4) R, G, B, A values, stored as DigitalMicrograph does: four
    bytes B, G, R, A per pixel, in uint32 values."""
    def f(w):
        raw = np.ascontiguousarray(pixels[..., [2, 1, 0, 3]], np.uint8).tobytes()
        h, wd = pixels.shape[:2]
        return image(w, raw, [wd, h], RGB, name, [(0, 1, ""), (0, 1, "")], {}, (5, h * wd))
    return f


def fixtures(folder):
    rng = np.random.default_rng(17)
    # A spectrum image (y, x, E) = (3, 4, 50), stored as energy planes, big-endian, DM3.
    si = rng.normal(100, 10, size=(3, 4, 50)).astype(np.float32)
    write(f"{folder}/si_big_endian.dm3", 3, False,
          [plain(np.transpose(si, (2, 0, 1)), "SI", [(0, 0.5, "nm"), (0, 0.5, "nm"), (-200, 0.25, "eV")],
                 {"Format": "Spectrum image", "Signal": "EELS"})])
    np.save(f"{folder}/si_big_endian.npy", si)
    # A stack of 5 frames of 6 x 7 uint16, DM4, little-endian.
    stack = rng.integers(0, 60000, size=(5, 6, 7)).astype(np.uint16)
    write(f"{folder}/stack.dm4", 4, True, [plain(stack, "frames", [(0, 0.1, "nm"), (0, 0.1, "nm"), (0, 1, "s")])])
    np.save(f"{folder}/stack.npy", stack)
    # 4-D STEM data (y, x, ky, kx) = (3, 2, 5, 4), int16, DM4, big-endian.
    cube = rng.integers(-3000, 3000, size=(3, 2, 5, 4)).astype(np.int16)
    write(f"{folder}/4d_big_endian.dm4", 4, False,
          [plain(cube, "4D", [(0, 1, "1/nm"), (0, 1, "1/nm"), (0, 2, "nm"), (0, 2, "nm")])])
    np.save(f"{folder}/4d_big_endian.npy", cube)
    # Two images of other types in one DM3 file: int8 and float64, chosen by name or index.
    a = rng.integers(-128, 128, size=(4, 5)).astype(np.int8)
    b = rng.normal(size=(4, 5))
    write(f"{folder}/two_images.dm3", 3, True, [plain(a, "int8 image", [(0, 1, ""), (0, 1, "")]),
                                                plain(b, "float64 image", [(0, 1, ""), (0, 1, "")])])
    np.save(f"{folder}/two_images_0.npy", a)
    np.save(f"{folder}/two_images_1.npy", b)
    # A complex64 image (an FFT, say): read as its modulus.
    c = (rng.normal(size=(6, 8)) + 1j * rng.normal(size=(6, 8))).astype(np.complex64)
    write(f"{folder}/complex.dm3", 3, True, [plain(c, "FFT", [(0, 1, "1/nm"), (0, 1, "1/nm")])])
    np.save(f"{folder}/complex_modulus.npy", np.abs(c.astype(np.complex128)))
    # An RGB image (R, G, B, A bytes per pixel).
    px = rng.integers(0, 256, size=(3, 5, 4)).astype(np.uint8)
    write(f"{folder}/rgb.dm3", 3, True, [rgb(px, "colour")])
    np.save(f"{folder}/rgb.npy", px)


def big(path, gib):
    """A float32 spectrum image of about `gib` GiB in DM4 (y, x, E = 2048 channels), its
    energy planes written one at a time, each value a function of its place. The sizes
    DM4 keeps per tag are those of the stand-in (readers that skip by them are not its
    audience: the toolkit parses the tree)."""
    e = 2048
    side = int((gib * 2**30 / 4 / e) ** 0.5)
    h = w_ = side
    w = Writer(4, True)
    n = h * w_ * e
    marker = b"DKL-DATA"   # a stand-in for the values, replaced as the file is written
    entry = image(w, marker, [w_, h, e], DATA_TYPE[np.dtype("float32")], "SI",
                  [(0, 1, "nm"), (0, 1, "nm"), (800, 0.5, "eV")], {"Format": "Spectrum image", "Signal": "EELS"}, (6, n))
    root = w.group([("ImageList", w.group([thumbnail(w), entry]))])
    blob = w.file(root)
    at = blob.index(marker)
    with open(path, "wb") as f:
        f.write(blob[:at])
        y, x = np.mgrid[0:h, 0:w_]
        for k in range(e):
            f.write(((y * 7 + x * 3 + k) % 1000).astype("<f4").tobytes())
        f.write(blob[at + 8:])
    print(f"{path}: {h} x {w_} x {e} float32, {n * 4 / 2**30:.2f} GiB")


if __name__ == "__main__":
    if sys.argv[1] == "--big":
        big(sys.argv[2], float(sys.argv[3]))
    else:
        fixtures(sys.argv[1])
