"""The GPU check: MIX-HIC on one NVIDIA GPU (H100 class), in five sections, in under 5 minutes.

1. Training step of every paper-size model of `model_speed.ROWS`, in bf16 (`torch.autocast('cuda', torch.bfloat16)`)
   and in fp32 with TF32 off (`torch.backends.cuda.matmul.allow_tf32 = False` and `torch.backends.cudnn.allow_tf32 =
   False`): median ms per step and per sample after warm-up steps. A step is model_speed's: zero_grad(set_to_none=True),
   forward, the loss, backward, then `torch.cuda.synchronize()`; no optimiser step. Models, batches and losses come from
   `model_speed.make`.
2. Pre-training windows/s and model FLOP utilisation (MFU) at C=256 in bf16, at batches 8 (row 'pretrain256-b8'), 32
   and 64 (when they fit): the FLOPs of one real training step (forward + backward) counted by
   `torch.utils.flop_counter.FlopCounterMode` (matmuls, convolutions, attention; elementwise work is not counted), as
   `_common.flop_counter` mends it (unmended it counts a depthwise convolution's weight gradient `groups` times over, which
   made the C=256 batch-8 pre-training step 1.50x its true FLOPs on a GPU and would have inflated the MFU by as much),
   divided by the median step time and by the GPU's dense bf16 peak: H100 SXM / H100 80GB HBM3 989 TFLOP/s, H100 PCIe
   756, H200 989, A100 312, L40S 362; any other GPU needs --peak-tflops (else MFU is skipped).
   Target (the issue): >= 40 % MFU at the best of those batches.
3. One DDP epoch through torchrun on one GPU: `python -m torch.distributed.run --standalone --nproc_per_node 1 -m
   mixhic pretrain STORE --epochs 1 --bs 16 ...` (tiny preset) on the store of the default synthetic genome
   (`mixhic.synth.synth_data()`, cached under bench/out/ like the other benchmarks), split chr1,chr2 / chr3, then the
   same with `--epochs 2 --resume`: RUN/last.pt must exist after each, at epoch 1 then 2. Wall time of each. With one
   process `mixhic.train.in_ddp()` is False (it asks for WORLD_SIZE > 1), so those two runs train without a process
   group; a third run does the same epoch through this script's `--ddp-worker` (mixhic's CLI with
   `mixhic.pretrain.in_ddp` patched to True), so that `mixhic.train.ddp_ctx` really sets up DDP: it must report the
   NCCL backend (gloo on a CPU) and a DistributedDataParallel model during the fit, and write last.pt at epoch 1.
4. `mixhic predict maps` on the GPU: a tiny tracks-only maps model fine-tuned for 1 epoch on that store (`mixhic
   finetune --device cuda`), then `mixhic predict maps --device cuda` timed; the .cool must exist and hold pixels.
5. Peak GPU memory of one pre-training step at C=256 in bf16 (`torch.cuda.max_memory_allocated` after
   `reset_peak_memory_stats`) at batches 2, 4, 8, ... doubling until `torch.cuda.OutOfMemoryError` or 512, and the
   largest batch that fits.

Each section is guarded: an error prints one line and the next section runs. The exit status is 0 only if every
section ran and passed its checks, and the MFU target passed (when the GPU's peak is known). Without CUDA the script
says there is nothing to check and exits 0, unless --cpu-smoke: then every section's code runs on the CPU with the
tiny rows ('tiny-pretrain-b8', 'tiny-loops-b8'), gloo instead of NCCL, `--device cpu`, batches 2 and 4, the FLOP
count without MFU and process peak RSS instead of GPU memory; that is how the script itself is tested
(tests/test_gpu.py). bf16 on a CPU is autocast('cpu'), slow where the CPU lacks bf16 units: the smoke figures mean nothing.

Run: python bench/gpu_check.py [--quick] [--peak-tflops 989] [--steps 10] [--warmup 3] [--sections 1,2] [--cpu-smoke]
(not yet timed on a GPU: about 3 minutes on an H100 by an estimate of its parts; --cpu-smoke --quick takes about 1 minute on 2 CPU cores)
"""
from __future__ import annotations
import argparse, contextlib, gc, json, os, resource, subprocess, sys, tempfile, time
from pathlib import Path
from _common import *
import model_speed as ms

