"""`mixhic demo`, the README's main job, timed as a user runs it: wall time and peak memory of the command, and the
held-out retrieval it reports.

Each repeat runs `mixhic demo --out bench/out/demo_time/N` in a fresh process and a fresh folder (the synthetic genome
itself is cached by `mixhic.synth.synth_data()` after the first run, as on a user's machine after their first demo;
the store is built inside every run). The retrieval figures are recomputed from the run's last.pt as the demo computes
them: top-1 both ways, median partner rank and top-5 on held-out chr3.

Run: python bench/demo_time.py [--repeat 1]
"""
from __future__ import annotations
import argparse, os, shutil, subprocess, sys, time
import numpy as np
from _common import *

def run_once(out:Path)->tuple[float, float, int]:
    "Wall seconds, peak MB and exit status of `mixhic demo --out out`."
    exe = Path(sys.executable).with_name('mixhic')
    cmd = [str(exe)] if exe.exists() else [sys.executable, '-m', 'mixhic']
    t = time.time()
    p = subprocess.Popen(cmd + ['demo', '--out', str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    return time.time() - t, ru.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)

def retrieval(out:Path)->dict:
    "Held-out chr3 retrieval of the demo's last.pt, as the demo scores it."
    from mixhic.pretrain import embed, retrieval_top1, partner_rank, DEMO_SPLIT
    from mixhic.store import Store
    e = embed(Store(out/'synth.mixhic'), out/'run'/'last.pt')
    m = np.array([DEMO_SPLIT.of_chrom(c) == 'valid' for c in e['chrom']])
    t1 = retrieval_top1(e['I_E'][m], e['I_M'][m])
    r = partner_rank(e['I_E'][m], e['I_M'][m])
    return dict(top1=t1, median_rank=float(np.median(r)), top5=float((r < 5).mean()), n=int(m.sum()))

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--repeat', type=int, default=1)
    a = ap.parse_args()
    quiet_logs()
    header('demo_time: `mixhic demo` as a user runs it')
    rows, ok = [], True
    for k in range(a.repeat):
        out = OUT/'demo_time'/str(k)
        shutil.rmtree(out, ignore_errors=True)
        secs, mb, rc = run_once(out)
        if rc != 0:
            rows.append([k + 1, 'failed', '', '', '', '', '', '']); ok = False; continue
        r = retrieval(out)
        ok &= secs <= 120
        rows.append([k + 1, f'{secs:.0f}', f'{mb:,.0f}', f"{r['top1'][0]:.3f} / {r['top1'][1]:.3f}", f"{r['median_rank']:.0f} of {r['n'] - 1}",
                     f"{r['top5']:.3f}", '<= 120 s', verdict(secs <= 120)])
    print(table(rows, ['run', 'wall s', 'peak MB', 'held-out top-1 (tracks -> Hi-C / Hi-C -> tracks)', 'median partner rank',
                       'top-5', 'target', 'result']))
    print('\n(chance on held-out chr3: top-1 1/87 = 0.011, median rank 43, top-5 0.057)')
    sys.exit(0 if ok else 1)

if __name__ == '__main__': main()
