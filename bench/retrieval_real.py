"""Held-out cross-modal retrieval of a pre-trained model on the real K562 chr22 5-kb set.

Embeds every kept diagonal window of the K562 chr22 store (DNase + ATAC) with a pre-training checkpoint (default: the
one `bench/tasks_real.py` writes, 20 epochs of the tiny model on the first 70 % of chr22, `Split(by='block')`), then,
per split, ranks each window's partner among all windows of that split in the other modality (cosine of the invariant
parts I_E, I_M): median and mean rank against chance ((n - 1) / 2), top-1 and top-5 against chance (1/n, 5/n), and a
Kolmogorov-Smirnov test of the ranks against the uniform distribution they follow at chance.

Run: python bench/tasks_real.py --skip-genome   (once, for the checkpoint), then python bench/retrieval_real.py [--ckpt PATH]
"""
from __future__ import annotations
import argparse
import numpy as np
from _common import *

def main(a)->bool:
    from scipy import stats
    from mixhic.pretrain import embed, partner_rank
    header('retrieval_real: held-out partner retrieval on K562 chr22 (tracks <-> Hi-C)')
    quiet_logs()
    ck = Path(a.ckpt)
    if not ck.exists(): print(f"no checkpoint at {ck}: run bench/tasks_real.py first"); return False
    e = embed(OUT/'k562_tasks.mixhic', ck)
    rows = []
    for sp in ('train', 'valid', 'test'):
        m = e['split'] == sp; n = int(m.sum())
        if n < 2: continue
        for x, y, nm in ((e['I_E'][m], e['I_M'][m], 'tracks -> Hi-C'), (e['I_M'][m], e['I_E'][m], 'Hi-C -> tracks')):
            r = partner_rank(x, y)
            p = stats.kstest((r + 0.5) / n, 'uniform').pvalue
            rows.append([sp, nm, n, f'{np.median(r):.0f} / {(n - 1) / 2:.1f}', f'{r.mean():.1f}', f'{np.mean(r == 0):.3f} / {1 / n:.3f}',
                         f'{np.mean(r < 5):.3f} / {5 / n:.3f}', f'{p:.2g}'])
    print(table(rows, ['split', 'direction', 'windows', 'median rank / chance', 'mean rank', 'top-1 / chance', 'top-5 / chance', 'KS p (chance)']))
    print('\n(ranks among every window of the split, by cosine of the invariant parts; 0 = the partner comes first)\n')
    return True

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--ckpt', default=str(OUT/'tasks_real'/'pre'/'best.pt'), help='pre-training checkpoint (default: the tasks_real one)')
    raise SystemExit(0 if main(ap.parse_args()) else 1)
