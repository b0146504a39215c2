#!/bin/sh
# Rewrites expected.tsv from the current dkl-cat (also: DKL_UPDATE_GOLDEN=1 make test, which then fails).
# Review every changed message in the diff before committing.
# usage: Tests/Corpus/make_expected.sh .build/debug   (from the package root)
bin=$(cd "$1" && pwd); cd "$(dirname "$0")"
for f in *; do
  case $f in *.py|*.tsv|*.sh) continue;; esac
  case $f in
    dataset-not-found.h5) args="--import $f:/missing";;
    damaged-chunk.h5) args="--import $f:/image";;
    *.npy|*.h5) args="--import $f";;
    *) args="--check $f";;
  esac
  "$bin/dkl-cat" $args >/dev/null 2>/tmp/dkl-corpus-err; st=$?
  printf '%s\t%s\t%s\n' "$args" "$st" "$(cat /tmp/dkl-corpus-err)"
done > expected.tsv
