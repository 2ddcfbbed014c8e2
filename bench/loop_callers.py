"""Genome-wide loop calls on a real map, scored the way the field scores callers, next to the field's callers run in the same run.

K562 chr17, hg19, 25 kb (Rao 2014 raw counts, ICE-balanced here with `cooler balance`'s defaults), against ENCODE
K562 CTCF ChIA-PET loops (Peakachu's list). Arm-held-out: chr17 is cut at 25 Mb (bin 1,000, the centromere; no label
crosses it). A model is trained on one arm's labels and calls the other arm, both ways; the calls of both held-out
arms are joined and scored on the whole chromosome. Inside the training arm the validation block (which picks the
calling threshold and the best epoch) is the quarter of the arm farthest from the held-out arm: chosen by geometry,
no test label is looked at.

Rows (all from this run):
- mixhic `loops` (the loop-calling task), Hi-C only, tiny preset, from scratch, the library's defaults;
- O/E ranking: log(1 + observed/expected) of every pixel, 3 x 3 non-max suppression, the threshold of the best F1 on
  the same validation blocks;
- cooltools 0.7.1 `dots` and Chromosight 1.6.3 `detect` at their defaults (only the 2-Mb limit and 2 threads set),
  each in its own virtual environment under bench/out (numpy<2, pandas<2.2), created on the first run; a peer that
  cannot be installed is reported and skipped.

Then K562 chr22 at 5 kb (hg38, 10,164 bins, ICE-balanced here), called whole with the first fold's model: its cost at
the paper's resolution, and the DNase / ATAC enrichment at the calls' anchors. The set has no loop labels and its
tracks are hg38 while the chr17 labels are hg19, so no model is trained on it: the bimodal and pre-trained rows the
issue asks for here are not in this bench yet.

Scoring protocol (`mixhic.metrics.protocol_bins` / `loop_call_scores`): label anchors at their midpoint bins, call
anchors at their start bins, i < j, 2 <= j - i <= 2 Mb / res; a call matches a label within t bins at both anchors;
precision = calls matching any label, recall = labels matched by any call. Wall time and peak memory (max RSS) are
those of each row's own process.

Run: python bench/loop_callers.py [--epochs 20] [--no-peers]
"""
from __future__ import annotations
import argparse, json, os, shutil, subprocess, sys, time
import numpy as np
from _common import *

C17 = 'gm12878_k562_hg19_chr17_25kb/derived/'
RAW = C17 + 'K562_chr17_25kb_raw.chr17.cool'
LABELS = C17 + 'k562.encode.ctcf-chiapet.hg19.chr17.bedpe'
CUT, RES, CHROM = 1000, 25_000, 'chr17'
D = OUT/'loop_callers'
PEERS = {'cooltools': ['numpy<2', 'pandas<2.2', 'cooltools==0.7.1'],
         'chromosight': ['numpy<2', 'pandas<2.2', 'chromosight==1.6.3']}

def inputs()->tuple[Path, Path]:
    "The ICE-balanced copy of the raw map and the mixhic store built from it with the labels (both cached)."
    import cooler
    from mixhic.store import build_store, is_store_dir
    D.mkdir(parents=True, exist_ok=True)
    cool = D/'k562_chr17_25kb_ice.cool'
    if not cool.exists():
        tmp = D/'tmp.cool'
        shutil.copyfile(real_data()/RAW, tmp)
        os.chmod(tmp, 0o644)
        bias, _ = cooler.balance_cooler(cooler.Cooler(str(tmp)), store=True)   # cooler balance's defaults
        tmp.rename(cool)
    st = D/'k562_chr17.mixhic'
    if not is_store_dir(st): build_store(cool, None, st, loops=real_data()/LABELS, progress=False)
    return cool, st

