"""WholeBrain's FFT band-pass, written from its description with numpy (shared by the fixture scripts)."""
import numpy as np


def mirror_padding(n):
    """Smallest p >= n/2 (<= n - 1) with n + 2p having no prime factor above 7."""
    def smooth(v):
        for f in (2, 3, 5, 7):
            while v % f == 0:
                v //= f
        return v == 1
    lower, upper = (n + 1) // 2, max((n + 1) // 2, n - 1)
    return next((p for p in range(lower, upper + 1) if smooth(n + 2 * p)), upper)


def mirror_bandpass(x, fs, lo, hi):
    """Reference of WholeBrain's FFT band-pass: mirror both ends by p samples, zero bins outside [lo, hi]."""
    n = x.shape[-1]
    p = mirror_padding(n)
    ext = np.concatenate([x[..., p:0:-1], x, x[..., -2:-2 - p:-1]], axis=-1)
    m = ext.shape[-1]
    X = np.fft.rfft(ext, axis=-1)
    fr = np.arange(X.shape[-1]) * fs / m
    X[..., (fr < lo) | (fr > hi)] = 0
    return np.fft.irfft(X, n=m, axis=-1)[..., p:p + n]
