"""Run every benchmark in bench/ one after the other, print their tables, and end with a summary.

Each script runs in its own process (so that one's memory or caches do not colour the next). The combined output is
also written to bench/out/results.md. Exit status 1 if any benchmark missed its target or failed.

Run: python bench/run_all.py [NAME ...]    (default: all, e.g. `python bench/run_all.py build_time read_speed`)
"""
from __future__ import annotations
import subprocess, sys, time
from pathlib import Path
from _common import table

BENCH = Path(__file__).resolve().parent
ALL = ['build_time', 'store_bytes', 'read_speed', 'build_memory', 'model_speed', 'predict_speed', 'pretrain_speed', 'tasks_real', 'tasks_synth', 'maps_expr_synth', 'loops_real', 'loop_callers', 'gpu_check', 'recipe_synth', 'demo_time']
# the settings whose figures the closing notes quote (each script's own defaults are the paper's heads)
ARGS = {'tasks_synth': ['--loop-centre', '5', '--near-miss', '2', '--loop-prior'],
        'loops_real': ['--loop-centre', '5', '--prior', '--seeds', '0,1']}

def main(names:list)->int:
    bad = [n for n in names if n not in ALL]
    if bad: raise SystemExit(f"unknown benchmark {', '.join(bad)}; expected some of {', '.join(ALL)}")
    (BENCH/'out').mkdir(exist_ok=True)
    log, summary = [], []
    for n in names:
        t = time.perf_counter()
        r = subprocess.run([sys.executable, str(BENCH/f'{n}.py'), *ARGS.get(n, [])], cwd=BENCH.parent, capture_output=True, text=True)
        dt = time.perf_counter() - t
        text = r.stdout + (f'\n[stderr]\n{r.stderr}' if r.returncode not in (0, 1) else '')
        print(text, flush=True); log.append(text)
        summary.append((n, {0: 'all targets met', 1: 'a target missed'}.get(r.returncode, f'error (exit {r.returncode})'), f'{dt:.0f} s'))
    lines = ['\n## summary\n', table(summary, ['benchmark', 'result', 'wall'])]
    print('\n'.join(lines))
    (BENCH/'out'/'results.md').write_text('\n'.join(log + lines) + '\n')
    return 0 if all(res == 'all targets met' for _, res, _ in summary) else 1

if __name__ == '__main__': raise SystemExit(main(sys.argv[1:] or ALL))
