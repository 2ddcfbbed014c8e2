"""Pre-training throughput through the fastai Learner of `mixhic.pretrain`, and the data loader's share of a step.

Each row runs in its own fresh process, which calls `mixhic.core.tune_malloc()` first (as the training commands do) and
`torch.set_num_threads(--threads)` (2 by default), then builds `pretrain_learner(store, PretrainCfg(preset, C, bs,
warmup=0), Split(by='chrom', train=('chr1', 'chr2'), valid=('chr3',), test=()), out=None, num_workers, 'cpu', plot=False)`
over the default synthetic genome (`mixhic.synth.synth_data()`, tracks atac and dnase; its store is cached in bench/out/).
In that process, in this order:
1. loader alone: one full pass of `for b in learn.dls.train` (shuffled, the training batch size), timing each `next`;
   the median per batch, leaving out the first (iterator start-up, which with workers spawns them) - `loader ms/batch`;
2. training: `learn.fit(n)` with the three pre-training losses (no contrastive-only warm-up), validation skipped by a
   callback raising CancelValidException, stopped by CancelFitException once enough steps are timed. A step is the
   interval between consecutive `before_batch` events within an epoch: fetching the next batch from the loader + forward
   + losses + backward + AdamW step + zero_grad + callbacks. The first --warmup steps are not timed; `s/step` is the
   median of the next --steps (per row defaults below), `windows/s` = bs / (s/step). `in-loop wait` is the part of a step
   between the end of `after_batch` and the next `before_batch` (the training loop waiting for its next batch: with
   workers, what prefetching does not hide), median, as a share of the step.
`loader share` = loader ms/batch / s/step: the claim checked is "the loader is not the bottleneck", PASS when the
num_workers=0 rows' share is <= 10 % (a worker then brings nothing worth its CPU on this 2-core machine).
`peak GiB` is the row process's peak RSS (getrusage, workers not included; their own peak is in the JSON).
The table is also written to bench/out/pretrain_speed.json.

Run: python bench/pretrain_speed.py [--rows tiny-b32-w0 paper128-b8-w0 ...] [--steps N] [--warmup N] [--threads 2]
"""
from __future__ import annotations
import argparse, json, math, os, resource, subprocess, sys, time
from _common import *

# name: (preset, C, batch, num_workers, warm-up steps, timed steps)
ROWS = {'tiny-b32-w0': ('tiny', None, 32, 0, 2, 12),
        'tiny-b32-w1': ('tiny', None, 32, 1, 2, 12),
        'paper128-b8-w0': ('paper', 128, 8, 0, 2, 6),
        'paper128-b8-w1': ('paper', 128, 8, 1, 2, 6),
        'paper128-b32-w0': ('paper', 128, 32, 0, 1, 3)}
TARGET = 0.10                            # largest loader share of a step (num_workers=0 rows)
SPLIT = dict(by='chrom', train=('chr1', 'chr2'), valid=('chr3',), test=())

def one(row:str, store:str, steps:int, warmup:int, threads:int)->dict:
    "Measure `row` in this process (see the module docstring)."
    load = os.getloadavg()[0]
    from mixhic.core import tune_malloc
    malloc = tune_malloc()
    import torch
    torch.set_num_threads(threads)
    quiet_logs()
    from fastai.learner import CancelFitException, CancelValidException
    from fastai.callback.core import Callback
    import fastai.callback.progress  # noqa: F401  (Learner.no_bar)
    from mixhic.data import Split
    from mixhic.layers import n_params
    from mixhic.pretrain import PretrainCfg, pretrain_learner
    preset, C, bs, workers = ROWS[row][:4]
    cfg = PretrainCfg(preset=preset, C=C, bs=bs, warmup=0)
    learn = pretrain_learner(store, cfg, Split(**SPLIT), out=None, num_workers=workers, device='cpu', plot=False)
    nb = len(learn.dls.train)
    # 1. the loader alone: one pass over the training loader
    waits, t = [], time.perf_counter()
    for _ in learn.dls.train:
        t1 = time.perf_counter(); waits.append(t1 - t); t = t1
    loader_first, loader = waits[0], med(waits[1:]) if len(waits) > 1 else waits[0]

    # 2. training through the Learner
    class Tic(Callback):
        "First in before_batch / before_train: timestamps; stops the fit once `steps` steps are timed."
        order = -1000
        def __init__(self): self.k, self.prev, self.steps, self.waits, self.starts, self.t_train = 0, None, [], [], [], None
        def before_train(self): self.prev, self.t_train = None, time.perf_counter()
        def before_validate(self): raise CancelValidException()
        def before_batch(self):
            if not self.training: return
            now = time.perf_counter()
            if self.prev is None: self.starts.append(now - self.t_train)       # epoch start-up to the first batch
            elif self.k > warmup:                                                # step k-1 ended here
                self.steps.append(now - self.prev); self.waits.append(now - toc.t)
            if len(self.steps) >= steps: raise CancelFitException()
            self.prev = now; self.k += 1
    class Toc(Callback):
        "Last in after_batch: when the step's own work ended."
        order = 1000
        t, last = 0.0, math.nan
        def after_batch(self):
            if self.training: self.last = self.learn.loss.item()
            self.t = time.perf_counter()
    tic, toc = Tic(), Toc()
    n_epoch = math.ceil((warmup + steps + 2) / max(nb - 1, 1)) + 1
    with learn.no_bar(), learn.no_logging(): learn.fit(n_epoch, cfg.lr_, cbs=[tic, toc])
    if len(tic.steps) < steps: raise RuntimeError(f'only {len(tic.steps)} of {steps} steps timed ({nb} batches per epoch, {n_epoch} epochs)')
    s = med(tic.steps)
    return dict(row=row, preset=preset, C=learn.model.cfg.C, bs=bs, num_workers=workers, threads=threads, tune_malloc=malloc,
                params=n_params(learn.model), batches_per_epoch=nb, warmup_steps=warmup, steps=steps, s_step=s,
                s_step_min=min(tic.steps), windows_per_s=bs / s, loader_ms=loader * 1e3, loader_first_ms=loader_first * 1e3,
                loader_share=loader / s, in_loop_wait_ms=med(tic.waits) * 1e3, in_loop_wait_share=med(tic.waits) / s,
                epoch_start_ms=med(tic.starts) * 1e3,
                peak_gib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
                workers_peak_gib=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20 if workers else None,
                last_loss=toc.last, load_avg=load)