# dense bf16 tensor-core peaks (TFLOP/s, no sparsity), by a substring of torch.cuda.get_device_name(); first match wins
PEAKS = [('H200', 989.), ('H100 PCIe', 756.), ('H100 SXM', 989.), ('H100 80GB HBM3', 989.), ('A100', 312.), ('L40S', 362.)]
MFU_TARGET = 0.40
TITLES = ['1. Training step, bf16 and fp32',
          '2. Pre-training windows/s and MFU (bf16)',
          '3. DDP epoch through torchrun, checkpoint and resume',
          '4. predict maps on the device',
          '5. Peak memory per batch size']
PAPER_ROWS = [r for r, spec in ms.ROWS.items() if spec[2] == 'paper']   # section 1 on a GPU (before row_for adds any)
SMOKE_ROWS = ['tiny-pretrain-b8', 'tiny-loops-b8']                     # section 1 with --cpu-smoke
SPLIT = ['--split', 'chrom', '--train-chroms', 'chr1,chr2', '--valid-chroms', 'chr3']   # --valid-chroms alone: no test chromosomes

def peak_tflops(name:str, given:float|None)->tuple[float|None, str]:
    "The dense bf16 peak of GPU `name` (TFLOP/s) and where it came from; (None, why) when unknown."
    if given: return given, '--peak-tflops'
    for k, v in PEAKS:
        if k.lower() in name.lower(): return v, f"the script's table ('{k}' in the device name, dense bf16, no sparsity)"
    return None, f"unknown GPU {name!r}: pass --peak-tflops (dense bf16 TFLOP/s) to get the MFU"

def first_line(e:BaseException)->str:
    s = str(e).strip().splitlines()
    return f"{type(e).__name__}: {s[0] if s else ''}"[:300]

def is_oom(e:BaseException)->bool:
    import torch
    return isinstance(e, torch.cuda.OutOfMemoryError) or (isinstance(e, RuntimeError) and 'out of memory' in str(e).lower())

def row_for(base:str, b:int)->str:
    "The name of `base`'s model at batch `b`, added to model_speed.ROWS so that `model_speed.make` builds it."
    name = f"{base.rsplit('-b', 1)[0]}-b{b}"
    if name not in ms.ROWS: ms.ROWS[name] = (*ms.ROWS[base][:4], b, None)
    return name

def free(dev):
    "Drop what the last model left behind."
    import torch
    gc.collect()
    if dev.type == 'cuda': torch.cuda.empty_cache()

@contextlib.contextmanager
def fp32_no_tf32():
    "True fp32 matmuls and convolutions: TF32 off for cuBLAS and cuDNN, restored afterwards."
    import torch
    old = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    try: yield
    finally: torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = old

def time_steps(step, warmup:int, steps:int)->list[float]:
    for _ in range(warmup): step()
    return timeit(step, steps)

def flops_of(step)->int:
    "FLOPs of one call of `step` (forward + backward), by FlopCounterMode as `_common.flop_counter` mends it."
    with flop_counter() as fc: step()
    return fc.get_total_flops()

def run(cmd:list, timeout:float=300, warnings:bool=False)->tuple[subprocess.CompletedProcess, float]:
    "Run `cmd` from the repository root, capturing its output (Python warnings off unless `warnings`); (the process, wall seconds)."
    env = {k: v for k, v in os.environ.items() if k not in ('RANK', 'LOCAL_RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT')}
    if not warnings: env['PYTHONWARNINGS'] = 'ignore'
    env['PYTHONPATH'] = os.pathsep.join(p for p in (str(REPO), env.get('PYTHONPATH')) if p)   # this checkout's mixhic
    t = time.perf_counter()
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout, env=env, cwd=REPO)
    return p, time.perf_counter() - t

def tail(p:subprocess.CompletedProcess)->str:
    "The line of `p`'s output that says why it failed: the last one naming an error, else the last one."
    lines = [l.strip() for l in (p.stdout + '\n' + p.stderr).strip().splitlines() if l.strip()]
    errs = [l for l in lines if 'error' in l.lower()]
    return (errs or lines or [''])[-1][:200]

