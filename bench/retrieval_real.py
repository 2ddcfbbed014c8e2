"""Held-out cross-modal retrieval of a pre-trained model on the real K562 chr22 5-kb set.

Embeds every kept diagonal window of the K562 chr22 store (DNase + ATAC) with a pre-training checkpoint (default: the
one `bench/tasks_real.py` writes, 20 epochs of the tiny model on the first 70 % of chr22, `Split(by='block')`), then,
per split and for all held-out windows together (valid + test: with `last.pt` and a constant learning rate the
validation block steers nothing), ranks each window's partner among those windows in the other modality (cosine of
the invariant parts I_E, I_M): median and mean rank against chance ((n - 1) / 2), top-1 and top-5 against chance
(1/n, 5/n), and a Kolmogorov-Smirnov test of the ranks against the uniform distribution they follow at chance.

With --pretrain it first pre-trains that model itself (tiny, 20 epochs, batch 32, PretrainCfg's defaults otherwise)
on two folds of chr22 into bench/out/retrieval_real/: blocks train, valid, test along the chromosome (70 / 15 / 15 %,
the test block at the end) and the reverse (test, valid, train: the test block at the start). About 1.5 min per fold
on 2 threads.

Run: python bench/retrieval_real.py --pretrain
     or python bench/tasks_real.py --skip-genome (once, for its checkpoint), then python bench/retrieval_real.py [--ckpt PATH]
"""
from __future__ import annotations
import argparse
import numpy as np
from _common import *

FOLDS = {'train-valid-test': ('train', 'valid', 'test'), 'test-valid-train': ('test', 'valid', 'train')}

def ranks(e:dict, m, n:int, fold:str, name:str)->list:
    "Table rows of the windows `m` of embeddings `e`, both directions."
    from scipy import stats
    from mixhic.pretrain import partner_rank
    rows = []
    for x, y, nm in ((e['I_E'][m], e['I_M'][m], 'tracks -> Hi-C'), (e['I_M'][m], e['I_E'][m], 'Hi-C -> tracks')):
        r = partner_rank(x, y)
        p = stats.kstest((r + 0.5) / n, 'uniform').pvalue
        rows.append([fold, name, nm, n, f'{np.median(r):.0f} / {(n - 1) / 2:.1f}', f'{r.mean():.1f}', f'{np.mean(r == 0):.3f} / {1 / n:.3f}',
                     f'{np.mean(r < 5):.3f} / {5 / n:.3f}', f'{p:.2g}'])
    return rows

def evaluate(ck:Path, fold:str)->list:
    from mixhic.pretrain import embed
    e = embed(OUT/'k562_tasks.mixhic', ck)
    rows = []
    for sp in ('train', 'valid', 'test', 'held-out'):
        m = np.isin(e['split'], ['valid', 'test']) if sp == 'held-out' else e['split'] == sp
        n = int(m.sum())
        if n >= 2: rows += ranks(e, m, n, fold, sp)
    return rows

def main(a)->bool:
    header('retrieval_real: held-out partner retrieval on K562 chr22 (tracks <-> Hi-C)')
    quiet_logs()
    rows = []
    if a.pretrain:
        import shutil, time, torch
        from mixhic.data import Split
        from mixhic.pretrain import pretrain, PretrainCfg
        from tasks_real import store
        torch.set_num_threads(2)
        for fold, order in FOLDS.items():
            run = OUT/'retrieval_real'/fold; shutil.rmtree(run, ignore_errors=True)
            t = time.time()
            pretrain(store(), run, PretrainCfg(epochs=a.epochs, bs=32), Split(by='block', block_order=order), plot=False, device='cpu')
            print(f'fold {fold}: pre-trained {a.epochs} epochs in {time.time() - t:.0f} s into {run}')
            rows += evaluate(run/'last.pt', fold)
    else:
        ck = Path(a.ckpt)
        if not ck.exists(): print(f"no checkpoint at {ck}: run bench/tasks_real.py first"); return False
        rows += evaluate(ck, 'train-valid-test')
    print(table(rows, ['fold (blocks along chr22)', 'windows of', 'direction', 'n', 'median rank / chance', 'mean rank', 'top-1 / chance',
                       'top-5 / chance', 'KS p (chance)']))
    print('\n(ranks among every window of the row, by cosine of the invariant parts; 0 = the partner comes first; '
          'held-out = valid + test)\n')
    return True

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--ckpt', default=str(OUT/'tasks_real'/'pre'/'best.pt'), help='pre-training checkpoint (default: the tasks_real one)')
    ap.add_argument('--pretrain', action='store_true', help='pre-train the checkpoint first (into bench/out/retrieval_real)')
    ap.add_argument('--epochs', type=int, default=20, help='pre-training epochs with --pretrain (default 20)')
    raise SystemExit(0 if main(ap.parse_args()) else 1)
