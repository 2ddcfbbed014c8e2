"""Shared helpers of the benchmark scripts: paths, timing, tables and cached inputs (stores, synthetic genomes)."""
from __future__ import annotations
import json, os, statistics, sys, time, shutil, subprocess, platform
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO/'bench'/'out'             # git-ignored: every file a benchmark writes goes here
K562_DIR = 'k562_hg38_chr22_5kb/derived'
K562_COOL = 'K562_chr22_5kb_raw.cool'
K562_TRACKS = {'dnase': 'K562_chr22_DNase_ENCFF860XAE_candidate_regions_reads_per_kb.bw',
               'atac': 'K562_chr22_ATAC_tagAlign_candidate_regions_reads_per_kb.bw',
               'h3k27ac': 'K562_chr22_H3K27ac_ENCFF790GFL_candidate_regions_reads_per_kb.bw'}

def real_data()->Path:
    "Folder of the real data sets: env MIXHIC_REAL_DATA, else <repo>/../shared/data/real."
    return Path(os.environ.get('MIXHIC_REAL_DATA', REPO.parent/'shared'/'data'/'real')).expanduser()

def k562_inputs()->tuple[Path, dict]:
    "The K562 hg38 chr22 5-kb cooler and its three bigWigs, raising if any is missing."
    d = real_data()/K562_DIR
    cool, tracks = d/K562_COOL, {n: d/f for n, f in K562_TRACKS.items()}
    missing = [str(p) for p in [cool, *tracks.values()] if not p.exists()]
    if missing: raise FileNotFoundError(f"real data not found: {', '.join(missing)} (set MIXHIC_REAL_DATA to the folder holding {K562_DIR})")
    return cool, tracks

def quiet_logs():
    "Silence mixhic's info/warning logs (e.g. 'no balancing weights') so the tables stay readable."
    import logging; logging.getLogger('mixhic').setLevel(logging.ERROR)

def timeit(fn, repeat:int=5)->list[float]:
    "Wall seconds of `repeat` calls of `fn` (the first one warms the page cache)."
    out = []
    for _ in range(repeat):
        t = time.perf_counter(); fn(); out.append(time.perf_counter() - t)
    return out

med = statistics.median

def dir_bytes(p:Path)->int:
    "Bytes of all files under `p` (apparent sizes)."
    return sum(f.stat().st_size for f in Path(p).rglob('*') if f.is_file())

def table(rows:list, headers:list)->str:
    "A markdown table of `rows` (lists of cells) under `headers`."
    rows = [[str(c) for c in r] for r in rows]
    wd = [max(len(str(h)), *(len(r[k]) for r in rows)) for k, h in enumerate(headers)]
    line = lambda cells: '| ' + ' | '.join(c.ljust(w) for c, w in zip(cells, wd)) + ' |'
    return '\n'.join([line([str(h) for h in headers]), '|' + '|'.join('-' * (w + 2) for w in wd) + '|', *map(line, rows)])

def verdict(ok:bool)->str: return 'PASS' if ok else 'FAIL'

def header(title:str):
    "Print the benchmark title and the machine it runs on."
    import numpy, mixhic
    print(f"\n## {title}\n")
    print(f"mixhic {mixhic.__version__}, numpy {numpy.__version__}, Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, {platform.machine()} {platform.system()}, load average {os.getloadavg()[0]:.2f} at start "
          "(timings are only comparable at a low load)\n")

def _stale(store:Path)->bool:
    "Whether the cached `store` is missing or older than the library code that builds it."
    mf = store/'manifest.json'
    if not mf.exists(): return True
    import mixhic
    lib = Path(mixhic.__file__).parent
    return any((lib/f).stat().st_mtime > mf.stat().st_mtime for f in ('core.py', 'hic.py', 'tracks.py', 'store.py') if (lib/f).exists())

def k562_store(rebuild:bool=False)->Path:
    "The K562 chr22 store (3 tracks) under bench/out/, built with default settings unless already there."
    from mixhic.store import build_store
    out = OUT/'k562_chr22.mixhic'
    if rebuild or _stale(out):
        cool, tracks = k562_inputs(); quiet_logs()
        build_store(cool, {n: str(p) for n, p in tracks.items()}, out, progress=False)
    return out

def synth_genome(name:str, chromsizes:dict, seed:int=0)->tuple[Path, float|None]:
    "A synthetic genome cached under bench/out/`name`: (its folder, generation seconds or None when cached)."
    from mixhic.synth import make_synth, SynthCfg, SYNTH_VERSION
    d = OUT/name
    done = d/'.bench-done.json'
    key = {'chromsizes': chromsizes, 'seed': seed, 'synth_version': SYNTH_VERSION}
    if done.exists() and all(json.loads(done.read_text()).get(k) == v for k, v in key.items()): return d, None
    if d.exists(): shutil.rmtree(d)
    t = time.perf_counter()
    make_synth(d, seed, SynthCfg(chromsizes=chromsizes))
    dt = time.perf_counter() - t
    done.write_text(json.dumps({**key, 'seconds': dt}))
    return d, dt

