"""Planted-loop recovery on the synthetic genome: a fine-tuned loop model and the O/E baseline call loops genome-wide.

The store of `mixhic.synth.synth_data()` (chr1 10 Mb, chr2 8 Mb, chr3 6 Mb, 5 kb) is split by chromosome: train chr1,
valid chr2, test chr3. A tiny loop model (`--variant`, default hic) is fine-tuned from scratch; then both it and the
observed/expected score of the centre pixel score every candidate anchor pair of chr3 whose anchors carry track
signal (top 10 % of bins, `mixhic.predict.candidates`), hits are merged into calls (`merge_hits`, each scorer at the
threshold that maximised F1 on the chr2 validation windows) and the calls are matched to the planted loops of chr3
with a tolerance of one bin per anchor (`mixhic.metrics.loop_recovery`). Also prints the window-level test metrics.
Writes bench/out/tasks_synth.json.

Run: python bench/tasks_synth.py [--epochs 60] [--variant hic] [--loop-centre 5] [--trk-noise 1]
"""
from __future__ import annotations
import argparse, json, shutil, time
import numpy as np
from _common import *

def main(a)->bool:
    import torch
    import pandas as pd
    from mixhic.store import Store, expected_by_distance
    from mixhic.data import Split, make_datasets
    from mixhic.finetune import finetune, FinetuneCfg, load_task_model, window_fn, baseline
    from mixhic.metrics import best_threshold, loop_recovery, oe_score
    from mixhic.predict import candidates, signal_anchors, score_loops, merge_hits
    header('tasks_synth: planted-loop recovery on the synthetic genome (test chr3), mixhic against O/E')
    quiet_logs(); torch.set_num_threads(2)
    st, split = Store(default_synth_store()), Split(**SYNTH_SPLIT)
    run = OUT/'tasks_synth'
    if run.exists(): shutil.rmtree(run)
    t = time.time()
    res = finetune(st, run, FinetuneCfg('loop_windows', a.variant, epochs=a.epochs, bs=16, loop_centre=a.loop_centre, loop_prior=a.loop_prior, trk_noise=a.trk_noise, near_miss=a.near_miss), split, plot=False, device='cpu')
    secs = time.time() - t
    m, b = res['metrics']['test/mixhic'], res['metrics']['test/baseline']
    tag = f'mixhic ({a.variant}{", centre " + str(a.loop_centre) if a.loop_centre else ""}{" + prior" if a.loop_prior else ""}{", near-miss " + str(a.near_miss) if a.near_miss else ""})'
    rows = [[tag, 'windows', f"{m['auroc']:.3f}", f"{m['auprc']:.3f}", f"{m['f1_opt']:.3f}", '', '', '', f'{secs:.0f}'],
            ['O/E (baseline)', 'windows', f"{b['auroc']:.3f}", f"{b['auprc']:.3f}", f"{b['f1_opt']:.3f}", '', '', '', '']]
    # genome-wide calls on chr3
    model, ck = load_task_model(run/'best.pt')
    anchors = signal_anchors(st, 'chr3')
    cands = candidates(st, 'chr3', anchors=anchors)
    exp = expected_by_distance(st)
    tr, va, _ = make_datasets(st, 'loop_windows', split)
    thr_oe = best_threshold(va.index.y.to_numpy(), baseline('loop_windows', tr, va))
    h = st.w // 2
    def oe_windows(hic, trk):   # the baseline as a window function: centre pixel minus the expected at its distance
        return hic[:, 0, h, h].numpy()
    known = st.table('loops'); known = known[(known.chrom == 'chr3')][['chrom', 'a', 'b']]
    t = time.time(); s_model = score_loops(st, window_fn(model), cands, bs=64, progress=False); secs_model = time.time() - t
    s_oe = score_loops(st, oe_windows, cands, bs=256, progress=False) - exp[(cands.b - cands.a).to_numpy()]
    for name, sc, thr, sec in ((tag, s_model, float(ck['threshold']), secs_model), ('O/E (baseline)', s_oe, float(thr_oe), None)):
        calls = merge_hits(cands.assign(score=sc), threshold=thr, gap=1)
        r = loop_recovery(calls, known, tol=1)
        rows.append([name, f'calls on chr3 ({len(cands):,} candidates)', '', f"{r['auprc']:.3f}", f"{r['f1']:.3f}", f"{r['precision']:.3f}",
                     f"{r['recall']:.3f}", f"{r['n_called']} / {r['n_known']}", f'{sec:.0f}' if sec else ''])
    print(table(rows, ['scorer', 'level', 'AUROC', 'AUPRC', 'F1', 'precision', 'recall', 'calls / planted', 'seconds']))
    print(f"\n(windows: the chr3 test windows, planted loops against distance-matched negatives, F1 at the best threshold; calls: "
          f"candidate pairs of chr3 between anchors in the top 10 % of track signal ({len(anchors)} bins), hits at the threshold "
          f"that maximised F1 on chr2's windows, merged within 1 bin, matched to the {len(known)} planted loops of chr3 within 1 bin per anchor)\n")
    (OUT/'tasks_synth.json').write_text(json.dumps(rows))
    return True

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--epochs', type=int, default=60, help='fine-tuning epochs at most (default 60)')
    ap.add_argument('--variant', default='hic', choices=['bimodal', 'hic', 'tracks'], help='loop model variant (default hic)')
    ap.add_argument('--loop-centre', type=int, default=0, help="loop head: 0 = the paper's pooled tokens, k = also the k x k centre pixels")
    ap.add_argument('--loop-prior', action='store_true', help='with --loop-centre: a fixed logistic-regression prior on the centre pixels (loop_prior)')
    ap.add_argument('--near-miss', type=int, default=0, help='training negatives per loop shifted 2-4 bins off it (default 0)')
    ap.add_argument('--trk-noise', type=float, default=0.0, help='std of Gaussian noise on the training tracks (default 0)')
    raise SystemExit(0 if main(ap.parse_args()) else 1)