def spawn(row:str, store:Path, a)->dict:
    "Run `one` in a fresh process and return its result (or {'error': ...})."
    _, _, _, _, warmup, steps = ROWS[row]
    cmd = [sys.executable, __file__, '--one', row, '--store', str(store), '--steps', str(a.steps or steps),
           '--warmup', str(warmup if a.warmup is None else a.warmup), '--threads', str(a.threads)]
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    try: return {**json.loads(r.stdout.strip().splitlines()[-1]), 'process_s': time.perf_counter() - t}
    except (IndexError, json.JSONDecodeError): return {'row': row, 'error': (r.stderr or r.stdout).strip()[-400:]}

def main(a)->bool:
    import torch
    header('pretrain_speed: pre-training throughput through the fastai Learner, and the loader\'s share of a step')
    store = default_synth_store(a.rebuild)
    print(f"torch {torch.__version__}, {a.threads} threads (torch.set_num_threads), tune_malloc() first; store {store.name} "
          f"(synth_data(), atac + dnase), split {SPLIT}; each row in its own process, median of its timed steps after its "
          "warm-up steps\n")
    rows, res, ok = [], [], True
    for row in a.rows:
        r = spawn(row, store, a); res.append(r)
        if 'error' in r:
            rows.append([row, '', ROWS[row][2], ROWS[row][3], 'error', '', '', '', '', '', '', '', r['error'][-80:]]); ok = False; continue
        judged = r['num_workers'] == 0
        met = r['loader_share'] <= TARGET; ok &= met or not judged
        rows.append([row, f"{r['params'] / 1e6:.2f} M", r['bs'], r['num_workers'], f"{r['s_step']:.3f}", f"{r['windows_per_s']:.1f}",
                     f"{r['loader_ms']:.1f}", f"{100 * r['loader_share']:.1f}", f"{100 * r['in_loop_wait_share']:.1f}",
                     f"{r['peak_gib']:.2f}", f"{r['steps']} ({r['warmup_steps']})", f"{r['load_avg']:.1f}", verdict(met) if judged else 'info'])
    print(table(rows, ['row', 'params', 'bs', 'workers', 's/step', 'windows/s', 'loader ms/batch', 'loader share %',
                       'in-loop wait %', 'peak GiB', 'steps (warm-up)', 'load', f'share <= {100 * TARGET:.0f} %']))
    print('\n(s/step: median wall seconds between consecutive batches of the Learner\'s training loop (loader + forward +'
          ' 3 losses + backward + AdamW step); loader ms/batch: median time to produce one batch by iterating'
          ' `learn.dls.train` alone; loader share: loader ms/batch over s/step; in-loop wait: the part of a step spent'
          ' waiting for the next batch during training; load: the 1-minute load average when the row started. Only the'
          ' num_workers=0 rows are judged. With 2 torch threads on 2 cores, any other busy process slows a step several'
          ' times over (threads wait for each other): read s/step only from rows started at a load below ~1)\n')
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT/'pretrain_speed.json').write_text(json.dumps(dict(threads=a.threads, store=str(store), split=SPLIT, target_share=TARGET,
                                                           load_avg=os.getloadavg()[0], rows=res), indent=1, default=str))
    print(f"written: {OUT/'pretrain_speed.json'}")
    return ok

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--rows', nargs='+', default=list(ROWS), choices=list(ROWS), help='rows to run (default: all)')
    ap.add_argument('--steps', type=int, default=None, help='timed steps of every row (default: per row, 12 tiny, 6 or 3 paper)')
    ap.add_argument('--warmup', type=int, default=None, help='untimed steps first (default: per row, 2 tiny, 2 or 1 paper)')
    ap.add_argument('--threads', type=int, default=2, help='torch.set_num_threads (default 2)')
    ap.add_argument('--rebuild', action='store_true', help='rebuild the cached store')
    ap.add_argument('--one', choices=list(ROWS), help=argparse.SUPPRESS)
    ap.add_argument('--store', help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one: print(json.dumps(one(a.one, a.store, a.steps, a.warmup, a.threads))); raise SystemExit(0)
    raise SystemExit(0 if main(a) else 1)
