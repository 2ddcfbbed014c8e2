"""Loop detection on real maps against their ChIA-PET / HiChIP loops, next to the observed/expected baseline.

1. chr17, hg19, 25 kb (Rao 2014 maps; Peakachu's loop lists). The set has no epigenomic track, so the stores are
   Hi-C-only (`build_store(hic, None, ...)`) and the model is the Hi-C-only variant (`variant='hic'`, the tiny preset,
   from scratch), with the paper's loop head and with `loop_centre=5` (the head also reads the 5 x 5 centre pixels),
   and with `--prior` also `loop_prior=True` (a fixed logistic-regression prior on those pixels, fitted on the training
   windows first; its row "prior alone" scores that prior without the network). Split: contiguous blocks of chr17,
   70 / 15 / 15 % (train / valid / test); numbers are on the test block. `--seeds` repeats each run with other seeds
   (initial weights, shuffles and the negative draw), whose spread is the noise of one run.
   - K562 (KR-balanced map) x K562 CTCF ChIA-PET;
   - cross-cell-line: the K562 model applied to the test block of GM12878 (raw counts: the set has no GM12878 weights)
     x GM12878 RAD21 ChIA-PET.
2. chr21:28.0-30.3 Mb, hg19, 10 kb (plotgardener's Rao 2014 maps, ENCODE / Roadmap CTCF + H3K27ac). Tracks at 200 bp
   (10 kb / 50). Cross-cell-line: train on IMR-90 (its 16 HiCCUPS loops), test on GM12878 (its 8 RAD21 ChIA-PET
   interactions); the bimodal and Hi-C-only variants. A 2.3-Mb region: a smoke-sized check, not a benchmark.

Baseline: the observed/expected enrichment of the centre pixel (`mixhic.metrics.oe_score`, expected from the store),
scored on the same windows. Negatives: distance-matched, one per loop (the store's default). Seeded; CPU-sized runs.
Writes bench/out/loops_real.json (loops_real_chr17.json / loops_real_chr21.json with --only).

Run: python bench/loops_real.py [--epochs 40] [--only chr17|chr21] [--transform oe] [--loop-centre 0,5] [--prior] [--seeds 0,1]
"""
from __future__ import annotations
import argparse, json, shutil, time
import numpy as np
from _common import *

C17 = 'gm12878_k562_hg19_chr17_25kb/derived/'
C21 = 'gm12878_imr90_hg19_chr21/derived/'
KEYS = ('auroc', 'auprc', 'f1_opt')

def store(name:str, hic:Path, loops:Path, tracks:dict|None=None, **kw)->Path:
    from mixhic.store import build_store, is_store_dir
    out = OUT/f'{name}.mixhic'
    if not is_store_dir(out) or not (out/'manifest.json').exists():
        build_store(hic, tracks, out, loops=loops, progress=False, **kw)
    return out

def row(name:str, res:dict, secs:float, epochs='')->list:
    from mixhic.metrics import loop_metrics
    m, b = loop_metrics(res['y'], res['pred']), res['baseline']   # both F1s at their own best threshold on these windows
    return [name, res['n'], int(np.sum(res['y'])), *[f"{m[k]:.3f} / {b[k]:.3f}" for k in KEYS],
            f"{m['auroc'] - b['auroc']:+.3f}", epochs, f'{secs:.0f}']

def run(name:str, train_store:Path, cfg, split, test_stores:dict)->list:
    "Fine-tune on `train_store`, then evaluate on the test split of itself and of each of `test_stores`."
    from mixhic.finetune import finetune, evaluate
    out = OUT/'loops_real'/name
    if out.exists(): shutil.rmtree(out)
    t = time.time()
    res = finetune(train_store, out, cfg, split, plot=False, device='cpu')
    secs = time.time() - t
    rows = []
    for tname, ts in {name: train_store, **test_stores}.items():
        tag = name if tname == name else f'{name} -> {tname}'
        rows.append(row(tag, evaluate(ts, out/'best.pt', 'test', split), secs, res['epochs']))
        if cfg.loop_prior: rows.append(row(f'{tag}: prior alone', evaluate(ts, prior_only(out/'best.pt'), 'test', split), secs, res['epochs']))
    return rows

def prior_only(ckpt:Path)->dict:
    "The checkpoint with the network's part of the loop logit switched off (the head's last layer zeroed): the prior alone."
    from mixhic.pretrain import load_checkpoint
    ck = load_checkpoint(ckpt)
    for k in ('head.3.weight', 'head.3.bias'): ck['model'][k] = ck['model'][k].zero_()
    return ck

def chr17(a)->list:
    from mixhic.data import Split
    from mixhic.finetune import FinetuneCfg
    R = real_data()
    tf = a.transform
    k = store(f'chr17_k562_hiconly_{tf}', R/C17/'K562_chr17_25kb_KR.chr17.cool', R/C17/'k562.encode.ctcf-chiapet.hg19.chr17.bedpe', res=25_000, transform=tf)
    g = store(f'chr17_gm12878_hiconly_{tf}', R/C17/'GM12878_chr17_25kb_raw.chr17.cool', R/C17/'gm12878.Heidari.rad21-chiapet.hg19.chr17.bedpe',
              res=25_000, transform=tf)
    split, rows = Split(by='block'), []
    for seed in a.seeds:
        for lc in a.loop_centre:
            for prior in ((False, True) if a.prior and lc else (False,)):
                cfg = FinetuneCfg('loop_windows', 'hic', epochs=a.epochs, bs=32, patience=a.patience, loop_centre=lc, loop_prior=prior, seed=seed, **a.noise)
                tag = (f'Hi-C only, {tf}{", centre " + str(lc) if lc else ""}{" + prior" if prior else ""}'
                       f'{", noise " + a.noise_s if a.noise_s else ""}{f", seed {seed}" if len(a.seeds) > 1 else ""}')
                rows += run(f'chr17 K562 ({tag})', k, cfg, split, {'GM12878': g})
    return rows

