#!/usr/bin/env bats
# img-quantize: palette fit, images to tokens and back, for every image
# reader (man/img-quantize.1). Fixtures are made here with NumPy.
load helpers

# The test helper (h.py, written into each test's folder): fixtures, an
# independent PNG reader and the palette quantisation the pictures must
# equal, a token stream's ids, a PNG's IHDR size, streams written from the
# spec (tests/formats/mgread.py).
setup() {
	cd "$BATS_TEST_TMPDIR" || exit 1
	cat > h.py <<'PY'
import struct, sys, zlib
import numpy as np
sys.path.insert(0, sys.argv[1]); import mgread

def png_write(path, a, color_type=None):
    """a: HxW (gray) or HxWx3 (RGB) uint8, or HxWx4 with color_type 6."""
    h, w = a.shape[:2]
    ct = color_type if color_type is not None else (0 if a.ndim == 2 else 2)
    raw = b"".join(b"\0" + a[y].tobytes() for y in range(h))
    def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    open(path, "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, ct, 0, 0, 0))
                           + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))

def png_read(path):
    d = open(path, "rb").read()
    assert d[:8] == b"\x89PNG\r\n\x1a\n"
    p, idat = 8, b""
    while p < len(d):
        n, t = struct.unpack(">I4s", d[p:p + 8]); body = d[p + 8:p + 8 + n]; p += 12 + n
        if t == b"IHDR": w, h, depth, ct = struct.unpack(">IIBB", body[:10])
        if t == b"IDAT": idat += body
    assert depth == 8 and ct in (0, 2)
    ch = 3 if ct == 2 else 1; stride = w * ch; raw = zlib.decompress(idat)
    out = np.zeros((h, stride), np.int32); prev = np.zeros(stride, np.int32)
    for y in range(h):
        f = raw[y * (stride + 1)]; line = np.frombuffer(raw, np.uint8, stride, y * (stride + 1) + 1).astype(np.int32)
        cur = np.zeros(stride, np.int32)
        for x in range(stride):
            a = cur[x - ch] if x >= ch else 0; b = prev[x]; c = prev[x - ch] if x >= ch else 0
            if f == 0: pr = 0
            elif f == 1: pr = a
            elif f == 2: pr = b
            elif f == 3: pr = (a + b) // 2
            else:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            cur[x] = (line[x] + pr) & 255
        out[y] = cur; prev = cur
    return out.reshape(h, w, ch).astype(np.uint8)

def fixtures():
    r = np.random.default_rng(7)
    base = r.integers(0, 256, (6, 3), dtype=np.uint8)  # six colours, noise around them
    def img(h, w, ch):
        idx = r.integers(0, 6, (h, w))
        a = base[idx].astype(np.int32) + r.integers(-6, 7, (h, w, 3))
        a = np.clip(a, 0, 255).astype(np.uint8)
        return a if ch == 3 else a[:, :, 0].copy()
    cif = [img(32, 32, 3) for _ in range(5)]
    with open("cifar.bin", "wb") as f:
        for i, a in enumerate(cif):
            f.write(bytes([i % 10]) + a.transpose(2, 0, 1).tobytes())
    np.save("cifar.npy", np.stack(cif))
    pngs = [img(6, 8, 3) for _ in range(3)]
    for i, a in enumerate(pngs): png_write("p%d.png" % i, a)
    np.save("png.npy", np.stack(pngs))
    g = img(6, 8, 1); png_write("g.png", g); np.save("gpng.npy", g[None, :, :, None])
    ppm = [img(6, 8, 3) for _ in range(2)]
    open("two.ppm", "wb").write(b"".join(b"P6\n# a comment\n8 6\n255\n" + a.tobytes() for a in ppm))
    np.save("ppm.npy", np.stack(ppm))
    pgm = [img(6, 8, 1) for _ in range(2)]
    open("two.pgm", "wb").write(b"".join(b"P5 8 6 255\n" + a.tobytes() for a in pgm))
    np.save("pgm.npy", np.stack(pgm)[..., None])
    idx = [img(4, 5, 1) for _ in range(3)]
    open("img.idx", "wb").write(struct.pack(">IIII", 0x803, 3, 4, 5) + b"".join(a.tobytes() for a in idx))
    open("lab.idx", "wb").write(struct.pack(">II", 0x801, 3) + bytes([7, 1, 4]))
    np.save("idx.npy", np.stack(idx)[..., None])

