"""Seconds per training step (forward + loss + backward) of the MIX-HIC models on this CPU, against the reference.

Each row runs in its own process (so one model's allocations do not colour the next): it builds the model (seed 0),
draws one random batch, runs --warmup steps, then times --steps steps and reports the median. A step is what a
training loop does before the optimiser: `model.zero_grad(set_to_none=True)` (as `optimizer.zero_grad()` does),
forward, the loss, backward. Loss: BCE on the loop logit, MSE on maps and expression; for pre-training the sum of
squares of every output (a scalar that uses them all). `torch.set_num_threads(--threads)`, 2 by default. Rows run as
training does on CPU: after `mixhic.core.tune_malloc()` (the 'plain-malloc' variant shows the cost without it).
Targets (issue 19): half the reference scripts' time on this machine at batch 2, which take ~0.39 s per forward +
backward for bimodal loop detection at C=128 and ~2.0 s for pre-training at C=256: <= 0.20 s and <= 1.0 s, in float32
(the default; bf16, opt-in, is timed and compared with it below). Other rows inform. For the target rows the script
also prints their FLOPs (`_common.flop_counter`) against this CPU's matmul rate, and the step's compute kernels replayed
one by one on their own shapes and summed (`kernel_floor`), in float32 and bf16: a floor no change around them can beat.
With --profile (or when a target is missed) the torch.profiler tables of the loops C=128 batch-2 step follow (by self
CPU time, then grouped by input shape). With --variants, the two target rows again under fixes tried by
monkeypatching (each in a fresh process), next to the library as it is. When CUDA is available the rows are timed on
the GPU too (bf16 autocast); otherwise the script says 'no GPU'.

Run: python bench/model_speed.py [--steps 7] [--warmup 2] [--threads 2] [--profile] [--variants [--rounds 3]]
"""
from __future__ import annotations
import argparse, json, os, resource, subprocess, sys, time
from _common import *

# name: (model, modality, preset, preset task, batch, target s/step or None)
ROWS = {'tiny-pretrain-b8': ('pretrain', None, 'tiny', 'expr', 8, None),
        'tiny-loops-b8': ('loop_windows', 'bimodal', 'tiny', 'loops', 8, None),
        'loops128-b2': ('loop_windows', 'bimodal', 'paper', 'loops', 2, 0.20),
        'loops128-b8': ('loop_windows', 'bimodal', 'paper', 'loops', 8, None),
        'pretrain256-b2': ('pretrain', None, 'paper', 'expr', 2, 1.0),
        'pretrain256-b8': ('pretrain', None, 'paper', 'expr', 8, None),
        'maps128-infer-b2': ('maps', 'infer', 'paper', 'maps', 2, None),
        'expr256-b2': ('expr', 'bimodal', 'paper', 'expr', 2, None)}

# fixes tried by monkeypatching; each runs in a fresh process (the allocator settings cannot be undone in one)
VARIANTS = {'as is': 'the library as training runs it: mixhic.core.tune_malloc() applied (pretrain and finetune call it on CPU)',
            'plain-malloc': 'without tune_malloc: glibc\'s default mmap/trim thresholds (freed big blocks unmapped, page faults on reuse)',
            'down-linear': 'Down1d/Down2d as unfold + F.linear (weight gradient in the weight\'s own layout, no strided copy)',
            'down-conv': 'Down1d/Down2d as plain nn.Conv1d/nn.Conv2d (oneDNN)',
            'keep-grads': 'zero_grad(set_to_none=False): gradient buffers are reused, not reallocated each step',
            'math-attn': 'attention as explicit softmax(q k^T / sqrt(e)) v instead of scaled_dot_product_attention',
            'bf16': 'under torch.autocast(\'cpu\', bfloat16) (numerics change; fast only where the CPU has avx512_bf16/AMX)'}