def chr21(a)->list:
    from mixhic.core import WindowCfg
    from mixhic.data import Split
    from mixhic.finetune import FinetuneCfg
    R = real_data()
    wc = WindowCfg(trk_res=200, min_dist_bp=40_000)
    i = store('chr21_imr90', R/C21/'IMR90_HiC_10kb.cool', R/C21/'IMR90_DNAloops_pairs.bedpe',
              {'ctcf': R/C21/'IMR90_ChIP_CTCF_signal.bw', 'h3k27ac': R/C21/'IMR90_ChIP_H3K27ac_signal.bw'}, cfg=wc, errors='skip')
    g = store('chr21_gm12878', R/C21/'GM12878_HiC_10kb.cool', R/C21/'GM12878_RAD21_ChIA-PET_chr21_28.0-30.3Mb.bedpe',
              {'ctcf': R/C21/'GM12878_ChIP_CTCF_signal.bw', 'h3k27ac': R/C21/'GM12878_ChIP_H3K27ac_signal.bw'}, cfg=wc, errors='skip')
    # cross-cell-line: IMR-90 trains (its last 30 % validates), every GM12878 window tests
    rows = []
    for var in ('bimodal', 'hic'):
        for lc in a.loop_centre:
            for prior in ((False, True) if a.prior and lc and var == 'hic' else (False,)):
                cfg = FinetuneCfg('loop_windows', var, epochs=a.epochs, bs=8, patience=a.patience, loop_centre=lc, loop_prior=prior)
                rows += run_cross(f'chr21 IMR-90 -> GM12878 ({var}{", centre " + str(lc) if lc else ""}{" + prior" if prior else ""})', i, g, cfg)
    return rows

def run_cross(name:str, train_store:Path, test_store:Path, cfg)->list:
    "Train on the first 70 % of `train_store` (validated on the rest), test on every window of `test_store`."
    from mixhic.data import Split
    from mixhic.finetune import finetune, evaluate
    out = OUT/'loops_real'/name.replace(' ', '_').replace('>', '')
    if out.exists(): shutil.rmtree(out)
    t = time.time()
    res = finetune(train_store, out, cfg, Split(by='block', block_frac=(0.7, 0.3, 0.0)), plot=False, device='cpu')
    secs = time.time() - t
    split = Split(by='block', block_frac=(0.0, 0.0, 1.0))
    rows = [row(name, evaluate(test_store, out/'best.pt', 'test', split), secs, res['epochs'])]
    if cfg.loop_prior: rows.append(row(f'{name}: prior alone', evaluate(test_store, prior_only(out/'best.pt'), 'test', split), secs, res['epochs']))
    return rows

def main(a)->bool:
    header('loops_real: loop detection on real maps (test windows) against the O/E baseline')
    quiet_logs()
    import torch; torch.set_num_threads(2)
    rows = []
    if a.only in (None, 'chr17'): rows += chr17(a)
    if a.only in (None, 'chr21'): rows += chr21(a)
    print(table(rows, ['run (test windows)', 'windows', 'loops', 'AUROC mixhic / O/E', 'AUPRC mixhic / O/E', 'best F1 mixhic / O/E',
                       'AUROC gain', 'epochs', 'train s']))
    print('\n(O/E: observed / expected contacts at the centre pixel; best F1: each score at its own F1-optimal threshold on the test windows)\n')
    (OUT/f"loops_real{'_' + a.only if a.only else ''}.json").write_text(json.dumps(rows, indent=1, default=str))
    return True

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--epochs', type=int, default=40, help='fine-tuning epochs at most (default 40)')
    ap.add_argument('--patience', type=int, default=10, help='early stopping patience in epochs (default 10)')
    ap.add_argument('--only', choices=['chr17', 'chr21'], default=None, help='run one of the two sets')
    ap.add_argument('--loop-centre', type=lambda s: [int(x) for x in s.split(',')], default=[0, 5],
                    help="loop heads to compare: 0 = the paper's pooled tokens, k = also the k x k centre pixels (default 0,5)")
    ap.add_argument('--transform', default='oe', choices=['log1p', 'oe'], help='Hi-C transform of the chr17 stores (default oe)')
    ap.add_argument('--prior', action='store_true', help='also run each head with centre pixels with loop_prior=True (and score the prior alone)')
    ap.add_argument('--seeds', type=lambda s: [int(x) for x in s.split(',')], default=[0], help='seeds of the chr17 runs (default 0)')
    ap.add_argument('--noise', default=None, metavar='KIND:RATE', help='Hi-C augmentation while training, e.g. dropout:0.1 (default none)')
    a = ap.parse_args()
    a.noise_s = a.noise
    a.noise = dict(noise=a.noise.split(':')[0], noise_rate=float(a.noise.split(':')[1])) if a.noise else {}
    raise SystemExit(0 if main(a) else 1)