def expect(tkz, npy, outdir):
    """The decoded pictures in outdir are the images of npy quantised to the palette."""
    t = mgread.read_tokenizer(open(tkz, "rb").read())
    pal = np.array(t.palette, np.int64)
    ims = np.load(npy)
    ch = ims.shape[-1]
    p = pal[:, :ch]
    for i, a in enumerate(ims):
        d = ((a.reshape(-1, 1, ch).astype(np.int64) - p[None]) ** 2).sum(-1)
        q = p[d.argmin(1)].reshape(a.shape).astype(np.uint8)
        got = png_read("%s/%06d.png" % (outdir, i))
        assert got.shape == q.shape, (got.shape, q.shape)
        assert (got == q).all(), "image %d differs" % i
    print("%d images match" % len(ims))

def ids(path):
    for rec, _ in mgread.read_tokens(open(path, "rb").read()).records():
        print(" ".join(map(str, rec)))

def ihdr(path):
    d = open(path, "rb").read()
    print("%dx%d" % struct.unpack(">II", d[16:24]))

def writetok(out, vocab, *recs):
    open(out, "wb").write(mgread.write_tokens([[int(x) for x in r.split()] for r in recs], int(vocab), 2))

cmd = sys.argv[2]
globals()[cmd](*sys.argv[3:])
PY
}
H() { /usr/bin/python3 h.py "$ROOT/tests/formats" "$@"; }

# image files -> palette (-k 4) -> tokens -> one PNG per record, compared
# with the images quantised to the palette: $1 the NumPy pixels, the rest
# img-quantize's image operands and options.
roundtrip() {
	local npy=$1
	shift
	H fixtures
	img-quantize -q --fit -k 4 --pixels-per-image 8 -o pal.tkz "$@"
	img-quantize -q -m pal.tkz -o x.tok "$@"
	img-quantize -q -d -o out/ x.tok
	run H expect pal.tkz "$npy" out
	assert_success
}

@test "img-quantize: --help prints the man page synopsis, --version the version" {
	run img-quantize --help
	assert_success
	assert_equal "$(help_synopsis img-quantize)" "$(man_synopsis img-quantize.1)"
	run img-quantize --version
	assert_success
	assert_output "img-quantize (mygpt) 0.1.0"
}

@test "img-quantize: CIFAR-10 images -> tokens -> pictures equal the palette-quantised images" {
	roundtrip cifar.npy cifar.bin
	assert_output "5 images match"
	run H ihdr out/000004.png
	assert_output "32x32"
}

@test "img-quantize: PNG images (RGB and gray) -> tokens -> pictures equal the palette-quantised images" {
	roundtrip png.npy p0.png p1.png p2.png
	assert_output "3 images match"
	roundtrip gpng.npy g.png
	assert_output "1 images match"
}

@test "img-quantize: PPM and PGM images (two per file) -> tokens -> pictures equal the palette-quantised images" {
	roundtrip ppm.npy two.ppm
	assert_output "2 images match"
	roundtrip pgm.npy two.pgm
	assert_output "2 images match"
	run H ihdr out/000001.png
	assert_output "8x6"
}

@test "img-quantize: IDX images with labels -> tokens -> pictures equal the palette-quantised images" {
	roundtrip idx.npy img.idx --labels lab.idx
	assert_output "3 images match"
}

@test "img-quantize: a palette of the images' own colours reproduces them exactly; gzip files read as plain ones" {
	H fixtures
	# three colours, every pixel drawn: k-means++ finds them exactly
	/usr/bin/python3 -c '
import numpy as np
a = np.zeros((2, 3, 3), np.uint8); a[0, :2] = (10, 200, 30); a[1] = (250, 0, 128)
open("c.ppm", "wb").write(b"P6 3 2 255\n" + a.tobytes()); np.save("c.npy", a[None])
'
	img-quantize -q --fit -k 3 --init kmeans++ --pixels-per-image 60 -o c.tkz c.ppm
	img-quantize -q -m c.tkz c.ppm | img-quantize -q -d -o c/
	run /usr/bin/python3 -c '
import sys, numpy as np; sys.argv = ["", sys.argv[1], "png_read"]
exec(open("h.py").read().split("def fixtures")[0])
print((png_read("c/000000.png") == np.load("c.npy")[0]).all())' "$ROOT/tests/formats"
	assert_output "True"
	img-quantize -q --fit -k 4 -o pal.tkz cifar.bin
	img-quantize -q -m pal.tkz -o plain.tok cifar.bin
	gzip -c cifar.bin > cifar.bin.gz
	img-quantize -q -m pal.tkz -o gz.tok cifar.bin.gz
	cmp plain.tok gz.tok
}

