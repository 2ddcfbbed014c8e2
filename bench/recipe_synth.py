"""Each departure of mixhic's defaults from the paper's recipe, switched alone, measured on the synthetic genome.

The store of the default synthetic genome (`mixhic.synth.synth_data()`: three chromosomes, ATAC + DNase, planted
loops, genes). Pre-training rows (tiny model, --pre-epochs epochs, one-cycle schedule as the demo, seed 0; train
chr1-chr2, validation chr3): mixhic's defaults, then each field of `mixhic.pretrain.PAPER_PRETRAIN` set to the
paper's value alone, then the whole recipe (`PretrainCfg.paper`). Each is scored as the demo scores it: held-out chr3,
a window's track vector ranking its own Hi-C vector among all held-out windows (median rank, top-1 and top-5 share).
Fine-tuning rows (tiny, from scratch, --ft-epochs epochs; train chr1, valid chr2, test chr3): the loop-window
classifier (bimodal; Hi-C only for the fusion-stack row, whose departure concerns single-modality models) scored by
test AUROC, and map prediction (tracks only) by test Pearson for the map-window row; mixhic's defaults next to each
field of `mixhic.finetune.PAPER_FINETUNE` alone. One seed: differences within a few hundredths are noise at this size.
Writes bench/out/recipe_synth.json.

Run: python bench/recipe_synth.py [--pre-epochs 10] [--ft-epochs 8]   (about 20 minutes on 2 CPU cores)
"""
from __future__ import annotations
import argparse, json, shutil, time
import numpy as np
from _common import *

def pre_row(st, out, kw:dict, epochs:int)->dict:
    "Pre-train with PretrainCfg(**kw) and score held-out retrieval on chr3."
    from mixhic.pretrain import PretrainCfg, pretrain, embed, partner_rank, DEMO_SPLIT
    shutil.rmtree(out, ignore_errors=True)
    t = time.time()
    pretrain(st, out, PretrainCfg(**{'epochs': epochs, 'schedule': 'one_cycle', **kw}), DEMO_SPLIT, plot=False,
             device='cpu', quiet=True)
    e = embed(st, out/'last.pt')
    m = e['chrom'] == 'chr3'
    r = partner_rank(e['I_E'][m], e['I_M'][m])
    return dict(median_rank=float(np.median(r)), top1=float((r == 0).mean()), top5=float((r < 5).mean()),
                windows=int(m.sum()), seconds=time.time() - t)

def ft_row(st, out, task:str, variant:str, kw:dict, epochs:int)->dict:
    "Fine-tune `task` / `variant` from scratch with FinetuneCfg(**kw) and return its test metrics."
    from mixhic.data import Split
    from mixhic.finetune import FinetuneCfg, finetune
    shutil.rmtree(out, ignore_errors=True)
    t = time.time()
    res = finetune(st, out, FinetuneCfg(task, variant, epochs=epochs, **kw),
                   Split(by='chrom', train=('chr1',), valid=('chr2',), test=('chr3',)), plot=False, device='cpu', quiet=True)
    return {**res['metrics']['test/mixhic'], 'seconds': time.time() - t}

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--pre-epochs', type=int, default=10)
    ap.add_argument('--ft-epochs', type=int, default=8)
    a = ap.parse_args()
    from mixhic.pretrain import PAPER_PRETRAIN
    from mixhic.finetune import PAPER_FINETUNE
    from mixhic.store import Store
    quiet_logs()
    header("recipe_synth: each departure from the paper's recipe, alone, on the synthetic genome")
    st = Store(default_synth_store())
    d = OUT/'recipe_synth'
    res = {'pretrain': {}, 'finetune': {}}
    pre = {'mixhic defaults': {}, **{f'{k}={v!r}': {k: v} for k, v in PAPER_PRETRAIN.items()}, "the paper's recipe (all)": PAPER_PRETRAIN}
    rows = []
    for name, kw in pre.items():
        r = res['pretrain'][name] = pre_row(st, d/'pre', kw, a.pre_epochs)
        rows.append([name, f"{r['median_rank']:.1f}", f"{r['top1']:.3f}", f"{r['top5']:.3f}", r['windows'], f"{r['seconds']:.0f}"])
    print(f"Pre-training, tiny, {a.pre_epochs} epochs; held-out chr3 retrieval (chance: median rank "
          f"{(rows[0][4] - 1) / 2:.0f}, top-1 {1 / rows[0][4]:.3f}, top-5 {5 / rows[0][4]:.3f}):\n")
    print(table(rows, ['setting', 'median partner rank (lower: better)', 'top-1', 'top-5', 'held-out windows', 'seconds']))
    ft = [('loop_windows', 'bimodal', 'auroc', {}), ('loop_windows', 'hic', 'auroc', {}),
          ('maps', 'tracks', 'pearson', {})]
    rows = []
    for task, variant, metric, _ in ft:
        base = res['finetune'][f'{task} {variant}: mixhic defaults'] = ft_row(st, d/'ft', task, variant, {}, a.ft_epochs)
        rows.append([f'{task} {variant}', 'mixhic defaults', metric, f"{base[metric]:.3f}", '', f"{base['seconds']:.0f}"])
        for k, v in PAPER_FINETUNE.items():
            if k == 'windows' and task != 'maps': continue                   # maps' windows only
            if k == 'fusion_single' and variant not in ('hic', 'tracks'): continue   # single-modality models only
            if k == 'fusion_link' and variant in ('hic', 'tracks'): continue       # they have no cross-attention
            if k == 'hic_norm' and variant == 'tracks': continue                    # it reads no Hi-C
            r = res['finetune'][f'{task} {variant}: {k}={v!r}'] = ft_row(st, d/'ft', task, variant, {k: v}, a.ft_epochs)
            rows.append(['', f'{k}={v!r}', metric, f"{r[metric]:.3f}", f"{r[metric] - base[metric]:+.3f}", f"{r['seconds']:.0f}"])
    print(f"\nFine-tuning from scratch, tiny, {a.ft_epochs} epochs; test chr3:\n")
    print(table(rows, ['model', 'setting', 'metric', 'test value', 'vs defaults', 'seconds']))
    (OUT/'recipe_synth.json').write_text(json.dumps(res, indent=1, default=float))

if __name__ == '__main__': main()
