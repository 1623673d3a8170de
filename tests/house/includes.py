#!/usr/bin/python3
"""The dependency rules of lib/ (lib/README.md), checked on the sources:
which folder may include which of our headers, and where OpenMP, BLAS,
intrinsics and CUDA may appear. Prints one line per violation,
"file:line: what", and exits 1 when there is any, 0 when there is none.
usage: includes.py [root]   (default: the repository holding this script)"""
import os
import re
import sys

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")

# The checkpoint API: what the model may see of io/.
CKPT_API = ["io/ckpt.h", "io/kv.h", "io/dtype.h"]
# (folder of the including file, headers or folders it may include); a
# folder entry ends in "/" and covers what is below it.
RULES = [
    ("lib/core/", ["core/"]),
    ("lib/io/", ["core/", "io/"]),
    ("lib/bpe/", ["core/", "io/", "bpe/"]),
    ("lib/model/", ["core/", "backend/backend.h", "model/"] + CKPT_API),
    ("lib/backend/cpu/", ["core/", "backend/backend.h", "backend/cpu/", "io/dtype.h"]),
    ("lib/backend/", ["core/", "backend/backend.h", "io/dtype.h"]),
    ("lib/dist/", ["core/", "dist/"]),
    ("lib/train/", ["core/", "io/", "backend/backend.h", "model/", "dist/comm.h", "train/"]),
    ("lib/infer/", ["core/", "io/", "backend/backend.h", "model/", "infer/"]),
    ("lib/tasks/", ["core/", "io/", "tasks/"]),
    ("lib/image/", ["core/", "io/", "image/"]),
    ("lib/interop/", ["core/", "io/", "interop/", "model/gpt.h"]),
    ("cuda/", ["core/", "backend/backend.h", "io/dtype.h"]),
]
# Private headers: the folder's own business, never a tool's.
PRIVATE = re.compile(r"(_internal\.h$|^backend/cpu/)")
# Things only one folder may use: (pattern, the folder, what it is).
CONFINED = [
    (re.compile(r"#\s*pragma\s+omp|#\s*include\s*<omp\.h>|\bomp_[a-z_]+\s*\("), "lib/backend/cpu/", "OpenMP"),
    (re.compile(r"#\s*include\s*<cblas\.h>|\bcblas_\w+\s*\(|\bopenblas_\w+\s*\("), "lib/backend/cpu/", "BLAS"),
    (re.compile(r"#\s*include\s*<(imm|x86|[a-z]mm)intrin\.h>|\b_mm(256|512)?_\w+\s*\(|\b__m(128|256|512)[id]?\b"),
     "lib/backend/cpu/", "intrinsics"),
    (re.compile(r"#\s*include\s*<(cuda[a-z_]*|cublas[a-zA-Z_]*|nccl)\.h>|\bcuda[A-Z]\w+\s*\(|\bcublas[A-Z]\w+\s*\("),
     "cuda/", "CUDA"),
    (re.compile(r"#\s*include\s*<mpi\.h>|\bMPI_[A-Z]\w*\s*\("), "lib/dist/comm_mpi.c", "MPI"),
]
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')


def allowed(rel, header):
    for folder, ok in RULES:
        if rel.startswith(folder):
            return any(header == a or (a.endswith("/") and header.startswith(a)) for a in ok), folder
    if rel.startswith("cmd/"):
        return not PRIVATE.search(header), "cmd/"
    if rel.startswith("lib/"):  # a folder of lib/ must have its rule
        return False, os.path.dirname(rel) + "/ (a folder without a rule in includes.py)"
    return True, None


def main():
    bad = []
    names = {}
    for top in ("lib", "cmd", "cuda"):
        for d, _, files in sorted(os.walk(os.path.join(ROOT, top))):
            for f in sorted(files):
                if not re.search(r"\.(c|h|cu|cuh)$", f):
                    continue
                path = os.path.join(d, f)
                rel = os.path.relpath(path, ROOT)
                names.setdefault(f, []).append(rel)
                with open(path, encoding="utf-8", errors="replace") as fh:
                    lines = fh.read().split("\n")
                for n, line in enumerate(lines, 1):
                    m = INCLUDE.match(line)
                    if m:
                        h = m.group(1)
                        # a header of our own: by its path under lib/, or
                        # cmd/common's and cuda's own beside the file
                        if os.path.exists(os.path.join(ROOT, "lib", h)):
                            ok, folder = allowed(rel, h)
                            if not ok:
                                bad.append('%s:%d: %s may not include "%s"' % (rel, n, folder, h))
                        elif not os.path.exists(os.path.join(d, h)) and not rel.startswith("cmd/"):
                            bad.append('%s:%d: "%s" is not a header of lib/ (write the folder: "core/err.h")' % (rel, n, h))
                        elif rel.startswith("lib/") and os.path.exists(os.path.join(d, h)):
                            bad.append('%s:%d: "%s" without its folder (write "%s")' %
                                       (rel, n, h, os.path.relpath(os.path.join(d, h), os.path.join(ROOT, "lib"))))
                    code = line.split("//")[0]
                    if code.lstrip().startswith(("*", "/*")):
                        continue  # comments may name anything
                    for pat, home, what in CONFINED:
                        if pat.search(code) and not rel.startswith(home):
                            bad.append("%s:%d: %s outside %s" % (rel, n, what, home))
    for f, where in sorted(names.items()):
        if len(where) > 1:
            bad.append("%s: file name used twice (%s)" % (where[0], ", ".join(where)))
    for b in bad:
        print(b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
