"""Downloading dataset files: official mirrors in turn, retries, a progress bar (tqdm when
installed), MD5 verification, and atomic placement (a partial download never takes the final name)."""
import hashlib
import os
import sys
import tempfile
import time
import urllib.request


def md5sum(path, chunk=1 << 20):
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def _progress(total, desc):
    try:
        from tqdm import tqdm

        return tqdm(total=total, unit="B", unit_scale=True, desc=desc, leave=False)
    except ImportError:
        return _PlainProgress(total, desc)


class _PlainProgress:
    def __init__(self, total, desc):
        self.total, self.desc, self.n, self._last = total, desc, 0, 0.0

    def update(self, n):
        self.n += n
        now = time.monotonic()
        if now - self._last > 0.5 or (self.total and self.n >= self.total):
            self._last = now
            pct = f"{100 * self.n / self.total:5.1f}%" if self.total else f"{self.n >> 10} KiB"
            print(f"\r{self.desc}: {pct}", end="", file=sys.stderr, flush=True)

    def close(self):
        print(file=sys.stderr)


def download(urls, dest, md5=None, retries=3, timeout=30.0):
    """Fetch the first of `urls` that answers into `dest`, verifying `md5`; atomic placement."""
    os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)
    errors = []
    for url in urls:
        for attempt in range(retries):
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(dest)), prefix=".part-")
            try:
                with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
                    total = int(resp.headers.get("Content-Length") or 0)
                    bar = _progress(total, os.path.basename(dest))
                    try:
                        for block in iter(lambda: resp.read(1 << 16), b""):
                            out.write(block)
                            bar.update(len(block))
                    finally:
                        bar.close()
                    out.flush()
                    os.fsync(out.fileno())
                if md5 is not None and md5sum(tmp) != md5:
                    raise OSError(f"checksum mismatch for {url}: expected md5 {md5}, got {md5sum(tmp)}")
                os.replace(tmp, dest)
                return dest
            except Exception as exc:  # network errors, bad checksums: try again, then the next mirror
                errors.append(f"{url} (attempt {attempt + 1}): {exc}")
                if os.path.exists(tmp):
                    os.unlink(tmp)
                time.sleep(min(2 ** attempt, 4) * 0.1)
    raise RuntimeError("could not download " + os.path.basename(dest) + ":\n  " + "\n  ".join(errors))