class Check:
    "The settings of one run of the script and what its sections found."
    def __init__(self, a):
        import torch
        self.a, self.smoke = a, a.cpu_smoke
        self.dev = torch.device('cpu' if self.smoke else 'cuda')
        self.warmup = a.warmup if a.warmup is not None else (1 if a.quick else 3)
        self.steps = a.steps if a.steps is not None else (3 if a.quick else 10)
        self.preset = 'tiny' if self.smoke else 'paper'
        self.pre = 'tiny-pretrain-b8' if self.smoke else 'pretrain256-b8'     # the pre-training model of sections 2 and 5
        self.tput_batches = (2, 4) if self.smoke else (8, 32, 64)
        self.mem_batches = (2, 4) if self.smoke else tuple(2 ** k for k in range(1, 10))   # 2 .. 512
        self.mfu_ok = None   # None: no verdict (peak unknown, or the CPU)
        self._store = None

    def store(self)->Path:
        if self._store is None:
            quiet_logs(); self._store = default_synth_store()
        return self._store

    def make(self, row:str):
        return ms.make(row, self.dev.type)

    # ---- 1 ---------------------------------------------------------------------------------------------------------
    def training_step(self)->bool:
        import torch
        from mixhic.layers import n_params
        rows = SMOKE_ROWS if self.smoke else PAPER_ROWS
        print(f"Rows of model_speed.ROWS with preset '{self.preset}'; median of {self.steps} steps after {self.warmup} warm-up "
              f"step(s). bf16: torch.autocast('{self.dev.type}', torch.bfloat16); fp32: no autocast, with "
              "torch.backends.cuda.matmul.allow_tf32 = False and torch.backends.cudnn.allow_tf32 = False (true fp32).\n")
        out, ok = [], True
        for row in rows:
            b, res = ms.ROWS[row][4], {}
            try: model, cfg, hic, trk, loss = self.make(row)    # one model per row: bf16, then fp32 from where it is
            except Exception as e:
                ok = False; out.append([ms.describe(row), row, '', '', b, '', 'error', '', '', first_line(e)[:100]]); free(self.dev); continue
            for prec in ('bf16', 'fp32'):
                try:
                    with fp32_no_tf32() if prec == 'fp32' else contextlib.nullcontext():
                        t = time_steps(ms.stepper(model, hic, trk, loss, self.dev, prec == 'bf16'), self.warmup, self.steps)
                    res[prec] = med(t)
                    out.append([ms.describe(row), row, cfg.C, f"{n_params(model) / 1e6:.1f}", b, prec, f"{med(t) * 1e3:.1f}",
                                f"{min(t) * 1e3:.1f}", f"{med(t) / b * 1e3:.2f}",
                                f"{res['fp32'] / res['bf16']:.2f}x" if prec == 'fp32' and 'bf16' in res else ''])
                except Exception as e:
                    ok = False; out.append([ms.describe(row), row, cfg.C, '', b, prec, 'error', '', '', first_line(e)[:100]])
                model.zero_grad(set_to_none=True); free(self.dev)
            model = hic = trk = loss = None; free(self.dev)
        print(table(out, ['model', 'row', 'C', 'params (M)', 'batch', 'precision', 'ms / step', 'fastest', 'ms / sample', 'bf16 speed-up']))
        return ok

    # ---- 2 ---------------------------------------------------------------------------------------------------------
    def throughput(self)->bool:
        import torch
        if self.smoke: peak, src = None, 'CPU smoke test: no MFU (a CPU has no bf16 tensor-core peak); the FLOP count is printed'
        else: peak, src = peak_tflops(torch.cuda.get_device_name(self.dev), self.a.peak_tflops)
        from mixhic.layers import ModelCfg
        print(f"Pre-training model of row '{self.pre}' (C={ModelCfg.preset(*ms.ROWS[self.pre][2:4]).C}) in bf16 at batches "
              f"{', '.join(map(str, self.tput_batches))}; median of {self.steps} steps after {self.warmup} warm-up step(s). FLOPs of "
              "one real step (forward + backward) by torch.utils.flop_counter.FlopCounterMode (matmuls, convolutions, "
              "attention), with a depthwise convolution's weight gradient counted once, not once per group (_common.flop_counter).")
        print(f"Peak: {f'{peak:g} TFLOP/s dense bf16, from {src}' if peak else src}.\n")
        out, ok, best = [], True, None
        for k, b in enumerate(self.tput_batches):
            try:
                model, cfg, hic, trk, loss = self.make(row_for(self.pre, b))
                step = ms.stepper(model, hic, trk, loss, self.dev, True)
                s = med(time_steps(step, self.warmup, self.steps))
                fl = flops_of(step)
                mfu = fl / s / (peak * 1e12) if peak else None
                if mfu is not None and (best is None or mfu > best[0]): best = (mfu, b)
                out.append([b, f"{s * 1e3:.1f}", f"{b / s:,.0f}", f"{fl / 1e9:,.1f}", f"{fl / s / 1e12:.2f}",
                            f"{mfu:.1%}" if mfu is not None else 'skipped'])
            except Exception as e:
                if is_oom(e) and k: out.append([b, 'OOM', '', '', '', '']); break   # a larger batch need not fit
                ok = False; out.append([b, 'error', '', '', '', first_line(e)[:100]])
            finally:
                model = hic = trk = loss = step = None; free(self.dev)
        print(table(out, ['batch', 'ms / step', 'windows / s', 'GFLOP / step', 'achieved TFLOP/s', 'MFU']))
        if self.smoke: print('\n(CPU smoke test: MFU and its target skipped)')
        elif peak is None: print('\nMFU skipped: the GPU\'s peak is unknown (pass --peak-tflops)')
        elif best is None: ok = False; print('\nMFU: no batch ran')
        else:
            self.mfu_ok = best[0] >= MFU_TARGET
            print(f"\nBest MFU {best[0]:.1%} (batch {best[1]}), target >= {MFU_TARGET:.0%} in bf16 for pre-training at C=256: {verdict(self.mfu_ok)}")
        return ok

    # ---- 3 ---------------------------------------------------------------------------------------------------------
    def ddp(self)->bool:
        import torch
        from mixhic.train import in_ddp
        store, backend = self.store(), 'gloo' if self.smoke else 'nccl'
        old = os.environ.get('WORLD_SIZE'); os.environ['WORLD_SIZE'] = '1'
        try: one_ddp = in_ddp()
        finally:
            if old is None: os.environ.pop('WORLD_SIZE')
            else: os.environ['WORLD_SIZE'] = old
        print(f"`python -m torch.distributed.run --standalone --nproc_per_node 1 ...`, tiny pre-training on {store.name} (train "
              f"chr1,chr2, valid chr3), batch 16, --device {self.dev.type}. Rows 1-2: `-m mixhic pretrain`, then --resume. "
              f"mixhic.train.in_ddp() under torchrun's WORLD_SIZE=1 is {one_ddp}: "
              + ("so rows 1-2 train as one plain process (no process group), and row 3 runs the same epoch with "
                 "mixhic.pretrain.in_ddp patched to True (this script's --ddp-worker), so that mixhic.train.ddp_ctx really "
                 f"sets up DDP; it must report backend {backend} and a DistributedDataParallel model.\n" if not one_ddp else
                 f"rows 1-2 run under DDP; row 3 (in_ddp forced) must report backend {backend}.\n"))
        out, ok, warned = [], True, []
        base = [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '1']
        args = lambda rdir, epochs: ['pretrain', store, '--epochs', epochs, '--bs', 16, '--out', rdir, *SPLIT, '--device', self.dev.type, '-q']
        with tempfile.TemporaryDirectory(prefix='gpu_check-ddp-') as tmp:
            tmp = Path(tmp)
            info = tmp/'ddp_info.json'
            runs = [('-m mixhic pretrain --epochs 1', base + ['-m', 'mixhic', *args(tmp/'run', 1)], tmp/'run', 1, False),
                    ('-m mixhic pretrain --epochs 2 --resume', base + ['-m', 'mixhic', *args(tmp/'run', 2), '--resume'], tmp/'run', 2, False),
                    ('DDP forced: --epochs 1', base + [Path(__file__).resolve(), '--ddp-worker', info, *args(tmp/'ddp', 1)], tmp/'ddp', 1, True)]
            for name, cmd, rdir, epochs, forced in runs:
                p, s = run(cmd, warnings=forced)   # DDP's own warnings tell of its costs
                last = rdir/'last.pt'
                ep = torch.load(last, map_location='cpu', weights_only=True).get('epoch') if last.exists() else None
                good, ddp = p.returncode == 0 and ep == epochs, ''
                if forced:
                    got = json.loads(info.read_text()) if info.exists() else {}
                    ddp = f"{got.get('backend')}, world {got.get('world')}, {got.get('model')}" if got else 'no report'
                    good &= got.get('backend') == backend and got.get('model') == 'DistributedDataParallel'
                ok &= good
                if 'grad strides do not match bucket view strides' in (p.stdout + p.stderr).lower(): warned.append(name)
                out.append([name, p.returncode, f"{s:.1f}", 'yes' if last.exists() else 'no', ep, epochs,
                            ddp or ('none (in_ddp() is False)' if not one_ddp else 'not probed'),
                            verdict(good), '' if good else tail(p)])
        print(table(out, ['run (torchrun, 1 process)', 'exit', 'wall s', 'last.pt', "its 'epoch'", 'expected', 'DDP during fit',
                          'result', 'last line of output']))
        if warned: print(f"\n(note: DDP warned 'Grad strides do not match bucket view strides' in {', '.join(warned)}: a parameter's "
                         "gradient has another memory layout than its DDP bucket, which costs a copy per step)")
        return ok

    # ---- 4 ---------------------------------------------------------------------------------------------------------
    def predict_maps(self)->bool:
        store = self.store()
        print(f"Tiny tracks-only maps model fine-tuned for 1 epoch (train chr1,chr2, valid chr3), then `mixhic predict maps` of "
              f"every chromosome of {store.name}, both with --device {self.dev.type}.\n")
        out, ok = [], True
        with tempfile.TemporaryDirectory(prefix='gpu_check-maps-') as tmp:
            ft, cool = Path(tmp)/'ft', Path(tmp)/'pred.cool'
            p, s = run([sys.executable, '-m', 'mixhic', 'finetune', store, '--task', 'maps', '--variant', 'tracks', '--preset', 'tiny',
                        '--epochs', 1, '--out', ft, *SPLIT, '--device', self.dev.type, '-q'])
            good = p.returncode == 0 and (ft/'best.pt').exists()
            ok &= good
            out.append(['mixhic finetune --task maps (1 epoch)', p.returncode, f"{s:.1f}", f"best.pt {'written' if (ft/'best.pt').exists() else 'missing'}",
                        verdict(good), '' if good else tail(p)])
            if good:
                p, s = run([sys.executable, '-m', 'mixhic', 'predict', 'maps', store, '--model', ft/'best.pt', '--out', cool,
                            '--device', self.dev.type, '-q'])
                what, nnz = 'missing', 0
                if cool.exists():
                    import cooler
                    c = cooler.Cooler(str(cool)); nnz = c.info['nnz']
                    what = f"{cool.stat().st_size / 2**20:.1f} MiB, {nnz:,} pixels, {len(c.chromnames)} chromosomes"
                good = p.returncode == 0 and nnz > 0
                ok &= good
                out.append(['mixhic predict maps', p.returncode, f"{s:.1f}", f".cool {what}", verdict(good), '' if good else tail(p)])
        print(table(out, ['command', 'exit', 'wall s', 'output', 'result', 'last line of output']))
        return ok

    # ---- 5 ---------------------------------------------------------------------------------------------------------
    def memory(self)->bool:
        import torch
        cuda = self.dev.type == 'cuda'
        print(f"One bf16 training step of the pre-training model of row '{self.pre}' per batch size, "
              f"{', '.join(map(str, self.mem_batches))}{' (doubling until out of memory)' if cuda else ''}; "
              + ("torch.cuda.max_memory_allocated after torch.cuda.reset_peak_memory_stats (model, inputs, activations, "
                 "gradients; the caching allocator's reserve and the CUDA context are not counted).\n" if cuda else
                 "CPU smoke test: the process's peak RSS so far (ru_maxrss: it only grows, so it is not per batch).\n"))
        def one(b:int)->float:
            model, cfg, hic, trk, loss = self.make(row_for(self.pre, b))
            if cuda: torch.cuda.synchronize(); torch.cuda.reset_peak_memory_stats(self.dev)
            ms.stepper(model, hic, trk, loss, self.dev, True)()
            return torch.cuda.max_memory_allocated(self.dev) / 2**30 if cuda else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
        out, fit, ok = [], None, True
        for b in self.mem_batches:
            oom = False
            try:
                gib = one(b); fit = b
                out.append([b, f"{gib:.2f}", f"{gib / b * 1024:.0f}" if cuda else '', 'fits'])
            except Exception as e:
                if is_oom(e): oom = True; out.append([b, '', '', 'out of memory'])
                else: ok = False; out.append([b, '', '', first_line(e)[:100]])
            free(self.dev)
            if oom or not ok: break
        print(table(out, ['batch', 'peak GPU GiB' if cuda else 'peak RSS GiB', 'MiB / window', 'result']))
        print(f"\nLargest batch that fits: {fit}" + ('' if cuda else ' (of the smoke batches)')
              + (f" (stopped at {self.mem_batches[-1]})" if cuda and fit == self.mem_batches[-1] else ''))
        return ok and fit is not None

