"""Writes spm/reference.json and usid/reference.json from the field's readers' exports.

The exports (.npy, made with SciFiReaders 0.12.7 and pyUSID 0.0.12; see each folder's README)
sit beside the original files in the shared folder of real instrument files; this script keeps
their shape, dtype, sum and the SHA-256 of their values as float64 little-endian bytes, which the
toolkit's readers must reproduce bit for bit, and the small axes whole.
usage: python3 make_spm_reference.py SHARED_REAL_DIR   (from this folder)
"""
import hashlib, json, sys
import numpy as np

real = sys.argv[1]

def entry(a, note=""):
    a = np.asarray(a)
    f = np.ascontiguousarray(a, dtype="<f8")
    e = {"shape": list(a.shape), "dtype": str(a.dtype), "sum": float(f.sum()),
         "sha256_float64_le": hashlib.sha256(f.tobytes()).hexdigest()}
    if note:
        e["order"] = note
    return e

def load(folder, name):
    return np.load(f"{real}/{folder}/{name}")

spm = {}
for channel, name in [("Current", "grid_current"), ("LockinX", "grid_lockinx"), ("LockinY", "grid_lockiny"), ("Bias_m", "grid_bias_m")]:
    spm[f"STS_grid_lockin.3ds:{channel}"] = entry(load("sts-grid-nanonis", name + ".npy"), "[line, point, bias]")
spm["STS_grid_lockin.3ds:Z"] = entry(load("sts-grid-nanonis", "grid_z_m.npy"), "[line, point]")
spm["STS_grid_lockin.3ds:parameters"] = entry(load("sts-grid-nanonis", "grid_params.npy"), "[line, point, parameter]")
spm["STS_grid_lockin.3ds bias V"] = {"values": [float(v) for v in load("sts-grid-nanonis", "grid_bias_V.npy")], "dtype": "float32"}
spm["Bias-Spectroscopy041.dat:Current"] = entry(load("sts-grid-nanonis", "point_current_A.npy"))
spm["Bias-Spectroscopy041.dat bias V"] = entry(load("sts-grid-nanonis", "point_bias_V.npy"))
names = ["HeightRetrace", "Amplitude1Retrace", "Amplitude2Retrace", "Phase1Retrace", "Phase2Retrace", "FrequencyRetrace"]
channels = load("pfm-beps-dtmicroscope", "scan_0001__channels.npy")
for k, n in enumerate(names):
    spm[f"scan_0001.ibw:{n}"] = entry(channels[k], "[p, q]: Igor's first dimension (x) first")
channels = load("pfm-beps-dtmicroscope", "PTO_Funakubo0001__channels.npy")
for k, n in enumerate(["HeightRetrace", "AmplitudeRetrace", "DeflectionRetrace", "PhaseRetrace"]):
    spm[f"PTO_Funakubo0001.h5:{n}"] = entry(channels[k], "as stored (DIMENSION_LABELS x, y)")
for name, channels in [("PZT_final0001", ["HeightRetrace", "AmplitudeRetrace", "NapAmplitudeRetrace", "DeflectionRetrace", "PhaseRetrace",
                                            "NapPhaseRetrace", "UserIn0Retrace", "NapUserIn0Retrace"]),
                       ("PMN28Pt0000", ["HeightRetrace", "AmplitudeRetrace", "DeflectionRetrace", "PhaseRetrace"])]:
    stacked = load("pfm-beps-dtmicroscope", f"{name}__channels.npy")
    for k, n in enumerate(channels):
        spm[f"{name}.h5:{n}"] = entry(stacked[k], "as stored (DIMENSION_LABELS x, y)")
spm["BEPS_PTO_50x50.h5:Piezoresponse"] = entry(load("pfm-beps-dtmicroscope", "beps_loops.npy"), "[X, Y, step]")
spm["BEPS_PTO_50x50.h5 voltage V"] = {"values": [float(v) for v in load("pfm-beps-dtmicroscope", "beps_dc_voltage_V.npy")]}
json.dump(spm, open("spm/reference.json", "w"), indent=1)

usid = {}
channels = load("usid-nsid-pycroscopy", "SingFreqPFM_0003__channels.npy")
for k, n in enumerate(["HeightRetrace", "AmplitudeRetrace", "DeflectionRetrace", "PhaseRetrace"]):
    usid[f"SingFreqPFM_0003.h5:{n}"] = entry(channels[k], "[X, Y]: pyUSID's n-dimensional form, X first")
usid["AFM_Force_Curve.h5:Deflection"] = entry(load("usid-nsid-pycroscopy", "AFM_Force_Curve__raw.npy"))
usid["AFM_Force_Curve.h5 Z m"] = entry(load("usid-nsid-pycroscopy", "AFM_Force_Curve__spectroscopic_values.npy"))
usid["EELS_STO_pyTEMlib.hf5:intensity"] = entry(load("usid-nsid-pycroscopy", "EELS_STO_pyTEMlib__spectrum.npy"))
usid["EELS_STO_pyTEMlib.hf5 energy eV"] = entry(load("usid-nsid-pycroscopy", "EELS_STO_pyTEMlib__energy_eV.npy"))
json.dump(usid, open("usid/reference.json", "w"), indent=1)
