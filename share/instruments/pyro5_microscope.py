#!/usr/bin/env python3
"""An instrument for dkl-explore --instrument (dkl-instrument(7)) that drives a microscope
exposed as a Pyro5 remote object, as the pycroscopy digital-twin microscope servers are:

    go_to(x, y)            move the beam (or tip) to pixel column x, row y
    get_spectrum()         the spectrum (or diffraction pattern) measured there
    get_overview_image()   the structural image (optional)

usage: python3 pyro5_microscope.py URI [--go-to NAME] [--measure NAME] [--image NAME]

URI is the object's Pyro5 URI (PYRO:name@host:port, or PYRONAME:name with a name
server). The method names can be changed for servers that name them otherwise. Nested
lists and numbers come back as the measurement; shape is taken from the nesting. Run it
with a Python that has Pyro5 (pip install Pyro5); the toolkit only starts it:

    dkl-explore --instrument python3 --instrument-arg pyro5_microscope.py \\
        --instrument-arg PYRO:microscope@127.0.0.1:9090 -S com ... --trace t.ndjson image.npy
"""
import argparse
import json
import sys


def shape_and_values(data):
    """The shape and the flattened values of nested lists (or anything with tolist())."""
    if hasattr(data, "tolist"):
        data = data.tolist()
    shape, level = [], data
    while isinstance(level, (list, tuple)):
        shape.append(len(level))
        level = level[0] if level else None
    flat = []

    def walk(x):
        if isinstance(x, (list, tuple)):
            for v in x:
                walk(v)
        else:
            flat.append(float(x))

    walk(data)
    return (shape or [1]), flat


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("uri")
    ap.add_argument("--go-to", default="go_to")
    ap.add_argument("--measure", default="get_spectrum")
    ap.add_argument("--image", default="get_overview_image")
    args = ap.parse_args()
    import Pyro5.api

    microscope = None

    def answer(obj):
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()

    for line in sys.stdin:
        try:
            request = json.loads(line)
            op = request.get("op")
            if op == "hello":
                microscope = Pyro5.api.Proxy(args.uri)
                microscope._pyroBind()
                answer({"ok": True, "protocol": 1, "name": "pyro5 " + args.uri})
            elif op == "measure":
                getattr(microscope, args.go_to)(int(request["x"]), int(request["y"]))
                shape, values = shape_and_values(getattr(microscope, args.measure)())
                answer({"ok": True, "shape": shape, "values": values, "y": request["y"], "x": request["x"]})
            elif op == "image":
                shape, values = shape_and_values(getattr(microscope, args.image)())
                answer({"ok": True, "shape": shape, "values": values})
            elif op == "bye":
                answer({"ok": True})
                return
            else:
                answer({"ok": False, "error": "unknown op %r" % op})
        except Exception as e:  # every failure is an answer; the toolkit decides what to do
            print("pyro5_microscope: %s: %s" % (type(e).__name__, e), file=sys.stderr, flush=True)
            answer({"ok": False, "error": "%s: %s" % (type(e).__name__, e)})


if __name__ == "__main__":
    main()
