"""The GPU: a tiny model and `predict`'s window function give the CPU's numbers on CUDA, and bench/gpu_check.py runs.

The first two tests need a CUDA GPU (skipped without one): the same weights and inputs on CUDA and on the CPU, in
fp32 with TF32 off, must agree to 1e-4. The third runs everywhere: `bench/gpu_check.py --cpu-smoke --quick` goes
through every section of the GPU check on the CPU (tiny models, gloo, batches 2 and 4), so the script a person runs on
a GPU machine is known to work before it gets there.
"""
from __future__ import annotations
import copy, os, subprocess, sys
import pytest, torch
from helpers import REPO
from mixhic.layers import ModelCfg
from mixhic.model import MixHiC

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA GPU')
SECTIONS = ['1. Training step, bf16 and fp32', '2. Pre-training windows/s and MFU (bf16)',
            '3. DDP epoch through torchrun, checkpoint and resume', '4. predict maps on the device',
            '5. Peak memory per batch size']   # bench/gpu_check.py's TITLES

@pytest.fixture
def no_tf32():
    "True fp32 on the GPU: TF32 off for cuBLAS and cuDNN (restored afterwards)."
    old = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = old

def tiny(task:str='loop_windows', modality:str='bimodal', b:int=4)->tuple[MixHiC, torch.Tensor, torch.Tensor]:
    "A tiny `task` model (seed 0, eval mode) and a batch of `b` random windows: Hi-C counts and log tracks."
    cfg = ModelCfg.preset('tiny', task)
    torch.manual_seed(0)
    model = MixHiC(cfg, task, modality).eval()
    g = torch.Generator().manual_seed(1)
    hic = torch.poisson(torch.rand(b, 1, cfg.win_bins, cfg.win_bins, generator=g) * 20, generator=g)
    trk = (torch.rand(b, 2 * cfg.win_bins * cfg.trk_per_bin, cfg.n_tracks, generator=g) * 10).log1p()
    return model, hic, trk

@needs_cuda
def test_loops_model_cuda_matches_cpu(no_tf32):
    "The tiny bimodal loop model: the same logits on CUDA as on the CPU (fp32, TF32 off)."
    model, hic, trk = tiny()
    with torch.inference_mode():
        cpu = model(hic, trk)
        gpu = copy.deepcopy(model).cuda()(hic.cuda(), trk.cuda())
    assert gpu.device.type == 'cuda' and gpu.dtype == cpu.dtype == torch.float32
    assert cpu.shape == (4,) and cpu.std() > 0                     # distinct logits, not a constant
    torch.testing.assert_close(gpu.cpu(), cpu, atol=1e-4, rtol=0)

@needs_cuda
@pytest.mark.parametrize('task,modality', [('loop_windows', 'bimodal'), ('maps', 'tracks'), ('maps', 'infer'), ('expr', 'bimodal')])
def test_window_fn_cuda_matches_cpu(task, modality, no_tf32):
    "`mixhic.finetune.window_fn` (what `mixhic predict` calls per batch) on CUDA gives the CPU's numpy predictions."
    from mixhic.finetune import window_fn
    model, hic, trk = tiny(task, modality)
    cpu = window_fn(copy.deepcopy(model), 'cpu')(hic, trk)
    gpu = window_fn(copy.deepcopy(model), 'cuda')(hic, trk)     # CPU tensors in: window_fn moves them to the device
    assert type(gpu) is type(cpu) and gpu.shape == cpu.shape and gpu.dtype == cpu.dtype
    assert cpu.std() > 0
    torch.testing.assert_close(torch.from_numpy(gpu), torch.from_numpy(cpu), atol=1e-4, rtol=0)

@pytest.mark.slow
def test_gpu_check_cpu_smoke():
    "bench/gpu_check.py --cpu-smoke --quick: every section runs on the CPU and passes (about 1 min on 2 cores)."
    p = subprocess.run([sys.executable, 'bench/gpu_check.py', '--cpu-smoke', '--quick'], cwd=REPO, capture_output=True,
                       text=True, timeout=600, env={**os.environ, 'OMP_NUM_THREADS': '1'})
    out = p.stdout + p.stderr
    assert p.returncode == 0, f"gpu_check.py --cpu-smoke exited with {p.returncode}:\n{out[-6000:]}"
    missing = [t for t in SECTIONS if f'### {t}' not in p.stdout]
    assert not missing, f"sections missing from the output: {missing}\n{out[-6000:]}"
    assert 'error:' not in p.stdout and 'Overall: PASS' in p.stdout, out[-6000:]

def test_flop_counter_mends_depthwise_backward_and_cpu_attention():
    "bench's FLOP count (the MFU's numerator): a depthwise conv's backward is 2 forwards (torch counts its weight gradient `groups` times); CPU attention counts."
    sys.path.insert(0, str(REPO/'bench'))
    from _common import flop_counter
    conv = torch.nn.Conv2d(64, 64, 3, padding=1, groups=64)
    x = torch.randn(2, 64, 10, 10, requires_grad=True)
    with flop_counter() as fc: y = conv(x)
    fwd = fc.get_total_flops()
    assert fwd == 2 * 2 * 64 * 100 * 9                                   # 2 * batch * channels * pixels * 3x3 taps
    with flop_counter() as fc: y.sum().backward()
    assert fc.get_total_flops() == 2 * fwd                               # input and weight gradients
    q, k, v = (torch.randn(2, 4, 50, 16, requires_grad=True) for _ in range(3))
    with flop_counter() as fc: o = torch.nn.functional.scaled_dot_product_attention(q, k, v)
    assert fc.get_total_flops() == 2 * (2 * 2 * 4 * 50 * 50 * 16)         # q k^T and a v, 2 FLOPs per multiply-add
    with flop_counter() as fc: o.sum().backward()
    assert fc.get_total_flops() == 5 * (2 * 2 * 4 * 50 * 50 * 16)        # torch's count: recompute q k^T, then 4 products

def test_kernel_floor_records_and_replays_a_steps_kernels():
    "bench/model_speed's kernels-alone floor: one linear layer's step is addmm, then mm twice, replayed with their strides."
    sys.path.insert(0, str(REPO/'bench'))
    import model_speed as ms
    lin, x = torch.nn.Linear(16, 8), torch.randn(4, 16, requires_grad=True)       # gradients of the input and the weight
    calls = ms.kernel_calls(lambda: lin(x).sum().backward())
    assert [str(f.overloadpacket) for f, _, _ in calls] == ['aten.addmm', 'aten.mm', 'aten.mm']
    w_t = calls[0][1][2]                                                   # addmm(bias, x, weight.t())
    assert w_t[1:3] == ((16, 8), (1, 16))                                  # the transposed view, as the step had it
    assert ms.replay(calls, repeat=1) > 0
    s, n = ms.kernel_floor('tiny-loops-b8', threads=1, repeat=1)
    assert n > 50 and 0 < s < 10