def folds(st, chrom:str=CHROM, cut:int=CUT, both:bool=True)->list:
    """(split, test part (lo, hi)) of training on one side of bin `cut` and calling the other (both ways, or left ->
    right); the validation block is the quarter of the training side farthest from the test side."""
    from mixhic.data import Split
    d = st.diag_starts(chrom)
    lo, hi = int(d.min()), int(d.max()) + st.w
    out = []
    for arm, test, order in (((cut, hi), (lo, cut), ('test', 'train', 'valid')),
                             ((lo, cut), (cut, hi), ('valid', 'train', 'test')))[0 if both else 1:]:
        n = arm[1] - arm[0]
        share = {'train': 0.75 * n / (hi - lo), 'valid': 0.25 * n / (hi - lo)}
        share['test'] = 1 - share['train'] - share['valid']
        out.append((Split(by='block', block_frac=(share['train'], share['valid'], share['test']), block_order=order), test))
    return out

def in_arm(df, arm:tuple): return df[(df.a >= arm[0]) & (df.b < arm[1])]

def row_mixhic(st_path:Path, calls:Path, epochs:int):
    "Train on each arm, call the other; the joined calls as BEDPE."
    import pandas as pd
    from mixhic.store import Store
    from mixhic.finetune import FinetuneCfg, finetune, load_task_model, window_fn
    from mixhic.tasks.loop_calls import call_loops
    from mixhic.predict import write_bedpe
    st, parts = Store(st_path), []
    for k, (split, test) in enumerate(folds(st)):
        run = D/f'mixhic_fold{k}'
        shutil.rmtree(run, ignore_errors=True)
        finetune(st, run, FinetuneCfg('loops', 'hic', epochs=epochs), split, plot=False, device='cpu')
        m, ck = load_task_model(run/'best.pt')
        c = call_loops(st, window_fn(m), D/f'mixhic_fold{k}.bedpe', threshold=ck['threshold'], progress=False, force=True)
        parts.append(in_arm(c, test))
    write_bedpe(calls, pd.concat(parts, ignore_index=True), st.res, st.chromsizes)

def row_oe(st_path:Path, calls:Path, epochs:int):
    "O/E of every pixel, 3 x 3 non-max suppression, the threshold of the best validation F1, per fold."
    import pandas as pd
    from mixhic.store import Store
    from mixhic.data import block_spans
    from mixhic.tasks.loop_calls import chrom_stats, band_mean, band_peaks, _labels_in
    from mixhic.metrics import best_call_threshold
    from mixhic.predict import write_bedpe, untransform
    st = Store(st_path)
    k = st.cfg.max_dist_bins + 1
    oe = untransform(st.band(CHROM)[:, :k], st.transform_info(CHROM)) / chrom_stats(st, CHROM)[0][:k]
    pk = band_peaks(np.log1p(band_mean(st, CHROM, oe, np.ones_like(oe))))   # masked as mixhic's calls are
    parts = []
    for split, test in folds(st):
        vlo, vhi = block_spans(st, CHROM, split)['valid']
        v = pk[(pk.a >= vlo) & (pk.b < vhi)]
        thr, _ = best_call_threshold(pd.DataFrame({'chrom': CHROM, 'i': v.a, 'j': v.b, 'score': v.score}),
                                     _labels_in(st, CHROM, vlo, vhi))
        parts.append(in_arm(pk[pk.score >= thr], test).assign(chrom=CHROM))
    write_bedpe(calls, pd.concat(parts, ignore_index=True), st.res, st.chromsizes)

COOLTOOLS = '''
import sys, bioframe, cooler, cooltools
clr = cooler.Cooler(sys.argv[1])
view = bioframe.make_viewframe(clr.chromsizes.loc[['chr17']], name_style='ucsc')
exp = cooltools.expected_cis(clr, view_df=view, nproc=2)
dots = cooltools.dots(clr, expected=exp, view_df=view, max_loci_separation=2_000_000, nproc=2)
dots.iloc[:, :6].to_csv(sys.argv[2], sep='\\t', header=False, index=False)
'''

