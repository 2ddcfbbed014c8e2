"""Random window reads per second in one process: `Store.window` and `WindowDataset.__getitem__`.

On the real K562 chr22 store (3 tracks) and a synthetic store (2 tracks), for random diagonal windows (i = j) and
random loop-like windows (j - i drawn uniformly from the store's min..max loop distance, up to 400 bins), after one
warm-up pass over the same windows (page cache, memory maps, index grids). Median of --passes timed passes.
`WindowDataset.__getitem__` is what a torch DataLoader calls per sample. Target (issue 19): >= 57,000 reads/s through
the dataset (the reference's memmap loader reached 57,300/s); `Store.window` (float32 numpy) is shown for reference.
A second table splits one read into its steps (microseconds each, timed step by step over the same windows);
with --profile (or when a figure misses the target) the cProfile of `Store.window` is printed too.

Run: python bench/read_speed.py [--n 20000] [--passes 3] [--profile]
"""
from __future__ import annotations
import argparse, time
import numpy as np
from _common import *

TARGET = 57_000

def random_windows(st, n:int, loop:bool, seed:int=0)->list:
    "`n` random (chrom, i, j) windows of store `st`, chromosomes drawn by length; loop-like if `loop`."
    rng = np.random.default_rng(seed)
    chroms = [c for c in st.chroms if st.n_bins[c] >= st.w + (st.cfg.max_dist_bins if loop else 0)] or st.chroms
    p = np.array([st.n_bins[c] for c in chroms], float); p /= p.sum()
    out = []
    for c in rng.choice(len(chroms), n, p=p):
        c = chroms[c]; nb = st.n_bins[c]
        d = int(rng.integers(st.cfg.min_dist_bins, min(st.cfg.max_dist_bins, nb - st.w) + 1)) if loop else 0
        i = int(rng.integers(0, nb - st.w - d + 1))
        out.append((c, i, i + d))
    return out

def rate(fn, items, passes:int)->float:
    "Reads per second of `fn(*item)` over `items`: one warm-up pass, then the median of `passes` timed passes."
    for it in items: fn(*it)
    ts = []
    for _ in range(passes):
        t = time.perf_counter()
        for it in items: fn(*it)
        ts.append(time.perf_counter() - t)
    return len(items) / med(ts)

def breakdown(st, wins:list)->dict:
    "Microseconds per read of each step of `Store.window` (mirrors the internals of mixhic.store)."
    import torch
    from mixhic import store as S
    k, w = st.cfg.trk_per_bin, st.w
    def step(f, items=wins):
        for it in items: f(*it)              # warm-up
        t = time.perf_counter()
        for it in items: f(*it)
        return (time.perf_counter() - t) / len(items) * 1e6
    band = {c: st.band(c) for c in st.chroms}
    trk = {c: st.track_bins(c) for c in st.chroms}
    def gather(c, i, j): return S.band_window(band[c], i, j, w, dtype=np.float16)
    def tracks16(c, i, j): return np.concatenate([trk[c][i * k:(i + w) * k], trk[c][j * k:(j + w) * k]])
    sub = wins[:2000]
    h16 = [(gather(*x),) for x in sub]; t16 = [(tracks16(*x),) for x in sub]
    return {'Store.window (float32), the whole call': step(st.window),
            'Store.window (float16, as stored), the whole call': step(lambda c, i, j: st.window(c, i, j, dtype=np.float16)),
            '  _check (bounds; called in hic() and in trk())': 2 * step(st._check),
            '  Hi-C: band_window (a strided view, or one gather near the diagonal; float16)': step(gather),
            '  Hi-C: numpy astype float32': step(lambda a: a.astype(np.float32), h16),
            '  tracks: 2 slices + concatenate (float16)': step(tracks16),
            '  tracks: numpy astype float32': step(lambda a: a.astype(np.float32), t16),
            'WindowDataset: torch.from_numpy(...).float() of both': step(lambda h, t: (torch.from_numpy(h).float()[None], torch.from_numpy(t).float()),
                                                                       [(a, b) for (a,), (b,) in zip(h16, t16)])}