def patch(variant:str):
    "Monkeypatch mixhic.layers for `variant` (see VARIANTS)."
    import torch, torch.nn.functional as F
    from einops import rearrange
    from mixhic import layers
    from mixhic.core import tune_malloc
    if variant != 'plain-malloc': tune_malloc()
    if 'down-linear' in variant:
        def down1(self, x):
            cols = F.pad(rearrange(x, 'b t d -> b d t'), (1, 1)).unfold(2, 4, 2)                          # (b, d, t', 4)
            return F.linear(rearrange(cols, 'b d t k -> b t (d k)'), self.conv.weight.flatten(1), self.conv.bias)
        def down2(self, x):
            g = int(round(x.shape[1] ** 0.5))
            cols = F.unfold(rearrange(x, 'b (y x) d -> b d y x', y=g), 4, padding=1, stride=2)            # (b, d*16, t')
            return F.linear(cols.transpose(1, 2), self.conv.weight.flatten(1), self.conv.bias)
        layers.Down1d.forward, layers.Down2d.forward = down1, down2
    if variant == 'down-conv':
        layers.Down1d.forward = lambda self, x: rearrange(self.conv(rearrange(x, 'b t d -> b d t')), 'b d t -> b t d')
        def down2(self, x):
            g = int(round(x.shape[1] ** 0.5))
            return rearrange(self.conv(rearrange(x, 'b (y x) d -> b d y x', y=g)), 'b d y x -> b (y x) d')
        layers.Down2d.forward = down2
    if variant == 'math-attn':
        def attn(self, x, ctx=None):
            ctx = x if ctx is None else ctx
            q = rearrange(self.q(x), 'b t (h e) -> b h t e', h=self.heads)
            k, v = rearrange(self.kv(ctx), 'b s (two h e) -> two b h s e', two=2, h=self.heads)
            o = ((q * q.shape[-1] ** -0.5) @ k.transpose(-1, -2)).softmax(-1) @ v
            return self.proj(rearrange(o, 'b h t e -> b t (h e)'))
        layers.Attention.forward = attn

def make(row:str, device:str='cpu'):
    "The model, a batch and a loss function of `row`."
    import torch, torch.nn.functional as F
    from mixhic.layers import ModelCfg
    from mixhic.model import MixHiC, MixHiCPretrain
    task, modality, preset, ptask, b, _ = ROWS[row]
    cfg = ModelCfg.preset(preset, ptask)
    torch.manual_seed(0)
    model = (MixHiCPretrain(cfg) if task == 'pretrain' else MixHiC(cfg, task, modality)).to(device).train()
    hic = torch.rand(b, 1, cfg.win_bins, cfg.win_bins, device=device)
    trk = torch.rand(b, 2 * cfg.win_bins * cfg.trk_per_bin, cfg.n_tracks, device=device).log1p()
    if task == 'pretrain': loss = lambda o: sum(v.float().pow(2).sum() for v in o.values())
    elif task in ('loops', 'loop_windows'):
        y = torch.randint(0, 2, (b,), device=device).float(); loss = lambda o: F.binary_cross_entropy_with_logits(o.float(), y)
    else:
        y = torch.rand(*((b, 1, cfg.win_bins, cfg.win_bins) if task == 'maps' else (b, cfg.win_bins)), device=device)
        loss = lambda o: F.mse_loss(o.float(), y)
    return model, cfg, hic, trk, loss

def one(row:str, variant:str='as is', steps:int=7, warmup:int=2, threads:int=2, device:str='cpu')->dict:
    "Time `row` under `variant`: median seconds per step and the CPU seconds (user, system) and page faults per step."
    import torch
    torch.set_num_threads(threads)
    patch(variant)
    from mixhic.layers import n_params
    model, cfg, hic, trk, loss = make(row, device)
    keep = variant == 'keep-grads'
    def step():
        model.zero_grad(set_to_none=not keep)
        with torch.autocast(device, dtype=torch.bfloat16, enabled=device == 'cuda' or 'bf16' in variant): out = model(hic, trk)
        loss(out).backward()
        if device == 'cuda': torch.cuda.synchronize()
    for _ in range(warmup): step()
    wall, user, sys_, flt = [], [], [], []
    for _ in range(steps):
        r0, t = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        step()
        wall.append(time.perf_counter() - t); r1 = resource.getrusage(resource.RUSAGE_SELF)
        user.append(r1.ru_utime - r0.ru_utime); sys_.append(r1.ru_stime - r0.ru_stime); flt.append(r1.ru_minflt - r0.ru_minflt)
    return dict(row=row, variant=variant, C=cfg.C, params=n_params(model), s=med(wall), s_min=min(wall), user=med(user),
                sys=med(sys_), faults=med(flt), peak_gib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20)