@test "img-quantize: the fit is the same for a seed, for -j 1 and -j 2, and differs for another seed" {
	H fixtures
	img-quantize -q --fit -k 8 -s 5 -j 1 -o a.tkz cifar.bin
	img-quantize -q --fit -k 8 -s 5 -j 2 -o b.tkz cifar.bin
	img-quantize -q --fit -k 8 -s 5 -j 1 -o c.tkz cifar.bin
	img-quantize -q --fit -k 8 -s 6 -j 1 -o d.tkz cifar.bin
	cmp a.tkz b.tkz
	cmp a.tkz c.tkz
	run cmp -s a.tkz d.tkz
	assert_failure
	img-quantize -q --fit -k 8 --init kmeans++ -j 1 -o e.tkz cifar.bin
	img-quantize -q --fit -k 8 --init kmeans++ -j 2 -o f.tkz cifar.bin
	cmp e.tkz f.tkz
	img-quantize -q -m a.tkz -j 1 -o a.tok cifar.bin
	img-quantize -q -m a.tkz -j 2 -o b.tok cifar.bin
	cmp a.tok b.tok
	run mygpt-info a.tkz
	assert_line --partial "palette"
}

@test "img-quantize: the summaries of fit, encode and decode" {
	H fixtures
	run --separate-stderr img-quantize --fit -k 8 -o a.tkz cifar.bin
	assert_success
	[[ "$stderr" =~ ^"img-quantize: 8 RGB colours for 32x32 images from 25 pixels of 5 images: mean squared error "[0-9]+\.[0-9]{4}" per channel, "[0-9]+" cluster"s?" re-seeded"$ ]]
	run --separate-stderr img-quantize -m a.tkz -o a.tok cifar.bin
	assert_success
	[[ "$stderr" =~ ^"img-quantize: 5 images to records of 1,024 tokens (vocabulary 8): mean squared error "[0-9]+\.[0-9]{4}" per channel"$ ]]
	run --separate-stderr img-quantize -d -o a.png --grid 2x3 a.tok
	assert_success
	assert_equal "$stderr" "img-quantize: 5 records to RGB 32x32 pictures"
	run --separate-stderr img-quantize -v -m a.tkz -o a.tok cifar.bin
	assert_equal "${stderr%%$'\n'img-quantize: 5 images to*}" "img-quantize: cifar.bin: 5 images
img-quantize: 5 images of 32x32 RGB"
}

@test "img-quantize: --grid, --scale and --border give the picture's size; -o pattern names one PNG per record" {
	H fixtures
	img-quantize -q --fit -k 4 -o a.tkz cifar.bin
	img-quantize -q -m a.tkz -o a.tok cifar.bin
	img-quantize -q -d --grid 2x3 --scale 2 --border 1 -o g.png a.tok
	run H ihdr g.png
	assert_output "196x131"
	img-quantize -q -d --grid 1x5 --colour ff0000 -o h.png a.tok
	run H ihdr h.png
	assert_output "160x32"
	img-quantize -q -d --scale 3 --border 4 -o 'img-%03d.png' a.tok
	run ls
	assert_line "img-000.png"
	assert_line "img-004.png"
	refute_line "img-005.png"
	run H ihdr img-004.png
	assert_output "104x104"
	# the border colour: the grid's top-left pixel
	run /usr/bin/python3 -c '
import sys; sys.argv = ["", sys.argv[1], "png_read"]
exec(open("h.py").read().split("def fixtures")[0])
a = png_read("g.png"); print(list(a[0, 0]), list(a[0, 1]))' "$ROOT/tests/formats"
	assert_output "[128, 128, 128] [128, 128, 128]"
}

