#!/bin/sh
# mygpt-plot-loss (make install's name for examples/plot-loss.sh): draws
# loss curves of gpt-train --log files (TSV with a header line) into a PNG
# with gnuplot; man/mygpt-plot-loss.1 documents it.
set -eu
prog=$(basename "$0")
usage="usage: $prog out.png title column[,column ...] log=label ..."
case ${1:-} in
-h | --help)
	cat <<EOF
$usage

Draws each column of each log (gpt-train --log) against the step, named by
the label and the column (log= for the column alone); rows where a column is
empty or not a number (steps without an evaluation) are skipped for it.
Example: $prog loss.png run train_loss,val_loss run.tsv=
EOF
	exit 0 ;;
-V | --version) echo "$prog (mygpt) 0.1.0"; exit 0 ;;
-*) echo "$prog: unknown option '$1'" >&2; echo "$usage" >&2; exit 2 ;;
esac
[ $# -ge 4 ] || { echo "$usage" >&2; exit 2; }
command -v gnuplot >/dev/null || { echo "$prog: gnuplot not found (Debian: apt-get install gnuplot-nox)" >&2; exit 1; }
out=$1 title=$2 cols=$3
shift 3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
plots= n=0
for spec in "$@"; do
	log=${spec%%=*} label=${spec#*=}
	[ -s "$log" ] || { echo "$prog: $log: no such log" >&2; exit 1; }
	for col in $(echo "$cols" | tr ',' ' '); do
		n=$((n + 1))
		awk -F'\t' -v col="$col" -v prog="$prog" '
			NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "step") s = i; if ($i == col) c = i }
				  if (!s || !c) { print prog ": " FILENAME ": no column " col > "/dev/stderr"; exit 1 }; next }
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