def agreement(row:str, threads:int=2)->dict:
    "bf16 autocast against float32 on the same weights and batch: relative error of the loss, outputs and gradients."
    import torch
    torch.set_num_threads(threads)
    model, cfg, hic, trk, loss = make(row)
    if ROWS[row][0] == 'pretrain':   # the real pre-training loss: the bench's sum of squares of unit vectors has no gradient
        from mixhic.pretrain import PretrainLoss
        loss = PretrainLoss('reference', win=None)
    def run(bf):
        model.zero_grad(set_to_none=True)
        torch.manual_seed(1)                                     # the same dropout masks in both runs
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf): out = model(hic, trk)
        l = loss(out)
        l.backward()
        outs = torch.cat([v.float().flatten() for v in (out.values() if isinstance(out, dict) else [out])])
        g = torch.cat([q.grad.flatten() for q in model.parameters() if q.grad is not None])
        return l.detach().float(), outs.detach(), g
    (l0, o0, g0), (l1, o1, g1) = run(False), run(True)
    rel = lambda a, b: float((a - b).norm() / b.norm().clamp_min(1e-12))
    return dict(row=row, loss_rel=float((l1 - l0).abs() / l0.abs().clamp_min(1e-12)), out_rel=rel(o1, o0),
                grad_rel=rel(g1, g0), grad_cos=min(1.0, float(torch.nn.functional.cosine_similarity(g1.double(), g0.double(), dim=0))))

def spawn(row:str, variant:str, a, device:str='cpu')->dict:
    "Run `one` in a fresh process and return its result (or {'error': ...})."
    env = dict(os.environ)
    cmd = [sys.executable, __file__, '--one', row, '--variant', variant, '--steps', str(a.steps), '--warmup', str(a.warmup),
           '--threads', str(a.threads), '--device', device]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    try: return json.loads(r.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError): return {'row': row, 'variant': variant, 'error': (r.stderr or r.stdout).strip()[-400:]}

def describe(row:str)->str:
    task, modality = ROWS[row][:2]
    return 'pre-training' if task == 'pretrain' else f'{task} {modality}'

def profile(threads:int=2, top:int=15):
    "Print the torch.profiler tables of 3 loops C=128 batch-2 steps, by self CPU time (plain, then by input shape)."
    import torch
    from torch.profiler import profile as prof, ProfilerActivity
    from mixhic.core import tune_malloc
    tune_malloc()   # as training runs (and as the timed rows ran): else the table shows page faults training does not pay
    torch.set_num_threads(threads)
    model, cfg, hic, trk, loss = make('loops128-b2')
    def step(): model.zero_grad(set_to_none=True); loss(model(hic, trk)).backward()
    for _ in range(2): step()
    with prof(activities=[ProfilerActivity.CPU], record_shapes=True) as p:
        for _ in range(3): step()
    print('\ntorch.profiler, 3 steps of bimodal loops C=128 batch 2 (times are totals over the 3 steps):\n\n```')
    print(p.key_averages().table(sort_by='self_cpu_time_total', row_limit=top))
    print(p.key_averages(group_by_input_shape=True).table(sort_by='self_cpu_time_total', row_limit=top + 5,
                                                            max_name_column_width=36, max_shapes_column_width=64))
    print('```')

def step_flops(row:str)->float:
    "FLOPs of one training step (forward + loss + backward) of `row`, counted by `_common.flop_counter`."
    model, cfg, hic, trk, loss = make(row)
    with flop_counter() as fc: loss(model(hic, trk)).backward()
    return fc.get_total_flops()

KERNELS = ('mm', 'addmm', 'bmm', 'convolution', 'convolution_backward', '_scaled_dot_product_flash_attention_for_cpu',
           '_scaled_dot_product_flash_attention_for_cpu_backward')