@test "img-quantize: --label-token puts the class first as palette size + label, and decoding drops it" {
	H fixtures
	img-quantize -q --fit -k 4 -o a.tkz img.idx
	img-quantize -q -m a.tkz --label-token -o l.tok img.idx --labels lab.idx
	img-quantize -q -m a.tkz -o n.tok img.idx
	run H ids l.tok
	assert_success
	assert_equal "${#lines[@]}" 3
	[[ "${lines[0]}" == "11 "* && "${lines[1]}" == "5 "* && "${lines[2]}" == "8 "* ]]
	assert_equal "$(H ids l.tok | cut -d' ' -f2-)" "$(H ids n.tok)"
	run mygpt-info l.tok
	assert_line --regexp '^  vocab size +260$'
	img-quantize -q -d -o l/ l.tok
	img-quantize -q -d -o n/ n.tok
	cmp l/000002.png n/000002.png
	run --separate-stderr img-quantize -m a.tkz --label-token img.idx
	assert_failure 1
	assert_equal "$stderr" "img-quantize: img.idx: the images have no labels (--label-token)"
}

@test "img-quantize: --prompt-tokens writes the first tokens of each record; short records decode padded" {
	H fixtures
	img-quantize -q --fit -k 4 -o a.tkz cifar.bin
	img-quantize -q -m a.tkz -o full.tok cifar.bin
	img-quantize -q -m a.tkz --prompt-tokens 512 -o p.tok cifar.bin
	assert_equal "$(H ids p.tok)" "$(H ids full.tok | cut -d' ' -f1-512)"
	run mygpt-info p.tok
	assert_line --regexp '^  record length +512$'
	run --separate-stderr img-quantize -d --colour 00ff00 -o p/ p.tok
	assert_success
	assert_equal "$stderr" "img-quantize: 5 records to RGB 32x32 pictures; 5 short records padded with 00ff00"
	run /usr/bin/python3 -c '
import sys; sys.argv = ["", sys.argv[1], "png_read"]
exec(open("h.py").read().split("def fixtures")[0])
a = png_read("p/000000.png"); print(list(a[31, 31]), (a[16:] == [0, 255, 0]).all())' "$ROOT/tests/formats"
	assert_output "[0, 255, 0] True"
	run --separate-stderr img-quantize -m a.tkz --prompt-tokens 1025 cifar.bin
	assert_failure 2
	assert_equal "$stderr" "img-quantize: --prompt-tokens 1025 is more than the 1024 tokens of a record
Try 'img-quantize --help' for more information."
}

@test "img-quantize: decodes gpt-sample-like records: a masked stream without a palette takes -m" {
	H fixtures
	img-quantize -q --fit -k 4 -o a.tkz img.idx
	H writetok s.tok 4 "0 1 2 3 0 1 2 3 0 1 2 3 0 1 2 3 0 1 2 3" "3 3"
	run --separate-stderr img-quantize -d --grid 1x2 -o s.png s.tok
	assert_failure 1
	assert_equal "$stderr" "img-quantize: s.tok: the stream carries no palette: give one with -m"
	run --separate-stderr img-quantize -d -m a.tkz --grid 1x2 -o s.png s.tok
	assert_success
	assert_equal "$stderr" "img-quantize: 2 records to gray 5x4 pictures; 1 short record padded with 808080"
	run H ihdr s.png
	assert_output "10x4"
}

