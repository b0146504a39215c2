"""Writes the microscopy-layout HDF5 fixtures with the field's own writers.

Run from this folder in a virtual environment (these packages are used only here):
    python3 -m venv /tmp/fx && /tmp/fx/bin/pip install numpy h5py emdfile pyNSID pyUSID
    /tmp/fx/bin/python make_microscopy_h5.py
Every file holds the same spectrum image, v[y, x, e] = 100*y + 10*x + e + 0.5, of
shape (3, 4, 5), plus other datasets the reader must skip to find it.
"""
import warnings
import numpy as np, h5py

warnings.filterwarnings("ignore")
shape = (3, 4, 5)
y, x, e = np.indices(shape)
cube = (100 * y + 10 * x + e + 0.5).astype(np.float32)

# EMD 1.0 (the Berkeley EMD specification): a group with emd_group_type = 1 holds 'data'
# and one dimension vector per axis.
with h5py.File("h5/emd1.emd", "w") as f:
    f.attrs["version_major"] = 1
    f.attrs["version_minor"] = 0
    g = f.create_group("data/spectrum_image")
    g.attrs["emd_group_type"] = 1
    g.create_dataset("data", data=cube)
    for i, (n, u) in enumerate([("y", "nm"), ("x", "nm"), ("energy", "eV")]):
        d = g.create_dataset(f"dim{i + 1}", data=np.arange(shape[i], dtype="f8"))
        d.attrs["name"] = n
        d.attrs["units"] = u
    f.create_group("microscope").attrs["voltage"] = 300.0

# emdfile (py4DSTEM's EMD 1.0 writer).
import emdfile
root = emdfile.Root(name="experiment")
root.add_to_tree(emdfile.Array(data=cube, name="spectrum_image", units="counts",
                               dims=[np.arange(3), np.arange(4), np.arange(5)]))
emdfile.save("h5/emdfile.h5", root, mode="o")

# NSID (pycroscopy's pyNSID over a sidpy Dataset).
import sidpy, pyNSID
ds = sidpy.Dataset.from_array(cube, title="spectrum_image")
ds.data_type = "SPECTRAL_IMAGE"
ds.quantity = "intensity"
ds.units = "counts"
ds.set_dimension(0, sidpy.Dimension(np.arange(3), "y", units="nm", quantity="length", dimension_type="spatial"))
ds.set_dimension(1, sidpy.Dimension(np.arange(4), "x", units="nm", quantity="length", dimension_type="spatial"))
ds.set_dimension(2, sidpy.Dimension(np.arange(5) * 0.1 + 1, "energy", units="eV", quantity="energy", dimension_type="spectral"))
with h5py.File("h5/nsid.h5", "w") as f:
    grp = f.create_group("Measurement_000/Channel_000")
    pyNSID.hdf_io.write_nsid_dataset(ds, grp, main_data_name="spectrum_image")

# USID (pycroscopy's pyUSID): a (positions, spectral) main dataset with ancillary indices.
if not hasattr(np, "product"):   # pyUSID 0.0.12 still calls the alias numpy 2 removed
    np.product = np.prod
import pyUSID as usid
pos_dims = [usid.Dimension("X", "nm", 4), usid.Dimension("Y", "nm", 3)]   # X varies fastest
spec_dims = [usid.Dimension("Energy", "eV", 5)]
with h5py.File("h5/usid.h5", "w") as f:
    grp = f.create_group("Measurement_000/Channel_000")
    usid.hdf_utils.write_main_dataset(grp, cube.reshape(12, 5), "Raw_Data", "intensity", "counts",
                                      pos_dims, spec_dims)
