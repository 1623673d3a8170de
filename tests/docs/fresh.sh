#!/bin/sh
# make check-fresh: the README's two commands on a fresh Debian 12
# (debootstrap --variant=minbase, then build-essential and git only), in a
# chroot, as a new user would run them. Needs root, debootstrap and the
# Debian mirror.
# usage: sh tests/docs/fresh.sh [dir]   (default /tmp/mygpt-fresh; removed first)
set -eu
root=${1:-/tmp/mygpt-fresh}
mirror=${MIRROR:-http://deb.debian.org/debian}
repo=$(cd "$(dirname "$0")/../.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "fresh.sh: needs root (debootstrap and chroot)" >&2; exit 2; }
command -v debootstrap >/dev/null || { echo "fresh.sh: needs debootstrap (apt-get install debootstrap)" >&2; exit 2; }
case $root in /|"") echo "fresh.sh: refusing to use '$root'" >&2; exit 2 ;; esac

t0=$(date +%s)
step() { echo "fresh: $(( $(date +%s) - t0 ))s: $*" >&2; }

for m in proc sys dev; do umount -R "$root/$m" 2>/dev/null || :; done
# never remove through a mount left from an earlier run (its /dev is the host's)
if grep -q " $root/" /proc/mounts; then
	echo "fresh.sh: $root still has mounts; umount them first" >&2
	exit 1
fi
rm -rf --one-file-system "$root"
step "debootstrap --variant=minbase bookworm $root"
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.log" 2>&1 ||
	{ tail -20 "$root.log" >&2; exit 1; }
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys"
mount --rbind /dev "$root/dev"
trap 'for m in proc sys dev; do umount -R -l "$root/$m" 2>/dev/null || :; done' EXIT
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || :
step "apt-get install build-essential git"
chroot "$root" sh -c 'export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq build-essential git' >>"$root.log" 2>&1 ||
	{ tail -20 "$root.log" >&2; exit 1; }
# the committed tree, as a clone gives it
step "git clone of $(git -C "$repo" rev-parse --short HEAD)"
git clone -q "$repo" "$root/root/mygpt"
git -C "$root/root/mygpt" checkout -q "$(git -C "$repo" rev-parse HEAD)"
# The README's first two commands, verbatim (tests/docs/readme-first.sh
# checks that they are still the README's first two)
first=$(sh "$repo/tests/docs/readme-first.sh" "$repo/README.md")
echo "$first" | sed 's/^/fresh: README: /' >&2
echo "$first" | while IFS= read -r cmd; do
	step "$cmd"
	chroot "$root" sh -c "cd /root/mygpt && $cmd" </dev/null || { step "FAILED: $cmd"; exit 1; }
done
step "done"