@test "img-quantize: data errors name the file and what is wrong, exit 1" {
	H fixtures
	img-quantize -q --fit -k 4 -o rgb.tkz cifar.bin
	img-quantize -q --fit -k 4 -o gray.tkz two.pgm
	img-quantize -q --fit -k 4 -o small.tkz p0.png
	head -c 5000 cifar.bin > cut.bin
	run --separate-stderr img-quantize -m rgb.tkz --format cifar cut.bin
	assert_failure 1
	assert_equal "$stderr" "img-quantize: cut.bin: truncated CIFAR-10 record at offset 3073 (1927 of 3073 bytes)"
	run --separate-stderr img-quantize -m rgb.tkz cut.bin
	assert_failure 1
	assert_equal "$stderr" "img-quantize: cut.bin: not an image file (PNG, PPM/PGM, IDX or CIFAR-10 batch)"
	head -c 60 p0.png > cut.png
	run --separate-stderr img-quantize -m small.tkz cut.png
	assert_failure 1
	[[ "$stderr" == "img-quantize: cut.png: bad PNG: "* ]]
	head -c 100 two.ppm > cut.ppm
	run --separate-stderr img-quantize -m small.tkz cut.ppm
	assert_failure 1
	assert_equal "$stderr" "img-quantize: cut.ppm: truncated PNM image at offset 0: 77 of 144 pixel bytes"
	printf 'P6 8 6 65535\n' > deep.ppm
	run --separate-stderr img-quantize -m small.tkz deep.ppm
	assert_failure 1
	assert_equal "$stderr" "img-quantize: deep.ppm: PNM image at offset 0 has maxval 65535 (only 255)"
	head -c 70 img.idx > cut.idx
	run --separate-stderr img-quantize -m gray.tkz cut.idx
	assert_failure 1
	assert_equal "$stderr" "img-quantize: cut.idx: truncated IDX images at offset 56: 3 images need 76 bytes"
	head -c 10 lab.idx > cut-lab.idx
	run --separate-stderr img-quantize -m gray.tkz img.idx --labels cut-lab.idx
	assert_failure 1
	assert_equal "$stderr" "img-quantize: img.idx: the labels file holds 2 label bytes after offset 8, not 3"
	run --separate-stderr img-quantize -m small.tkz p0.png cifar.bin
	assert_failure 1
	assert_equal "$stderr" "img-quantize: cifar.bin: image 0 is 32x32 RGB, but the first image is 8x6 RGB (mixed image sizes)"
	run --separate-stderr img-quantize -m rgb.tkz p0.png
	assert_failure 1
	assert_equal "$stderr" "img-quantize: p0.png: the images are 8x6, the palette rgb.tkz is for 32x32"
	run --separate-stderr img-quantize -m small.tkz two.pgm
	assert_failure 1
	assert_equal "$stderr" "img-quantize: two.pgm: gray images need a gray palette, and small.tkz has colours"
	run --separate-stderr img-quantize -m missing.tkz two.pgm
	assert_failure 1
	[[ "$stderr" == "img-quantize: missing.tkz: "* ]]
	run --separate-stderr img-quantize --fit -k 30 -o x.tkz cifar.bin
	assert_failure 1
	assert_equal "$stderr" "img-quantize: 25 pixels drawn (5 images x 5) for 30 colours: draw more pixels of every image (--pixels-per-image)"
	[ ! -e x.tkz ]
}

@test "img-quantize: decoding errors: ids outside the palette, long records, other palettes, too many records" {
	H fixtures
	img-quantize -q --fit -k 4 -o a.tkz img.idx
	img-quantize -q --fit -k 4 -s 9 -o b.tkz img.idx
	H writetok bad.tok 10 "0 1 2" "0 1 9 2"
	run --separate-stderr img-quantize -d -m a.tkz -o bad/ bad.tok
	assert_failure 1
	assert_equal "$stderr" "img-quantize: bad.tok: record 1, position 2: token 9 is not a colour of the 4-colour palette"
	H writetok long.tok 4 "0 1 2 3 0 1 2 3 0 1 2 3 0 1 2 3 0 1 2 3 0"
	run --separate-stderr img-quantize -d -m a.tkz -o l.png long.tok
	assert_failure 1
	assert_equal "$stderr" "img-quantize: long.tok: record 0 has 21 pixel tokens, more than the 5x4 of the palette"
	img-quantize -q -m a.tkz -o a.tok img.idx
	run cmp -s a.tkz b.tkz
	assert_failure
	run --separate-stderr img-quantize -d -m b.tkz -o x/ a.tok
	assert_failure 1
	assert_equal "$stderr" "img-quantize: a.tok: its palette differs from b.tkz"
	run --separate-stderr img-quantize -d --grid 1x2 -o x.png a.tok
	assert_failure 1
	assert_equal "$stderr" "img-quantize: a.tok: 3 records do not fit a 1x2 grid"
	run --separate-stderr img-quantize -d -o x.png a.tok
	assert_failure 1
	assert_equal "$stderr" "img-quantize: a.tok: 3 records make 3 pictures: give --grid, or -o dir/ or a pattern with %d"
	[ ! -e x.png ]
}

