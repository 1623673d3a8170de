#!/bin/sh
# Draws loss curves from gpt-train --log files (TSV with a header line) into
# a PNG with gnuplot:
#   sh plot-loss.sh OUT.png TITLE COLUMNS LOG=LABEL [LOG=LABEL ...]
# COLUMNS is one column of the log or several separated by commas
# (train_loss,val_loss), each drawn against the step and named by the label
# and the column (LOG= for the column alone); rows where a column is
# empty or not a number (steps without an evaluation) are skipped for it.
set -eu
[ $# -ge 4 ] || { echo "usage: sh plot-loss.sh out.png title columns log=label ..." >&2; exit 2; }
out=$1 title=$2 cols=$3
shift 3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
plots= n=0
for spec in "$@"; do
	log=${spec%%=*} label=${spec#*=}
	[ -s "$log" ] || { echo "plot-loss.sh: $log: no such log" >&2; exit 1; }
	for col in $(echo "$cols" | tr ',' ' '); do
		n=$((n + 1))
		awk -F'\t' -v col="$col" '
			NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "step") s = i; if ($i == col) c = i }
				  if (!s || !c) { print "plot-loss.sh: no column " col > "/dev/stderr"; exit 1 }; next }
			$c ~ /^-?[0-9.]+([eE][-+]?[0-9]+)?$/ { print $s "\t" $c }' "$log" > "$tmp/$n"
		name=$label
		[ "$cols" = "$col" ] || name="${label:+$label }$col"
		plots="$plots${plots:+, }'$tmp/$n' using 1:2 with linespoints linewidth 2 pointsize 0.6 title '$name'"
	done
done
gnuplot <<GP
set terminal pngcairo size 960,600 font ',11' noenhanced
set output '$out'
set datafile separator '\t'
set title '$title'
set xlabel 'step'
set ylabel 'loss (nats per token)'
set grid
set key top right
plot $plots
GP
