"""A small Pyro5 server that imitates a digital-twin microscope (go_to, get_spectrum,
get_overview_image) over a pre-acquired cube, on 127.0.0.1, for the adapter's test.

usage: python pyro5_microscope_server.py CUBE.npy IMAGE.npy URI_FILE
It writes its URI to URI_FILE once it serves, and stops after 120 s at the latest.
"""
import sys
import threading
import numpy as np
import Pyro5.api

cube = np.load(sys.argv[1])
image = np.load(sys.argv[2])


@Pyro5.api.expose
class Microscope:
    def __init__(self):
        self.x = self.y = 0

    def go_to(self, x, y):
        if not (0 <= y < cube.shape[0] and 0 <= x < cube.shape[1]):
            raise ValueError("position (%d, %d) outside the scan" % (x, y))
        self.x, self.y = x, y

    def get_spectrum(self):
        return cube[self.y, self.x].tolist()

    def get_overview_image(self):
        return image.tolist()


daemon = Pyro5.api.Daemon(host="127.0.0.1", port=0)
uri = daemon.register(Microscope(), "microscope")
threading.Timer(120, daemon.shutdown).start()
with open(sys.argv[3] + ".tmp", "w") as f:
    f.write(str(uri))
import os
os.rename(sys.argv[3] + ".tmp", sys.argv[3])
daemon.requestLoop()
