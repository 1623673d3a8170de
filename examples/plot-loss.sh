#!/bin/sh
# Draws loss curves from gpt-train --log files (TSV with a header line) into
# a PNG with gnuplot:
#   sh plot-loss.sh OUT.png TITLE COLUMN LOG=LABEL [LOG=LABEL ...]
# COLUMN is a column of the log (val_loss, train_loss, ...), drawn against
# the step; empty cells (steps without an evaluation) are skipped.
set -eu
[ $# -ge 4 ] || { echo "usage: sh plot-loss.sh out.png title column log=label ..." >&2; exit 2; }
out=$1 title=$2 col=$3
shift 3
plots=
for spec in "$@"; do
	log=${spec%%=*} label=${spec#*=}
	[ -s "$log" ] || { echo "plot-loss.sh: $log: no such log" >&2; exit 1; }
	plots="$plots${plots:+, }'$log' using (column(\"step\")):(column(\"$col\")) with lines linewidth 2 title '$label'"
done
gnuplot <<GP
set terminal pngcairo size 960,600 font ',11' noenhanced
set output '$out'
set datafile separator '\t'
set datafile missing ''
set title '$title'
set xlabel 'step'
set ylabel '$col'
set grid
set key top right
plot $plots
GP
