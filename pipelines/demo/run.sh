#!/bin/sh
# The demo on the bundled sample data (share/plasmon, made by dkl-synth): the structural
# image and the spectrum image become streams, are checked, cut down, converted to NDJSON
# and exported back to arrays that match the input; then FerroSIM under three fields.
# usage: pipelines/demo/run.sh [BIN]     (BIN: the built tools, default .build/release)
set -eu
cd "$(dirname "$0")/../.."
bin=$(cd "${1:-.build/release}" && pwd)
PATH="$bin:$PATH"
out=pipelines/demo/out
mkdir -p "$out"
data=share/plasmon

echo "== dkl demo on $data (64x64 grid, 96-channel spectra)"
dkl-cat --import "$data/image.npy" -o "$out/image.dkl"
dkl-cat --import "$data/spectra.h5" 2>/dev/null && exit 1 || true   # several datasets: one must be named
dkl-cat --import "$data/spectra.h5:/spectra" -o "$out/spectra.dkl"
dkl-cat --import "$data/spectra.h5:/truth/gap_band" --field gap_band -o "$out/gap.dkl"
dkl-cat --check "$out/image.dkl" "$out/spectra.dkl" "$out/gap.dkl"

echo "== the first spectrum, as NDJSON (cut to 120 characters)"
dkl-cat -J --head 1 --fields y,x,spectrum "$out/spectra.dkl" | tail -n 1 | cut -c1-120

echo "== the first two rows of the grid (128 spectra), through a pipe of three dkl-cat"
dkl-cat --head 128 "$out/spectra.dkl" | dkl-cat --tail 128 | dkl-cat --count

echo "== export back to arrays"
dkl-cat --export "$out/image-back.npy" --field value "$out/image.dkl"
dkl-cat --export "$out/spectra-back.h5:/spectra" --field spectrum "$out/spectra.dkl"
cmp "$data/image.npy" "$out/image-back.npy" && echo "image.npy round trip: identical bytes"

echo "== how the last file was made (its provenance)"
dkl-cat --header "$out/gap.dkl" | sed 's/.*"provenance"://'
echo "== FerroSIM: E_y = A·e^t·sin(20t) on a 20x20 lattice, 900 + 50 steps, three amplitudes"
for amplitude in 0.25 0.5 0.75; do
  ferrosim -E "$amplitude,1,20,0" --equilibrate 50 --no-provenance -J | tail -n 1 \
    | sed "s/^{\"id\":0,/A=$amplitude: /; s/,\"p_abs.*\"sum_abs_curl\"/, sum|curl|/; s/,\"curl_over_p.*//"
done
echo "== done: outputs in $out"