SYNTH_SPLIT = dict(by='chrom', train=('chr1',), valid=('chr2',), test=('chr3',))   # the default synthetic genome's task split

def default_synth_store(rebuild:bool=False)->Path:
    "The store of the default synthetic genome (`mixhic.synth.synth_data()`: atac, dnase, loops, genes) under bench/out/, rebuilt when stale."
    from mixhic.synth import synth_data, SYNTH_VERSION
    from mixhic.store import build_store
    syn = synth_data()
    out = OUT/f'synth_v{SYNTH_VERSION}_seed0.mixhic'
    mf = out/'manifest.json'
    if (rebuild or _stale(out) or any(Path(syn[k]).stat().st_mtime > mf.stat().st_mtime for k in ('hic', 'atac', 'dnase', 'loops', 'genes'))
            or not all(json.loads(mf.read_text()).get(k) for k in ('loops', 'genes'))):   # a cache from before it held the labels
        quiet_logs(); OUT.mkdir(parents=True, exist_ok=True)
        build_store(syn['hic'], {'atac': syn['atac'], 'dnase': syn['dnase']}, out, loops=syn['loops'], genes=syn['genes'], progress=False)
    return out

def synth_store(name:str, genome:Path, tracks=('atac', 'dnase'), rebuild:bool=False)->Path:
    "A store of the synthetic genome at `genome` with `tracks` (the paper's two by default), cached under bench/out/."
    from mixhic.store import build_store
    out = OUT/name
    mark = genome/'.bench-done.json'
    if rebuild or _stale(out) or (mark.exists() and mark.stat().st_mtime > (out/'manifest.json').stat().st_mtime):
        quiet_logs()
        build_store(genome/'hic.cool', {t: str(genome/f'{t}.bw') for t in tracks}, out, progress=False)
    return out

def wait_for_synth(timeout_s:float=0)->bool:
    "Whether mixhic.synth is importable, polling up to `timeout_s` seconds (it is being written in parallel)."
    t0 = time.time()
    while True:
        try:
            import importlib; importlib.invalidate_caches()
            from mixhic.synth import make_synth, SynthCfg  # noqa: F401
            return True
        except ImportError:
            if time.time() - t0 >= timeout_s: return False
            time.sleep(10)

def gemm_peak(threads:int=2, dtype:str='float32', n:int=4096, repeat:int=5)->float:
    "GFLOP/s of torch's n x n matmul in `dtype` on `threads` threads, best of `repeat`: the most any model step can reach here."
    import torch
    torch.set_num_threads(threads)
    a, b = (torch.randn(n, n, dtype=getattr(torch, dtype)) for _ in range(2))
    for _ in range(2): a @ b
    ts = []
    for _ in range(repeat):
        t = time.perf_counter(); a @ b; ts.append(time.perf_counter() - t)
    return 2 * n**3 / min(ts) / 1e9

def flop_counter():
    """torch's `FlopCounterMode` (display off), mended where it miscounts these models: the weight gradient of a grouped
    (depthwise) convolution, which it counts `groups` times over (the backward of one of LeFF's 3x3 depthwise
    convolutions: 5.9 GFLOP for 23 MFLOP), and the CPU's fused attention kernels, which it does not count at all. A convolution's backward
    is counted as one forward per gradient it computes (input, weight); attention as torch counts it on a GPU."""
    import torch
    from torch.utils import flop_counter as fc
    aten = torch.ops.aten
    def conv_backward(grad_out, x, w, _bias, _stride, _pad, _dil, transposed, _out_pad, _groups, output_mask, *a, **kw):
        return fc.conv_flop_count(x, w, grad_out, transposed=transposed) * (int(output_mask[0]) + int(output_mask[1]))
    def sdpa_cpu(q, k, v, *a, **kw): return fc.sdpa_flop_count(q, k, v)
    def sdpa_cpu_backward(grad_out, q, k, v, *a, **kw): return fc.sdpa_backward_flop_count(grad_out, q, k, v)
    return fc.FlopCounterMode(display=False, custom_mapping={
        aten.convolution_backward: conv_backward,
        aten._scaled_dot_product_flash_attention_for_cpu: sdpa_cpu,
        aten._scaled_dot_product_flash_attention_for_cpu_backward: sdpa_cpu_backward})