def row_peer(name:str, cool:Path, calls:Path):
    "Run peer `name` from its own virtual environment; its calls as BEDPE."
    py = D.parent/f'venv_{name}'/'bin'/'python'
    if name == 'cooltools':
        script = D/'run_cooltools.py'
        script.write_text(COOLTOOLS)
        subprocess.run([str(py), str(script), str(cool), str(calls)], check=True, capture_output=True)
    else:
        pre = D/'chromosight_out'
        subprocess.run([str(py.parent/'chromosight'), 'detect', '--pattern', 'loops', '--max-dist', '2000000',
                        '--threads', '2', str(cool), str(pre)], check=True, capture_output=True)
        import pandas as pd
        t = pd.read_csv(f'{pre}.tsv', sep='\t')
        t.iloc[:, :6].to_csv(calls, sep='\t', header=False, index=False)

def peer_env(name:str)->str|None:
    "Create peer `name`'s virtual environment if needed; None when ready, else why it is not."
    v = D.parent/f'venv_{name}'
    probe = [str(v/'bin'/'python'), '-c', f'import {name}']
    if v.exists() and subprocess.run(probe, capture_output=True).returncode == 0: return None
    try:
        subprocess.run([sys.executable, '-m', 'venv', str(v)], check=True, capture_output=True)
        subprocess.run([str(v/'bin'/'pip'), 'install', '-q', *PEERS[name]], check=True, capture_output=True, timeout=1800)
        subprocess.run(probe, check=True, capture_output=True)
    except Exception as e:
        return f"{type(e).__name__}: {getattr(e, 'stderr', b'') or e}"[:300]
    return None

def child(argv:list)->tuple[float, float, int]:
    "Run `argv`; wall seconds, peak memory (MB) of that process, exit status."
    t = time.time()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL)   # the rows' own progress bars stay out of the table
    _, status, ru = os.wait4(p.pid, 0)
    return time.time() - t, ru.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)

def chr22_store()->Path:
    "K562 chr22 at 5 kb (hg38, ICE-balanced here), a Hi-C-only store."
    import cooler
    from mixhic.store import build_store, is_store_dir
    cool, st = D/'k562_chr22_5kb_ice.cool', D/'k562_chr22_5kb.mixhic'
    if not cool.exists():
        tmp = D/'tmp22.cool'
        shutil.copyfile(k562_inputs()[0], tmp)
        os.chmod(tmp, 0o644)
        cooler.balance_cooler(cooler.Cooler(str(tmp)), store=True)
        tmp.rename(cool)
    if not is_store_dir(st): build_store(cool, None, st, progress=False)
    return st

def row_chr22(calls:Path):
    "Call all of K562 chr22 at 5 kb with the first fold's model (trained on chr17 at 25 kb): the cost of a 5-kb chromosome."
    from mixhic.store import Store
    from mixhic.finetune import load_task_model, window_fn
    from mixhic.tasks.loop_calls import call_loops
    m, ck = load_task_model(D/'mixhic_fold0'/'best.pt')
    call_loops(Store(chr22_store()), window_fn(m), calls, threshold=ck['threshold'], progress=False, force=True)

def enrichment22(calls:Path)->dict:
    "DNase and ATAC at the anchors of the chr22 calls over distance-matched random pairs (bigWig means per 5-kb bin)."
    import pyBigWig
    from mixhic.annot import read_bedpe
    from mixhic.metrics import protocol_bins, anchor_enrichment
    from mixhic.store import Store
    st = Store(chr22_store())
    C = protocol_bins(read_bedpe(calls, st.chromsizes)[0], st.res, st.n_bins, 'call')
    out = {}
    for name in ('dnase', 'atac'):
        bw = pyBigWig.open(str(k562_inputs()[1][name]))
        n = st.n_bins['chr22']
        v = np.nan_to_num(np.array(bw.stats('chr22', 0, int(bw.chroms('chr22')), nBins=n), dtype=float))
        out[name] = anchor_enrichment({'chr22': v}, C)['enrichment']
    return out

C22, EPOCHS22, PRE22 = 'chr22', 6, 10   # training epochs of the chr22 rows; pre-training epochs of the pre-trained row