def profile(st, wins:list, top:int=14):
    "Print the cProfile of `Store.window` over `wins`, by own time."
    import cProfile, pstats, io
    for it in wins: st.window(*it)
    pr = cProfile.Profile(); pr.enable()
    for it in wins: st.window(*it)
    pr.disable()
    s = io.StringIO(); pstats.Stats(pr, stream=s).sort_stats('tottime').print_stats(top)
    print('\n```\n' + '\n'.join(l for l in s.getvalue().splitlines() if l.strip()) + '\n```')

def main(n:int=20_000, passes:int=3, synth_mb:int=60, want_profile:bool=False):
    import pandas as pd
    from mixhic.store import Store
    from mixhic.data import WindowDataset
    header('read_speed: random window reads per second, one process')
    stores = [('K562 chr22 (real, 3 tracks)', k562_store())]
    if wait_for_synth(0):
        g, _ = synth_genome(f'synth_{synth_mb}mb', {'chr1': synth_mb * 1_000_000})
        stores.append((f'synthetic chr1 {synth_mb} Mb (2 tracks)', synth_store(f'synth_{synth_mb}mb.mixhic', g)))
    else: print('(mixhic.synth is not importable yet: the synthetic store is skipped)\n')
    rows, parts, ok = [], [], True
    for name, path in stores:
        st = Store(path)
        for kind, loop in (('diagonal', False), ('loop-like', True)):
            wins = random_windows(st, n, loop)
            idx = pd.DataFrame({'store': 0, 'chrom': [c for c, _, _ in wins], 'i': [i for _, i, _ in wins], 'j': [j for _, _, j in wins]})
            ds = WindowDataset([st], idx)
            r_st = rate(st.window, wins, passes)
            r_ds = rate(ds.__getitem__, [(k,) for k in np.random.default_rng(1).permutation(len(ds)).tolist()], passes)   # Python ints, as torch's samplers give
            rows.append([name, kind, 'Store.window (float32 numpy)', f'{r_st:,.0f}', f'{1e6 / r_st:.1f}', '', ''])
            rows.append([name, kind, 'WindowDataset.__getitem__', f'{r_ds:,.0f}', f'{1e6 / r_ds:.1f}', f'>= {TARGET:,}', verdict(r_ds >= TARGET)])
            ok &= r_ds >= TARGET
            if kind == 'loop-like': parts.append((name, breakdown(st, wins)))
    print(table(rows, ['store', 'windows', 'read via', 'reads / s', 'us / read', 'target', 'result']))
    print(f'\n({n:,} random windows per row, one warm-up pass, median of {passes} passes; loop-like: j - i uniform in '
          f'[{st.cfg.min_dist_bins}, {st.cfg.max_dist_bins}] bins)\n')
    print('Where the time of one loop-like read goes (us per read, each step timed alone over the same windows):\n')
    keys = list(parts[0][1])
    print(table([[k] + [f'{p[k]:.1f}' for _, p in parts] for k in keys], ['step'] + [nm for nm, _ in parts]))
    if want_profile or not ok:
        print('\ncProfile of Store.window over the loop-like windows of the K562 store (by own time):')
        profile(Store(stores[0][1]), random_windows(Store(stores[0][1]), n, True))
    return ok

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--n', type=int, default=20_000, help='random windows per measure (default 20000)')
    ap.add_argument('--passes', type=int, default=3, help='timed passes after the warm-up (median; default 3)')
    ap.add_argument('--synth-mb', type=int, default=60, help='length of the synthetic chromosome in Mb (default 60)')
    ap.add_argument('--profile', action='store_true', help='print the cProfile of Store.window')
    a = ap.parse_args()
    raise SystemExit(0 if main(a.n, a.passes, a.synth_mb, a.profile) else 1)
