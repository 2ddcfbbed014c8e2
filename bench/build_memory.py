"""Peak memory (max RSS) of building a store from one synthetic 250-Mb chromosome at 5 kb with two tracks.

The synthetic genome (`make_synth`, chr1 of 250 Mb, seed 0) is generated once and cached under bench/out/ (its
generation time is reported when it runs). The build then runs in a separate Python process (`build_store` with
default settings, tracks atac + dnase); its peak RSS is read with getrusage in that process (RUSAGE_SELF) and, as a
cross-check, in this one (RUSAGE_CHILDREN). A sampler thread in the child records where the RSS peaked (the
innermost mixhic frame at that moment). Target: peak RSS <= 2 GiB. Build time and store size are reported too.

Run: python bench/build_memory.py [--mb 250] [--regen]
"""
from __future__ import annotations
import argparse, resource, subprocess, sys
from _common import *

TARGET_GIB = 2.0

CHILD = r'''
import json, os, resource, sys, threading, time, traceback
def rss():
    with open('/proc/self/statm') as f: return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')
peak = {'rss': 0, 'where': ''}
main = threading.main_thread().ident
stop = threading.Event()
def sample():
    while not stop.is_set():
        r = rss()
        if r > peak['rss']:
            fr = sys._current_frames().get(main)
            st = [f for f in traceback.extract_stack(fr) if '/mixhic/' in f.filename] if fr else []
            peak.update(rss=r, where=' <- '.join(f"{os.path.basename(f.filename)}:{f.lineno} {f.name}" for f in st[::-1][:3]))
        time.sleep(0.002)
import logging; logging.getLogger('mixhic').setLevel(logging.ERROR)
from mixhic.store import build_store
base = rss()
th = threading.Thread(target=sample, daemon=True); th.start()
t = time.perf_counter()
build_store(sys.argv[1], {'atac': sys.argv[2], 'dnase': sys.argv[3]}, sys.argv[4], progress=False)
dt = time.perf_counter() - t
stop.set(); th.join()
print(json.dumps({'seconds': dt, 'maxrss_kib': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  'rss_after_import': base, 'sampled_peak': peak['rss'], 'peak_where': peak['where']}))
'''

def main(mb:int=250, regen:bool=False):
    header(f'build_memory: peak RSS of building one synthetic {mb}-Mb chromosome at 5 kb with two tracks')
    if not wait_for_synth(0): print('mixhic.synth is not importable yet: nothing to measure'); return False
    name = f'synth_{mb}mb'
    if regen and (OUT/name).exists(): shutil.rmtree(OUT/name)
    g, gen_s = synth_genome(name, {'chr1': mb * 1_000_000})
    if gen_s is None: gen_s = json.loads((g/'.bench-done.json').read_text())['seconds']; gen_note = 'cached; seconds of the run that made it'
    else: gen_note = 'generated in this run'
    out = OUT/f'{name}.build_memory.mixhic'
    r = subprocess.run([sys.executable, '-c', CHILD, str(g/'hic.cool'), str(g/'atac.bw'), str(g/'dnase.bw'), str(out)],
                       capture_output=True, text=True)
    if r.returncode: print(r.stdout, r.stderr); raise RuntimeError(f'the build process failed (exit {r.returncode})')
    res = json.loads(r.stdout.strip().splitlines()[-1])
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    peak = res['maxrss_kib'] * 1024
    man = json.loads((out/'manifest.json').read_text()); c = man['chroms']['chr1']
    import cooler
    nnz = cooler.Cooler(str(g/'hic.cool')).info['nnz']
    GiB, MiB = 1 << 30, 1 << 20
    print(table([['peak RSS of the build process (getrusage RUSAGE_SELF)', f'{peak / GiB:.2f} GiB', f'<= {TARGET_GIB:g} GiB', verdict(peak <= TARGET_GIB * GiB)],
                 ['  cross-check: RUSAGE_CHILDREN of this process', f'{kids / GiB:.2f} GiB', '', ''],
                 ['  of which: RSS after imports, before build_store', f'{res["rss_after_import"] / MiB:,.0f} MiB', '', ''],
                 ['build time', f'{res["seconds"]:.1f} s', '', ''],
                 ['store size on disk', f'{dir_bytes(out) / MiB:,.1f} MiB', '', ''],
                 [f'synthetic genome generation ({gen_note})', f'{gen_s:.1f} s', '', '']],
                ['figure', 'value', 'target', 'result']))
    print(f"\nchr1: {mb} Mb, {c['n_bins']:,} bins of 5 kb, {nnz:,} pixels in the cooler, input files {dir_bytes(g) / MiB:,.0f} MiB; "
          f"{man['diag']['total']:,} diagonal windows ({man['diag']['ok']:,} kept)")
    print(f"RSS peak seen by the 2-ms sampler: {res['sampled_peak'] / MiB:,.0f} MiB, first reached in {res['peak_where'] or '(no mixhic frame)'}")
    shutil.rmtree(out, ignore_errors=True)
    return peak <= TARGET_GIB * GiB

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--mb', type=int, default=250, help='chromosome length in Mb (default 250)')
    ap.add_argument('--regen', action='store_true', help='generate the synthetic genome again')
    a = ap.parse_args()
    raise SystemExit(0 if main(a.mb, a.regen) else 1)
