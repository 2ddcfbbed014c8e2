"""Small hand-made inputs for the tests: coolers, bigWigs, BEDPE and gene tables written into a temporary folder.

Each writer makes a file small enough to read at a glance and fast to build into a store (a fraction of a second),
so every bad-input test can start from a known-good set and change exactly one thing.
"""
from __future__ import annotations
import os, signal, subprocess, sys, contextlib, logging
from pathlib import Path
import numpy as np

REPO = Path(__file__).resolve().parents[1]

def write_cool(path, # file to write; 'x.mcool::resolutions/5000' writes one resolution of a multi-resolution file
               chromsizes:dict, # {name: length (bp)}
               res:int=5_000, # bin size (bp)
               band:int=60, # contacts are written for j - i < band bins
               seed:int=0, # random counts are drawn with this seed
               weight:bool=False, # also write a (multiplicative) 'weight' column of ones
               assembly:str|None=None, # 'genome-assembly' attribute
               density:float=1.0, # fraction of the band's pixels that hold a contact
               depth:float=200., # expected count on the diagonal
              )->Path:
    "Write a cooler whose contacts decay with distance: count ~ 1 + Poisson(`depth` / (1 + d))."
    import cooler, pandas as pd
    rng = np.random.default_rng(seed)
    bins = cooler.util.binnify(pd.Series(chromsizes), res)
    if weight: bins['weight'] = 1.0
    off = np.r_[0, np.cumsum([-(-n // res) for n in chromsizes.values()])]
    parts = []
    for k, n in enumerate(chromsizes.values()):
        nb = -(-n // res)
        i, d = np.meshgrid(np.arange(nb), np.arange(min(band, nb)), indexing='ij')
        i, j = i.ravel(), (i + d).ravel()
        keep = (j < nb) & (rng.random(len(i)) < density)
        i, j = i[keep], j[keep]
        parts.append(pd.DataFrame({'bin1_id': i + off[k], 'bin2_id': j + off[k],
                                   'count': 1 + rng.poisson(depth / (1 + (j - i)))}))
    pix = pd.concat(parts, ignore_index=True)
    fname = str(path).split('::')[0]
    mode = 'a' if '::' in str(path) and Path(fname).exists() else 'w'   # add a resolution to an existing .mcool
    cooler.create_cooler(str(path), bins, pix, ordered=True, assembly=assembly, mode=mode)
    return Path(fname)

def write_bigwig(path, # file to write
                 chromsizes:dict, # {name: length (bp)} written in the header
                 step:int=1_000, # one entry every `step` bp
                 seed:int=0, # random values are drawn with this seed
                 value:float|None=None, # a constant value instead of random ones
                 chroms:list|None=None, # chromosomes that get entries (default: all); the others are in the header only
                )->Path:
    "Write a bigWig with one entry per `step` bp on each chromosome: random values in [0, 10), or `value`."
    import pyBigWig
    rng = np.random.default_rng(seed)
    bw = pyBigWig.open(str(path), 'w')
    bw.addHeader(list(chromsizes.items()))
    for c, n in chromsizes.items():
        if chroms is not None and c not in chroms: continue
        starts = np.arange(0, n, step, dtype=np.int64)
        ends = np.minimum(starts + step, n)
        vals = np.full(len(starts), value, np.float64) if value is not None else rng.random(len(starts)) * 10
        bw.addEntries([c] * len(starts), starts.tolist(), ends=ends.tolist(), values=vals.tolist())
    bw.close()
    return Path(path)

def write_text(path, text:str)->Path:
    "Write `text` (dedented lines) to `path`."
    Path(path).write_text('\n'.join(l.strip() for l in text.strip().splitlines()) + '\n')
    return Path(path)

def run_cli(argv:list, # arguments of the `mixhic` command
            cwd=None,
            timeout:float=300,
           )->subprocess.CompletedProcess:
    "Run the installed `mixhic` console script (as a user would) and capture its output."
    exe = Path(sys.executable).with_name('mixhic')
    cmd = [str(exe)] if exe.exists() else [sys.executable, '-c', 'import sys; from mixhic.cli import main; sys.exit(main())']
    return subprocess.run(cmd + [str(a) for a in argv], capture_output=True, text=True, cwd=cwd, timeout=timeout,
                          env={**os.environ, 'PYTHONWARNINGS': 'ignore'})

@contextlib.contextmanager
def keep_process_state():
    "Restore the SIGTERM handler and the root logger's handlers that `mixhic.cli.main` changes."
    old_sig, root = signal.getsignal(signal.SIGTERM), logging.getLogger()
    old_handlers, old_level = list(root.handlers), root.level
    try: yield
    finally:
        signal.signal(signal.SIGTERM, old_sig)
        root.handlers[:] = old_handlers; root.setLevel(old_level)

def main_in_process(argv:list, capsys)->tuple[int, str, str]:
    "Call `mixhic.cli.main(argv)` in this process; return (exit status, stdout, stderr)."
    from mixhic.cli import main
    with keep_process_state():
        try: rc = main([str(a) for a in argv])
        except SystemExit as e: rc = e.code   # argparse exits on --help and on usage errors
    out = capsys.readouterr()
    return rc, out.out, out.err