def stepper(model, hic, trk, loss, dev, bf16:bool):
    "One training step: zero_grad, forward (bf16 autocast or fp32) on torch device `dev`, loss, backward, synchronize."
    import torch
    def step():
        model.zero_grad(set_to_none=True)
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bf16): out = model(hic, trk)
        loss(out).backward()
        if dev.type == 'cuda': torch.cuda.synchronize(dev)
    return step

def kernel_calls(step)->list:
    """The compute kernels (`KERNELS`) that one call of `step` runs, in order, each as (op, args, kwargs) with every tensor
    replaced by its spec ('tensor', shape, stride, dtype, storage offset)."""
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils._pytree import tree_map
    heavy, calls = {getattr(torch.ops.aten, k) for k in KERNELS}, []
    spec = lambda x: ('tensor', tuple(x.shape), x.stride(), x.dtype, x.storage_offset()) if isinstance(x, torch.Tensor) else x
    class Record(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            if func.overloadpacket in heavy: calls.append((func, tree_map(spec, args), tree_map(spec, kwargs or {})))
            return func(*args, **(kwargs or {}))
    with Record(): step()
    return calls

def replay(calls:list, repeat:int=5)->float:
    """Seconds of `calls` (from `kernel_calls`), each run on its own on random tensors of its recorded shapes and strides,
    median of `repeat` calls after 2 warm-up calls, summed."""
    import torch
    from torch.utils._pytree import tree_map
    is_spec = lambda x: isinstance(x, tuple) and len(x) == 5 and x[0] == 'tensor'
    def tensor(x):                                 # random values in a buffer that holds the strided view
        if not is_spec(x): return x
        _, shape, stride, dtype, off = x
        n = off + 1 + sum((d - 1) * st for d, st in zip(shape, stride) if d)
        return (torch.randn(n) if dtype.is_floating_point else torch.zeros(n)).to(dtype).as_strided(shape, stride, off)
    total = 0.0
    for func, args, kwargs in calls:
        args, kwargs = tree_map(tensor, args, is_leaf=is_spec), tree_map(tensor, kwargs, is_leaf=is_spec)
        for _ in range(2): func(*args, **kwargs)
        ts = []
        for _ in range(repeat):
            t = time.perf_counter(); func(*args, **kwargs); ts.append(time.perf_counter() - t)
        total += med(ts)
    return total

def kernel_floor(row:str, bf16:bool=False, threads:int=2, repeat:int=5)->tuple[float, int]:
    """Seconds of the compute kernels of one training step of `row` (matmuls, convolutions and their backward, fused
    attention: `KERNELS`), each replayed on its own (`replay`), summed; and the number of kernel calls. No step can be
    faster than its kernels run alone (hot caches, no casts, norms, activations, copies or autograd between them) unless
    the kernels themselves change."""
    import torch
    from mixhic.core import tune_malloc
    tune_malloc(); torch.set_num_threads(threads)
    model, cfg, hic, trk, loss = make(row)
    step = stepper(model, hic, trk, loss, torch.device('cpu'), bf16)
    step()
    calls = kernel_calls(step)
    return replay(calls, repeat), len(calls)

def roofline(a, res:dict, bf:dict)->tuple[str, dict]:
    """The targets against this CPU: the GFLOP/s each step reaches and the rate its target needs, next to the float32
    matmul rate, and the seconds of the step's compute kernels run alone (`kernel_floor`) in float32 and bf16."""
    peak, rows, floors = gemm_peak(a.threads), [], {}
    for row in (r for r, v in ROWS.items() if v[5]):
        f, s, target = step_flops(row), res[row].get('s', float('nan')), ROWS[row][5]
        (k32, n32), (k16, n16) = kernel_floor(row, False, a.threads), kernel_floor(row, True, a.threads)
        floors[row] = (k32, k16)
        rows.append([describe(row), f'{f / 1e9:.1f}', f'{s:.3f}', f'{f / s / 1e9:.0f} ({f / s / 1e9 / peak:.0%})',
                     f'{target:.2f}', f'{f / target / 1e9:.0f} ({f / target / 1e9 / peak:.0%})',
                     f'{k32:.3f} ({n32})', f"{bf.get(row, {}).get('s', float('nan')):.3f}", f'{k16:.3f} ({n16})'])
    return (f'Work per step against this CPU ({peak:.0f} GFLOP/s: a float32 4096 x 4096 matmul on {a.threads} threads, '
            'best of 5, measured now), and the step\'s compute kernels run alone:\n\n' +
            table(rows, ['model', 'GFLOP / step', 'fp32 s / step', 'GFLOP/s reached (of the matmul rate)', 'target s',
                         'GFLOP/s the target needs (of the matmul rate)', 'fp32 kernels alone s (calls)',
                         'bf16 s / step', 'bf16 kernels alone s (calls)']) +
            '\n\n(FLOPs: torch FlopCounterMode, mended by `_common.flop_counter`: matmuls, convolutions and attention, forward '
            'and backward; unmended it counts a depthwise convolution\'s weight gradient `groups` times over and misses the CPU\'s '
            'attention. Kernels alone: every matmul, convolution (forward and backward) and fused attention call of one '
            'step, replayed one by one on random tensors of the same shapes and strides, median of 5 calls each, summed: '
            'hot caches and nothing between them. Where that sum in float32 is above the target, nothing outside the '
            'kernels (layout, fusion of the small ops, allocation) can meet the target in float32 on this CPU; bf16 '
            'autocast also spends its time casting weights down and weight gradients up, which the kernels-alone sum leaves out.)', floors)

def main(a)->bool:
    import torch
    header('model_speed: forward + backward seconds per training step')
    print(f"torch {torch.__version__}, {a.threads} threads (torch.set_num_threads), oneDNN {torch.backends.mkldnn.is_available()}, "
          f"MKL {torch.backends.mkl.is_available()}; median of {a.steps} steps after {a.warmup} warm-up steps, each row in its own process\n")
    rows, ok, res = [], True, {}
    for row, (task, modality, preset, _, b, target) in ROWS.items():
        r = res[row] = spawn(row, 'as is', a)
        if 'error' in r: rows.append([describe(row), preset, '', '', b, 'error', '', '', '', '', '', r['error'][-80:]]); ok = False; continue
        met = target is None or r['s'] <= target; ok &= met
        rows.append([describe(row), preset, r['C'], f"{r['params'] / 1e6:.1f}", b, f"{r['s']:.3f}", f"{r['s_min']:.3f}", f"{r['s'] / b:.3f}",
                     f"{r['sys']:.2f}", f"{r['peak_gib']:.1f}", f'<= {target:.2f} s' if target else '-', verdict(met) if target else 'info'])
    print(table(rows, ['model', 'preset', 'C', 'params (M)', 'batch', 's / step', 'fastest', 's / sample', 'of which system s', 'peak RSS (GiB)', 'target', 'result']))
    print('\n(s / step: median wall seconds of zero_grad + forward + loss + backward, judged against the target; fastest: the'
          ' quickest timed step; system s: kernel CPU seconds per step, mostly page faults on freshly allocated gradient and'
          ' activation buffers. This VM shares its host: a row far above its fastest step, or a tiny row above ~0.1 s,'
          ' was disturbed, so rerun before reading a FAIL)\n')
    bf = {row: spawn(row, 'bf16', a) for row in ('loops128-b2', 'pretrain256-b2')}
    text, floors = roofline(a, res, bf)
    print(text + '\n')
    for row, (k32, k16) in floors.items():
        t, s32, s16 = ROWS[row][5], res[row].get('s', float('nan')), bf[row].get('s', float('nan'))
        print(f"{describe(row)} C={res[row].get('C')} batch {ROWS[row][4]}, target {t:.2f} s: float32 kernels alone {k32:.3f} s, "
              + ('above the target: out of reach in float32 on this CPU whatever surrounds the kernels; ' if k32 > t else
                 f'below the target, the step {s32:.3f} s; ')
              + f'bf16 step {s16:.3f} s ({verdict(s16 <= t)}), its kernels alone {k16:.3f} s')
    print()
    print('bf16 autocast on this CPU (opt-in: `--precision bf16`), against float32 on the same weights and batch:\n')
    arows = []
    for row in ('loops128-b2', 'pretrain256-b2'):
        r, v = res[row], bf[row]
        g = agreement(row, a.threads)
        arows.append([describe(row), f"{r.get('s', float('nan')):.3f}", f"{v.get('s', float('nan')):.3f}",
                      f"{r.get('s', float('nan')) / v.get('s', float('nan')):.2f}x", f"{g['loss_rel']:.1e}",
                      f"{g['out_rel']:.1e}", f"{g['grad_rel']:.1e}", f"{g['grad_cos']:.4f}"])
    print(table(arows, ['model', 'fp32 s / step', 'bf16 s / step', 'speed-up', 'loss rel. error', 'outputs rel. error',
                        'gradients rel. error', 'gradient cosine']))
    print('\n(relative errors: |bf16 - fp32| / |fp32| over all outputs and all gradients of one step; bf16 keeps 8 bits of'
          ' mantissa, so about 1e-2 is its precision. Off by default on a CPU: float32 results are the reference)\n')
    if torch.cuda.is_available():
        grow = []
        for row, (task, modality, preset, _, b, _) in ROWS.items():
            r = spawn(row, 'as is', a, 'cuda')
            grow.append([describe(row), preset, b, r.get('error', f"{r.get('s', 0) * 1e3:.1f}"), f"{r['s'] / b * 1e3:.2f}" if 's' in r else ''])
        print(f'GPU ({torch.cuda.get_device_name(0)}), bf16 autocast:\n')
        print(table(grow, ['model', 'preset', 'batch', 'ms / step', 'ms / sample']) + '\n')
    else: print('no GPU (torch.cuda.is_available() is False): GPU timings skipped\n')
    if a.variants:
        print(f'Fixes tried by monkeypatching, on the two target rows (each cell a fresh process per round, {a.rounds} round(s) with '
              'the variants interleaved; median over rounds of the median s / step, system s and page faults per step):\n')
        got = {}                                  # (variant, row) -> results, one per round; variants interleaved per round
        for k in range(a.rounds):
            for v in VARIANTS:
                for row in ('loops128-b2', 'pretrain256-b2'):
                    got.setdefault((v, row), []).append(res[row] if v == 'as is' and k == 0 else spawn(row, v, a))
        vrows = []
        for v, what in VARIANTS.items():
            cells = [v]
            for row in ('loops128-b2', 'pretrain256-b2'):
                rs = got[(v, row)]
                if any('error' in r for r in rs): cells += ['error'] * 3; continue
                cells += [f"{med([r['s'] for r in rs]):.3f}", f"{med([r['sys'] for r in rs]):.2f}", f"{med([r['faults'] for r in rs]):,.0f}"]
            vrows.append(cells + [what])
        print(table(vrows, ['variant', 'loops C=128 b=2 s', 'sys s', 'faults', 'pretrain C=256 b=2 s', 'sys s', 'faults', 'what']))
        print('\n(timings on a shared 2-core VM wander by +-15 % from run to run: compare within one table, and rerun. Also tried'
              ' once, not repeated here: torch.compile of the loops model, 146 s to compile and 0.43 s / step, no gain)\n')
    if a.profile or not ok: profile(a.threads)
    return ok

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--steps', type=int, default=7, help='timed steps per row (median; default 7)')
    ap.add_argument('--warmup', type=int, default=2, help='untimed steps first (default 2)')
    ap.add_argument('--threads', type=int, default=2, help='torch.set_num_threads (default 2)')
    ap.add_argument('--profile', action='store_true', help='print the torch.profiler tables of the loops C=128 batch-2 step')
    ap.add_argument('--variants', action='store_true', help='also time the target rows under the fixes tried by monkeypatching')
    ap.add_argument('--rounds', type=int, default=1, help='with --variants: interleaved rounds over the variants (median; default 1, use 3+ on a busy host)')
    ap.add_argument('--one', choices=list(ROWS), help=argparse.SUPPRESS)
    ap.add_argument('--variant', default='as is', choices=list(VARIANTS), help=argparse.SUPPRESS)
    ap.add_argument('--device', default='cpu', help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one: print(json.dumps(one(a.one, a.variant, a.steps, a.warmup, a.threads, a.device))); raise SystemExit(0)
    raise SystemExit(0 if main(a) else 1)
