"""Store bytes per pre-training window, against the reference layout (one float32 file per window).

For the real K562 chr22 store (3 tracks) and a synthetic store with the paper's 2 tracks (atac, dnase): bytes of the
store on disk divided by the diagonal windows tiled, and by the windows kept by the filters. The reference layout
stores each window on its own: 50 x 50 float32 Hi-C + 5000 x n_tracks float32 tracks (50,000 bytes for 2 tracks).
Target: <= 1/3 of the reference. A second table shows where the bytes go (per file, per tiled window).

Run: python bench/store_bytes.py [--synth-mb 60] [--rebuild]
"""
from __future__ import annotations
import argparse
from _common import *

TARGET = 1 / 3

def ref_bytes(n_tracks:int, w:int=50, trk_len:int=5000)->int:
    "Bytes of one window in the reference layout: w x w float32 Hi-C + trk_len x n_tracks float32 tracks."
    return w * w * 4 + trk_len * n_tracks * 4

def measure(name:str, path:Path):
    "Rows of the summary and of the per-file table for the store at `path`."
    from mixhic.store import Store
    st = Store(path); d = st.manifest['diag']
    n_tr, total = len(st.tracks), dir_bytes(path)
    ref = ref_bytes(n_tr, st.w, st.cfg.trk_len)
    rows = []
    for what, n in (('tiled', d['total']), ('kept', d['ok'])):
        b = total / n
        rows.append([name, n_tr, f'{total:,}', f'{what}: {n:,}', f'{b:,.0f}', f'{ref:,}', f'{b / ref:.3f}', f'<= {TARGET:.3f}', verdict(b <= TARGET * ref)])
    files = {}
    for f in path.rglob('*'):
        if f.is_file(): files[f.name] = files.get(f.name, 0) + f.stat().st_size
    parts = [[name, k, f'{v:,}', f'{v / d["total"]:,.0f}', f'{v / total:.1%}'] for k, v in sorted(files.items(), key=lambda kv: -kv[1])]
    return rows, parts

def main(synth_mb:int=60, rebuild:bool=False):
    header('store_bytes: store bytes per pre-training window vs the float32 one-file-per-window reference')
    rows, parts = [], []
    r, p = measure('K562 chr22 (real)', k562_store(rebuild)); rows += r; parts += p
    if wait_for_synth(0):
        g, _ = synth_genome(f'synth_{synth_mb}mb', {'chr1': synth_mb * 1_000_000})
        r, p = measure(f'synthetic chr1 {synth_mb} Mb', synth_store(f'synth_{synth_mb}mb.mixhic', g, rebuild=rebuild)); rows += r; parts += p
    else: print('(mixhic.synth is not importable yet: the synthetic store is skipped)\n')
    print(table(rows, ['store', 'tracks', 'store bytes', 'windows', 'bytes / window', 'reference bytes / window', 'ratio', 'target', 'result']))
    from mixhic.core import WindowCfg
    c = WindowCfg()
    print(f'\nWhere the bytes go (float16; the Hi-C band is kept {c.band_bins} diagonals wide so that loop windows up to '
          f'{c.max_dist_bp / 1e6:g} Mb are served too, tracks at {c.trk_res} bp):\n')
    print(table(parts, ['store', 'file', 'bytes', 'bytes / tiled window', 'share']))
    return all(r[-1] == 'PASS' for r in rows)

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--synth-mb', type=int, default=60, help='length of the synthetic chromosome in Mb (default 60)')
    ap.add_argument('--rebuild', action='store_true', help='rebuild the cached stores under bench/out/')
    a = ap.parse_args()
    raise SystemExit(0 if main(a.synth_mb, a.rebuild) else 1)