def ddp_worker(info:str, argv:list)->int:
    "Under torchrun: `mixhic.cli.main(argv)` with mixhic's DDP path forced on (one process), reporting what it set up to `info`."
    import torch.distributed as dist
    from fastai.callback.core import Callback
    import mixhic.pretrain as P
    from mixhic.cli import main as cli
    seen, ctx = {}, P.ddp_ctx
    class Probe(Callback):
        order = 99   # after DistributedTrainer has wrapped the model
        def before_batch(self):
            if not seen.get('model'):
                seen.update(model=type(self.learn.model).__name__, backend=dist.get_backend() if dist.is_initialized() else None,
                            world=dist.get_world_size() if dist.is_initialized() else None)
    @contextlib.contextmanager
    def probed(learn):
        with ctx(learn) as l:
            l.add_cb(Probe())
            try: yield l
            finally: l.remove_cb(Probe)
    P.in_ddp, P.ddp_ctx = (lambda: True), probed
    rc = cli(argv)
    Path(info).write_text(json.dumps(seen))
    return rc

def main(a)->int:
    import torch
    if not torch.cuda.is_available() and not a.cpu_smoke:
        print('no GPU: nothing to check (use --cpu-smoke to test the script on a CPU)'); return 0
    if a.cpu_smoke and torch.cuda.is_available(): print('(--cpu-smoke: running on the CPU although a GPU is present)')
    t0 = time.perf_counter()
    header('gpu_check: MIX-HIC on one GPU' + (' (CPU smoke test)' if a.cpu_smoke else ''))
    if a.cpu_smoke:
        print(f"torch {torch.__version__}, CUDA {torch.version.cuda or 'none'}; CPU smoke test (--cpu-smoke): tiny rows, gloo, "
              f"--device cpu, batches 2 and 4, no MFU verdict; {torch.get_num_threads()} torch threads\n")
    else:
        pr = torch.cuda.get_device_properties(0)
        print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}, GPU {pr.name} "
              f"(compute capability {pr.major}.{pr.minor}, {pr.multi_processor_count} SMs), {pr.total_memory / 2**30:.1f} GiB"
              f"{f', {torch.cuda.device_count()} GPUs visible (the first is used)' if torch.cuda.device_count() > 1 else ''}\n")
    chk = Check(a)
    results = []
    for k, (title, fn) in enumerate(zip(TITLES, (chk.training_step, chk.throughput, chk.ddp, chk.predict_maps, chk.memory)), 1):
        if a.sections and k not in a.sections: continue
        print(f"\n### {title}\n")
        t = time.perf_counter()
        try: r = 'PASS' if fn() else 'FAIL'
        except Exception as e:
            r = 'error'; print(f"error: {first_line(e)}")
        free(chk.dev)
        results.append([title, r, f"{time.perf_counter() - t:.0f}"])
    mfu = {None: 'no verdict', True: 'PASS', False: 'FAIL'}[chk.mfu_ok]
    print('\n### Summary\n')
    print(table(results + [[f'MFU >= {MFU_TARGET:.0%} (bf16, pre-training C=256)', mfu, '']], ['section', 'result', 'seconds']))
    good = all(r[1] == 'PASS' for r in results) and chk.mfu_ok is not False and not a.sections
    print(f"\nTotal {time.perf_counter() - t0:.0f} s. Overall: {verdict(good)}" + (' (--sections: not every section ran)' if a.sections else ''))
    return 0 if good else 1

if __name__ == '__main__':
    if sys.argv[1:2] == ['--ddp-worker']: raise SystemExit(ddp_worker(sys.argv[2], sys.argv[3:]))   # section 3's row 3, under torchrun
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--quick', action='store_true', help='fewer steps: 1 warm-up and 3 timed steps per row (default 3 and 10)')
    ap.add_argument('--steps', type=int, help='timed steps per row (median; default 10, 3 with --quick)')
    ap.add_argument('--warmup', type=int, help='untimed steps first (default 3, 1 with --quick)')
    ap.add_argument('--peak-tflops', type=float, help="the GPU's dense bf16 peak in TFLOP/s, for a GPU not in the script's table")
    ap.add_argument('--sections', type=lambda v: [int(x) for x in v.split(',')], help='only these sections, e.g. 3,4 (the exit status is then 1: not every section ran)')
    ap.add_argument('--cpu-smoke', action='store_true', help='no GPU needed: run every section on the CPU with the tiny models (tests the script)')
    raise SystemExit(main(ap.parse_args()))
