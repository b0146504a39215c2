"""Writes the HyperSpy fixtures with HyperSpy itself, from the real DigitalMicrograph files in ../dm.

Run here in a virtual environment (HyperSpy is used only for this):
    python3 -m venv /tmp/hs && /tmp/hs/bin/pip install hyperspy h5py
    /tmp/hs/bin/python make_hspy.py
Each .npy is what HyperSpy loads back from the .hspy file beside it.
"""
import numpy as np
import hyperspy.api as hs

si = hs.load("../dm/SI-EELS_Spectrum_Image.dm3")
si.inav[:, :8].save("si_eels.hspy", overwrite=True)          # the first 8 of 49 rows
haadf = hs.load("../dm/SI-HAADF.dm3")
haadf.isig[:, :96].save("haadf.hspy", overwrite=True)         # the first 96 of 1568 rows
# Three spectra on an uneven energy axis (a DataAxis of values).
sp = hs.signals.Signal1D(np.arange(24, dtype="f8").reshape(3, 8) ** 1.5)
sp.axes_manager[-1].convert_to_non_uniform_axis()
sp.axes_manager[-1].axis = np.array([0.1, 0.2, 0.4, 0.7, 1.1, 1.6, 2.2, 2.9])
sp.axes_manager[-1].name = "Energy"
sp.axes_manager[-1].units = "eV"
sp.metadata.General.title = "uneven"
sp.save("uneven.hspy", overwrite=True)
for name in ["si_eels", "haadf", "uneven"]:
    np.save(f"{name}.npy", hs.load(f"{name}.hspy").data)
