"""The reference side of k-means (lib/image/kmeans.c, driven by
build/tests/tools/kmeans_run): pixels of CIFAR-10, a NumPy Lloyd and
scikit-learn's KMeans (Lloyd) from given initial centres.
  points OUT N SEED [synthetic]
                           N pixels (RGB bytes) of distinct random positions of
                           examples/data/cifar10/cifar10_train4k_lossless.bin, or
                           of a synthetic set of colour blobs when absent or asked
                           for; prints where from (N 0: every pixel, in order)
  compare POINTS INIT FINAL ITERS TOL [sklearn]
                           Lloyd from INIT (float32 k x 3) in NumPy: prints the
                           largest centre difference to FINAL and exits 1 when
                           over TOL; with sklearn, prints scikit-learn's too
                           (which breaks exact ties by rounding: not checked)
  time POINTS INIT ITERS THREADS RUNS
                           scikit-learn's KMeans(algorithm="lloyd", n_init=1,
                           max_iter=ITERS, tol=0, init=INIT) on float32 points:
                           prints one "seconds S" line per run"""
import os
import sys
import time

import numpy as np

CIFAR = "examples/data/cifar10/cifar10_train4k_lossless.bin"


def pixels(rng, synthetic):
    """Every pixel (RGB rows of bytes) of the 4,000 CIFAR-10 images, or of a
    synthetic set of the same size, and where they come from."""
    if os.path.exists(CIFAR) and not synthetic:
        raw = np.fromfile(CIFAR, dtype=np.uint8).reshape(-1, 3073)
        return raw[:, 1:].reshape(-1, 3, 1024).transpose(0, 2, 1).reshape(-1, 3), CIFAR
    c = rng.integers(0, 256, size=(64, 3))  # 64 colour blobs, their pixels spread around them
    img = np.clip(c[rng.integers(0, 64, size=4_096_000)] + rng.normal(0, 12, size=(4_096_000, 3)), 0, 255)
    return img.astype(np.uint8), "a synthetic set" + ("" if synthetic else " (no %s)" % CIFAR)


def points(out, n, seed, synthetic):
    rng = np.random.default_rng(seed)
    img, src = pixels(rng, synthetic)
    pick = rng.choice(len(img), size=n, replace=False) if n else np.arange(len(img))
    np.ascontiguousarray(img[pick]).tofile(out)
    print(src)


def nearest(x, c):
    """minGPT's assignment: squared distance by direct differences (exact here
    for byte points and float32 centres in float64), ties to the lowest index."""
    a = np.empty(len(x), dtype=np.int64)
    d2 = np.empty(len(x))
    for s in range(0, len(x), 32768):
        d = ((x[s:s + 32768, None, :] - c[None, :, :]) ** 2).sum(-1)
        a[s:s + 32768] = d.argmin(1)
        d2[s:s + 32768] = d.min(1)
    return a, d2


def lloyd_numpy(x, c, iters):
    """minGPT's loop in float64, the centres rounded to float32 after each
    update as ours are; stops when a cluster is empty (the re-seeding is
    random, so such a run is not comparable)."""
    for _ in range(iters):
        a, _ = nearest(x, c)
        cnt = np.bincount(a, minlength=len(c))
        if (cnt == 0).any():
            sys.exit("kmeans_sklearn: an empty cluster: not comparable")
        for j in range(x.shape[1]):
            c[:, j] = np.bincount(a, weights=x[:, j], minlength=len(c)) / cnt
        c = c.astype(np.float32).astype(np.float64)
    return c


def compare(pts, init, final, iters, tol, sklearn):
    x = np.fromfile(pts, dtype=np.uint8).reshape(-1, 3).astype(np.float64)
    c0 = np.fromfile(init, dtype=np.float32).reshape(-1, 3).astype(np.float64)
    ours = np.fromfile(final, dtype=np.float32).reshape(-1, 3).astype(np.float64)
    ref = lloyd_numpy(x, c0.copy(), iters)
    dn = np.abs(ours - ref).max()
    print("k %d, %d points, %d iterations, from the same initial centres:" % (len(c0), len(x), iters))
    print("  NumPy Lloyd (float64, ties to the lowest index): max |centre difference| %.3g (tolerance %g)%s"
          % (dn, tol, " OVER" if dn > tol else ""))
    if sklearn:
        from sklearn.cluster import KMeans
        km = KMeans(n_clusters=len(c0), init=c0, n_init=1, max_iter=iters, tol=0, algorithm="lloyd").fit(x)
        ds = np.abs(ours - km.cluster_centers_).max(1)
        mse_ours = nearest(x, ours)[1].mean() / 3
        mse_sk = nearest(x, km.cluster_centers_)[1].mean() / 3
        print("  scikit-learn (ties broken by the rounding of |x|^2 - 2x.c + |c|^2): %d of %d centres differ by "
              "over %g, max %.3g; mse %.6f beside ours %.6f (relative %.2g)"
              % ((ds > tol).sum(), len(c0), tol, ds.max(), mse_sk, mse_ours, abs(mse_ours / mse_sk - 1)))
    if dn > tol:
        sys.exit(1)


def timing(pts, init, iters, threads, runs):
    from threadpoolctl import threadpool_limits
    from sklearn.cluster import KMeans
    x = np.fromfile(pts, dtype=np.uint8).reshape(-1, 3).astype(np.float32)
    c0 = np.fromfile(init, dtype=np.float32).reshape(-1, 3)
    with threadpool_limits(limits=threads):
        for _ in range(runs):
            t = time.perf_counter()
            KMeans(n_clusters=len(c0), init=c0, n_init=1, max_iter=iters, tol=0, algorithm="lloyd").fit(x)
            print("seconds %.6f" % (time.perf_counter() - t), flush=True)


if __name__ == "__main__":
    a = sys.argv[1:]
    if a[0] == "points":
        points(a[1], int(a[2]), int(a[3]), a[4:] == ["synthetic"])
    elif a[0] == "compare":
        compare(a[1], a[2], a[3], int(a[4]), float(a[5]), a[6:] == ["sklearn"])
    elif a[0] == "time":
        timing(a[1], a[2], int(a[3]), int(a[4]), int(a[5]))
    else:
        sys.exit(__doc__)
