"""Downstream tasks on the real K562 hg38 chr22 5-kb set, next to their baselines, and genome-wide map prediction cost.

1. Map prediction (held-out block of chr22, `Split(by='block')`: 70 / 15 / 15 % of the chromosome): the tiny model,
   tracks-only from scratch and Infer from a short pre-training on the training block, against the distance-decay
   (expected) map computed from the training windows.
2. Expression: log2(1 + TPM) of the gene table (RNA-seq, ENCFF934YBO) at each TSS, the tiny bimodal model from scratch,
   against the mean of the training genes.
3. Genome-wide map prediction of the whole chr22 with the `paper` C=128 Infer model (random weights: the cost does not
   depend on them), through `mixhic.predict.predict_maps` into a .cool, in a child process: wall time and peak RSS.

Tracks: DNase and ATAC (the paper's two). Everything is seeded; numbers are those of a CPU-sized run (epochs below),
not the paper's 200-epoch GPU runs. Writes bench/out/tasks_real.json.

Run: python bench/tasks_real.py [--epochs 30] [--pre-epochs 20] [--skip-genome]
"""
from __future__ import annotations
import argparse, json, resource, shutil, subprocess, sys, time
import numpy as np
from _common import *

GENES = 'K562_chr22_hg38_genes_TSS_TPM.tsv'

def store()->Path:
    "The K562 chr22 store with DNase + ATAC and the gene table (log2(1 + TPM)), cached under bench/out."
    from mixhic.store import build_store, is_store_dir
    cool, tracks = k562_inputs()
    out = OUT/'k562_tasks.mixhic'
    if not is_store_dir(out):
        build_store(cool, {k: tracks[k] for k in ('dnase', 'atac')}, out, genes=cool.parent/GENES, expr_col='K562_TPM_ENCFF934YBO',
                    expr_log=True, progress=False)
    return out

def tasks(a)->list:
    import torch
    from mixhic.data import Split
    from mixhic.pretrain import pretrain, PretrainCfg
    from mixhic.finetune import finetune, FinetuneCfg
    torch.set_num_threads(2)
    sp, split, runs = store(), Split(by='block'), OUT/'tasks_real'
    if runs.exists(): shutil.rmtree(runs)
    t = time.time()
    pretrain(sp, runs/'pre', PretrainCfg(epochs=a.pre_epochs, bs=32), split, plot=False, device='cpu')
    rows = [['pre-training (tiny)', '', f'{a.pre_epochs} epochs', '', '', '', f'{time.time() - t:.0f}']]
    for name, cfg, ck in (('maps, tracks only, scratch', FinetuneCfg('maps', 'tracks', epochs=a.epochs, bs=16), None),
                          ('maps, Infer, pre-trained', FinetuneCfg('maps', 'infer', epochs=a.epochs, bs=16), runs/'pre'/'best.pt'),
                          ('expression, bimodal, scratch', FinetuneCfg('expr', 'bimodal', epochs=a.epochs, bs=16), None)):
        t = time.time()
        res = finetune(sp, runs/name.replace(', ', '-').replace(' ', '_'), cfg, split, ck, plot=False, device='cpu')
        m, b = res['metrics']['test/mixhic'], res['metrics']['test/baseline']
        keys = ('r2', 'pearson', 'scc', 'insulation_corr') if cfg.task == 'maps' else ('r2', 'pearson_gene')
        for k in keys:
            rows.append([name, k, f"{m[k]:.3f}", f"{b[k]:.3f}", f"{m[k] - b[k]:+.3f}" if np.isfinite(b[k]) else 'n/a',
                         res['best_epoch'], f'{time.time() - t:.0f}'])
    return rows

def genome(a)->dict:
    "Predict all of chr22 with the paper C=128 Infer model into a .cool, in this (child) process."
    import torch
    from mixhic.core import tune_malloc
    from mixhic.layers import ModelCfg
    from mixhic.model import MixHiC
    from mixhic.store import Store
    from mixhic.finetune import window_fn
    from mixhic.predict import predict_maps
    torch.set_num_threads(2); tune_malloc()
    st = Store(store())
    torch.manual_seed(0)
    model = MixHiC(ModelCfg.preset('paper', 'maps', n_tracks=len(st.tracks)), 'maps', 'infer')
    t = time.time()
    out = predict_maps(st, window_fn(model), OUT/'k562_chr22_pred.cool', bs=a.bs, progress=False)
    secs = time.time() - t
    import cooler
    clr = cooler.Cooler(str(out))
    return dict(seconds=secs, bins=int(st.n_bins['chr22']), pixels=int(clr.info['nnz']), bytes=out.stat().st_size,
                peak_gib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20)

def main(a)->bool:
    header('tasks_real: K562 chr22 maps and expression against baselines; genome-wide map prediction cost')
    quiet_logs()
    rows = tasks(a)
    print(table(rows, ['run', 'metric (test block)', 'mixhic', 'baseline', 'mixhic - baseline', 'best epoch', 'seconds']))
    print('\n(baselines: the mean map of the training windows at each distance for maps; the mean log2(1 + TPM) of the training '
          'genes for expression, whose Pearson is undefined)\n')
    res = {'tasks': rows}
    if not a.skip_genome:
        r = subprocess.run([sys.executable, __file__, '--genome-child', '--bs', str(a.bs)], capture_output=True, text=True)
        try: g = json.loads(r.stdout.strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError): print(r.stderr[-2000:]); return False
        res['genome'] = g
        print(table([[f"chr22, {g['bins']:,} bins of 5 kb", 'paper C=128 Infer', a.bs, f"{g['seconds']:.0f}", f"{g['seconds'] / g['bins'] * 1e3:.1f}",
                      f"{g['peak_gib']:.2f}", f"{g['pixels']:,}", f"{g['bytes'] / 2**20:.1f}"]],
                    ['genome-wide map prediction', 'model', 'batch', 'seconds', 'ms per bin', 'peak RSS (GiB)', 'pixels written', '.cool MiB']))
    (OUT/'tasks_real.json').write_text(json.dumps(res, indent=1, default=str))
    return True

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--epochs', type=int, default=30, help='fine-tuning epochs at most (default 30)')
    ap.add_argument('--pre-epochs', type=int, default=20, help='pre-training epochs (default 20)')
    ap.add_argument('--bs', type=int, default=8, help='batch of the genome-wide prediction (default 8)')
    ap.add_argument('--skip-genome', action='store_true', help='skip the genome-wide prediction')
    ap.add_argument('--genome-child', action='store_true', help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.genome_child: print(json.dumps(genome(a))); raise SystemExit(0)
    raise SystemExit(0 if main(a) else 1)
