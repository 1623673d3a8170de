#!/bin/sh
# Prints the commands of README.md's first ```sh block, one a line,
# without their comments: the two commands a new user runs first
# (tests/docs/fresh.sh runs them; tests/docs.bats checks there are two).
# usage: sh tests/docs/readme-first.sh README.md
awk '/^```sh$/ { b = 1; next } b && /^```/ { exit } b { sub(/[ \t]*#.*/, ""); if ($0 != "") print }' "$1"