def chr22_labels(cool:Path)->Path:
    "cooltools `dots` on the ICE-balanced chr22 map (HiCCUPS-like; the set has no loop list): the chr22 rows' labels."
    out = D/'cooltools_chr22.bedpe'
    if not out.exists():
        script = D/'run_cooltools.py'
        script.write_text(COOLTOOLS.replace("'chr17'", "sys.argv[3]"))
        tmp = out.with_suffix('.tmp')
        subprocess.run([str(D.parent/'venv_cooltools'/'bin'/'python'), str(script), str(cool), str(tmp), C22], check=True,
                       capture_output=True)
        tmp.rename(out)
    return out

def chr22_track_store(labels:Path)->Path:
    "K562 chr22 at 5 kb with DNase and ATAC at 100 bp and the cooltools calls as its loop table."
    from mixhic.store import build_store, is_store_dir
    st = D/'k562_chr22_5kb_trk.mixhic'
    if not is_store_dir(st):
        _, trk = k562_inputs()
        build_store(D/'k562_chr22_5kb_ice.cool', {k: trk[k] for k in ('dnase', 'atac')}, st, loops=labels, progress=False)
    return st

def half22(st)->tuple:
    "(split, test half): train on the first half of chr22's mapped bins (validation: its first quarter), call the second."
    d = st.diag_starts(C22)
    return folds(st, C22, (int(d.min()) + int(d.max()) + st.w) // 2, both=False)[0]

def row_chr22_model(variant:str, pre:bool, calls:Path):
    "Train a `variant` model on the first half of chr22 (pre-trained there first if `pre`), call the second half."
    from mixhic.store import Store
    from mixhic.finetune import FinetuneCfg, finetune, load_task_model, window_fn
    from mixhic.tasks.loop_calls import call_loops
    from mixhic.predict import write_bedpe
    st = Store(chr22_track_store(chr22_labels(D/'k562_chr22_5kb_ice.cool')))
    split, test = half22(st)
    run = D/f'c22_{variant}{"_pre" if pre else ""}'
    shutil.rmtree(run, ignore_errors=True)
    kw = {}
    if pre:
        from mixhic.pretrain import pretrain, PretrainCfg
        pretrain(st, run/'pre', PretrainCfg(epochs=PRE22), split, plot=False, device='cpu')
        kw['pretrained'] = run/'pre'/'best.pt'
    finetune(st, run/'ft', FinetuneCfg('loops', variant, epochs=EPOCHS22), split, plot=False, device='cpu', **kw)
    m, ck = load_task_model(run/'ft'/'best.pt')
    c = call_loops(st, window_fn(m), run/'all.bedpe', threshold=ck['threshold'], progress=False, force=True)
    write_bedpe(calls, in_arm(c, test), st.res, st.chromsizes)

def score22(calls:Path)->dict:
    "Agreement with cooltools on the held-out half of chr22 (the protocol, cooltools' calls as labels), APA, DNase/ATAC."
    import pandas as pd
    from mixhic.annot import read_bedpe
    from mixhic.store import Store
    from mixhic.tasks.loop_calls import evaluate_calls
    st = Store(chr22_track_store(chr22_labels(D/'k562_chr22_5kb_ice.cool')))
    _, (lo, hi) = half22(st)
    def held(path):
        b = read_bedpe(path, st.chromsizes)[0]
        return b[(b.start1 // st.res >= lo) & (b.start2 // st.res < hi)]
    lab = D/'cooltools_chr22_test.bedpe'
    held(chr22_labels(D/'k562_chr22_5kb_ice.cool')).iloc[:, :6].to_csv(lab, sep='\t', header=False, index=False)
    return evaluate_calls(st, held(calls), lab)

def chr22_rows()->dict:
    "The chr22 5-kb table: mixhic Hi-C only, bimodal and pre-trained bimodal against cooltools' calls on the held-out half."
    print(f"\n## K562 chr22 (hg38, 5 kb, DNase + ATAC): trained on the first half against cooltools `dots` calls (no loop "
          f"list exists for this set), called on the second half; {EPOCHS22} epochs, pre-training {PRE22} epochs\n")
    cool = D/'k562_chr22_5kb_ice.cool'
    t = time.time()
    lab = chr22_labels(cool)
    chr22_track_store(lab)
    print(f"(cooltools on chr22 and the track store: {time.time() - t:.0f} s, cached after the first run)")
    names = {'c22_hic': 'mixhic loops, Hi-C only, from scratch', 'c22_bimodal': 'mixhic loops, bimodal, from scratch',
             'c22_bimodal_pre': 'mixhic loops, bimodal, pre-trained on the training half'}
    rows, out = [], {}
    e = score22(lab)
    out['cooltools'] = {'calls': e['scores']['calls'], **{k: v['enrichment'] for k, v in e['enrichment'].items()}}
    rows.append(['cooltools 0.7.1 dots (the labels)', e['scores']['calls'], '1', '1', f"{e['apa_score']:.2f}",
                 *(f"x{e['enrichment'][k]['enrichment']:.2f}" for k in ('dnase', 'atac')), '', ''])
    for r, name in names.items():
        calls = D/f'calls_{r}.bedpe'
        secs, mb, rc = child([sys.executable, __file__, '--row', r, '--calls', str(calls)])
        if rc != 0:
            print(f"{name}: failed (exit {rc}); skipped")
            continue
        e = score22(calls)
        s = e['scores']
        out[r] = {**s, 'apa': e['apa_score'], 'seconds': secs, 'peak_mb': mb,
                  **{k: v['enrichment'] for k, v in e['enrichment'].items()}}
        rows.append([name, s['calls'], f"{s['f1_1']:.3f}", f"{s['f1_2']:.3f}", f"{e['apa_score']:.2f}",
                     *(f"x{e['enrichment'][k]['enrichment']:.2f}" for k in ('dnase', 'atac')), f'{secs:.0f}', f'{mb:,.0f}'])
    print(table(rows, ['caller', 'calls (held-out half)', 'F1 +-1 vs cooltools', 'F1 +-2 vs cooltools', 'APA',
                       'DNase at anchors', 'ATAC at anchors', 'wall s (train + call)', 'peak MB']))
    return out

def score(st_path:Path, calls:Path)->dict:
    from mixhic.tasks.loop_calls import evaluate_calls
    return evaluate_calls(st_path, calls, real_data()/LABELS)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--epochs', type=int, default=20)
    ap.add_argument('--no-peers', action='store_true')
    ap.add_argument('--no-chr22-models', action='store_true', help='skip the chr22 5-kb model rows (about 15 min)')
    ap.add_argument('--only-chr22-models', action='store_true', help='only the chr22 5-kb model rows')
    ap.add_argument('--row', help=argparse.SUPPRESS)
    ap.add_argument('--calls', help=argparse.SUPPRESS)
    a = ap.parse_args()
    quiet_logs()
    cool, st = inputs()
    if a.row:
        {'mixhic': lambda: row_mixhic(st, Path(a.calls), a.epochs), 'oe': lambda: row_oe(st, Path(a.calls), a.epochs),
         'cooltools': lambda: row_peer('cooltools', cool, Path(a.calls)),
         'chromosight': lambda: row_peer('chromosight', cool, Path(a.calls)),
         'chr22': lambda: row_chr22(Path(a.calls)),
         'c22_hic': lambda: row_chr22_model('hic', False, Path(a.calls)),
         'c22_bimodal': lambda: row_chr22_model('bimodal', False, Path(a.calls)),
         'c22_bimodal_pre': lambda: row_chr22_model('bimodal', True, Path(a.calls))}[a.row]()
        return
    if a.only_chr22_models:
        header('Loop calls on K562 chr22 (5 kb, DNase + ATAC)')
        chr22_store()
        sys.exit(0 if chr22_rows() else 1)
    header('Loop calls on K562 chr17 (25 kb), arm-held-out, against CTCF ChIA-PET')
    names = {'mixhic': 'mixhic loops, Hi-C only, tiny, from scratch (train + call)', 'oe': 'O/E ranking, 3 x 3 NMS',
             'cooltools': 'cooltools 0.7.1 dots (defaults)', 'chromosight': 'Chromosight 1.6.3 detect (defaults)'}
    rows, res = [], {}
    for r in ['mixhic', 'oe'] + ([] if a.no_peers else list(PEERS)):
        if r in PEERS and (why := peer_env(r)):
            print(f"{names[r]}: not installed ({why}); skipped")
            continue
        calls = D/f'calls_{r}.bedpe'
        secs, mb, rc = child([sys.executable, __file__, '--row', r, '--calls', str(calls), '--epochs', str(a.epochs)])
        if rc != 0:
            print(f"{names[r]}: failed (exit {rc}); skipped")
            continue
        e = score(st, calls)
        s = e['scores']
        res[r] = {**s, 'apa': e['apa_score'], 'seconds': secs, 'peak_mb': mb}
        rows.append([names[r], s['calls'], *(f"{s[k]:.3f}" for k in ('precision_1', 'recall_1', 'f1_1', 'f1_2',
                     'recall_short', 'recall_long')), f"{e['apa_score']:.2f}", f'{secs:.0f}', f'{mb:,.0f}'])
    print(table(rows, ['caller', 'calls', 'precision +-1', 'recall +-1', 'F1 +-1', 'F1 +-2', 'recall 2-5 bins',
                       'recall >= 6 bins', 'APA', 'wall s', 'peak MB']))
    calls = D/'calls_chr22.bedpe'
    if 'mixhic' in res:
        chr22_store()                                                  # balanced and built before the timed call
        secs, mb, rc = child([sys.executable, __file__, '--row', 'chr22', '--calls', str(calls)])
        if rc == 0:
            n = sum(1 for _ in open(calls))
            e = enrichment22(calls)
            res['chr22_5kb'] = {'calls': n, 'seconds': secs, 'peak_mb': mb, **e}
            print(f"\nK562 chr22 at 5 kb (10,164 bins, band 450), called with the first fold's chr17 25-kb model (its cost; "
                  f"no labels here): {n:,} calls in {secs:.0f} s, peak {mb:,.0f} MB; DNase at the anchors x{e['dnase']:.2f}, "
                  f"ATAC x{e['atac']:.2f} over distance-matched random pairs")
    if not (a.no_chr22_models or a.no_peers) and 'cooltools' in res:
        res['chr22'] = chr22_rows()
    (OUT/'loop_callers.json').write_text(json.dumps(res, indent=1, default=float))
    if 'mixhic' in res:
        m = res['mixhic']
        print(f"\ntargets: F1 +-1 >= 0.35: {verdict(m['f1_1'] >= 0.35)} ({m['f1_1']:.3f}); precision >= 0.30: "
              f"{verdict(m['precision_1'] >= 0.30)}; recall 2-5 bins >= 0.25: {verdict(m['recall_short'] >= 0.25)} "
              f"({m['recall_short']:.3f}); train + call <= 60 s: {verdict(m['seconds'] <= 60)} ({m['seconds']:.0f} s); "
              f"peak <= 2 GiB: {verdict(m['peak_mb'] <= 2048)}" +
              (f"; chr22 5 kb called <= 5 min: {verdict(res['chr22_5kb']['seconds'] <= 300)}" if 'chr22_5kb' in res else ''))
        ok = (m['f1_1'] >= 0.35 and m['precision_1'] >= 0.30 and m['recall_short'] >= 0.25 and m['seconds'] <= 60
              and m['peak_mb'] <= 2048 and res.get('chr22_5kb', {}).get('seconds', 1e9) <= 300)
        sys.exit(0 if ok else 1)
    sys.exit(1)

if __name__ == '__main__': main()