@test "img-quantize: usage errors exit 2" {
	H fixtures
	img-quantize -q --fit -k 4 -o a.tkz img.idx
	for args in "cifar.bin" "--fit -m a.tkz cifar.bin" "-k 0 --fit cifar.bin" "--fit -k 65537 cifar.bin" \
		"-m a.tkz -k 4 cifar.bin" "-m a.tkz --grid 2x2 cifar.bin" "-d --grid 2 a.tok" "-d --grid 0x3 a.tok" \
		"-d --colour 12345g a.tok" "-d --scale 65 a.tok" "--fit --label-token cifar.bin" "-d --format png a.tok" \
		"-m a.tkz" "-d -o x%s.png a.tok" "-d --grid 2x2 -o d/ a.tok" "--fit --init best cifar.bin" \
		"-q -v --fit cifar.bin" "-d - a.tok -" "-m a.tkz --records 2 cifar.bin" "-d --records 0 a.tok" "--fit --labels lab.idx img.idx two.pgm" "--bogus"; do
		run --separate-stderr img-quantize $args
		assert_equal "$status:$args" "2:$args"
		[[ "$stderr" == *"Try 'img-quantize --help' for more information." ]]
	done
	run --separate-stderr img-quantize -m a.tkz
	assert_equal "$stderr" "img-quantize: no images given
Try 'img-quantize --help' for more information."
	run --separate-stderr img-quantize cifar.bin
	assert_equal "$stderr" "img-quantize: give one of --fit, -m palette (encode) or -d (decode)
Try 'img-quantize --help' for more information."
	run --separate-stderr img-quantize -d -o 'x%s.png' a.tok
	assert_equal "$stderr" "img-quantize: -o x%s.png: a pattern holds one %d (or %0Nd) and no other %
Try 'img-quantize --help' for more information."
}

@test "img-quantize: refuses to write binary data to a terminal unless -f, and to read tokens from one" {
	H fixtures
	run script -qec "img-quantize -q --fit -k 4 img.idx" /dev/null
	assert_failure 2
	assert_output --partial "refusing to write binary data to a terminal"
	run script -qec "img-quantize -q -f --fit -k 4 img.idx > a.tkz" /dev/null
	assert_success
	run --separate-stderr tty_stdin img-quantize -d -m a.tkz -o x.png
	assert_failure 2
	assert_equal "$stderr" "img-quantize: will not read a token stream from a terminal: give a file, or pipe one in
Try 'img-quantize --help' for more information."
}

@test "img-quantize: several streams side by side, a row per record; --records keeps the first rows" {
	H fixtures
	img-quantize -q --fit -k 4 -o a.tkz cifar.bin
	img-quantize -q -m a.tkz -o a.tok cifar.bin
	cat a.tok a.tok > b.tok # 10 records: two pictures a row beside each of a.tok's 5
	img-quantize -q -d -o one/ a.tok
	run --separate-stderr img-quantize -d --border 1 -o s.png a.tok b.tok
	assert_success
	assert_equal "$stderr" "img-quantize: 15 records to RGB 32x32 pictures"
	run H ihdr s.png
	assert_output "100x166" # 3 columns and 5 rows of 32 pixels, borders of 1
	# row i: record i of a.tok, then records 2i and 2i+1 of b.tok (records i mod 5 of a.tok)
	run /usr/bin/python3 -c '
import sys; sys.argv = ["", sys.argv[1], "png_read"]
exec(open("h.py").read().split("def fixtures")[0])
s = png_read("s.png")
bad = 0
for i in range(5):
    for j, rec in enumerate((i, (2 * i) % 5, (2 * i + 1) % 5)):
        cell = s[1 + 33 * i:33 + 33 * i, 1 + 33 * j:33 + 33 * j]
        bad += not (cell == png_read("one/%06d.png" % rec)).all()
print("cells differing:", bad)' "$ROOT/tests/formats"
	assert_output "cells differing: 0"
	# the first 2 rows; standard input as one of the streams
	run --separate-stderr bash -c 'img-quantize -d --records 2 -o r.png a.tok - < b.tok'
	assert_success
	assert_equal "$stderr" "img-quantize: 6 records to RGB 32x32 pictures"
	run H ihdr r.png
	assert_output "96x64"
	# --records on one stream: the first n records
	img-quantize -q -d --records 3 -o three/ a.tok
	run ls three
	assert_output "$(printf '000000.png\n000001.png\n000002.png')"
	# counts that are not multiples, palettes that differ
	head -c 6146 cifar.bin > two.bin
	img-quantize -q -m a.tkz -o two.tok two.bin
	cat a.tok two.tok > seven.tok
	run --separate-stderr img-quantize -d -o x.png two.tok seven.tok
	assert_failure 1
	assert_equal "$stderr" "img-quantize: seven.tok: 7 records are not a multiple of 2, the records of the shortest input"
	img-quantize -q --fit -k 3 -o c.tkz cifar.bin
	img-quantize -q -m c.tkz -o c.tok cifar.bin
	run --separate-stderr img-quantize -d -o x.png a.tok c.tok
	assert_failure 1
	assert_equal "$stderr" "img-quantize: c.tok: its palette differs from that of a.tok"
	[ ! -e x.png ]
}
