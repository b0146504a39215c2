#!/bin/sh
# The instrument of the parameter-space BO: dkl-explore --measure runs
#   measure.sh SWEEP1 SWEEP2 FIELD EQUILIBRATE RESPONSE Y X
# and this simulates FerroSIM now at point (Y, X) of the grid SWEEP1 × SWEEP2 (ferrosim
# --sweep specs NAME=LO:HI:N) under the field history FIELD (ferrosim -E A,alpha,omega,B,
# then EQUILIBRATE held steps), and answers the record's field RESPONSE: one number, as a
# one-field stream. The point is the sweep's own (--shard picks it out of the grid), so the
# answer equals the grid search's record bit for bit.
set -eu
[ $# = 7 ] || { echo "usage: measure.sh SWEEP1 SWEEP2 FIELD EQUILIBRATE RESPONSE Y X" >&2; exit 64; }
n1=${1##*:}
n2=${2##*:}
y=$6
x=$7
ferrosim --sweep "$1" --sweep "$2" -E "$3" --equilibrate "$4" --shard "$((y * n2 + x + 1))/$((n1 * n2))" -j 1 -q --no-provenance |
  dkl-cat --fields "$5"
