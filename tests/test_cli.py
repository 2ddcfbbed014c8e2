"""The `mixhic` command end to end: synth -> build -> info -> merge, help texts, errors as one stderr line, fast start."""
from __future__ import annotations
import json, subprocess, sys
from pathlib import Path
import numpy as np, pandas as pd, pytest
from helpers import run_cli, main_in_process, write_cool, write_bigwig
from conftest import SYNTH_SIZES
from mixhic.store import Store

SIZES_ARG = ','.join(f'{c}:{n}' for c, n in SYNTH_SIZES.items())

# ---------------------------------------------------------------------------------------------------------------
# help and start-up

@pytest.mark.parametrize('cmd', [[], ['synth'], ['build'], ['info'], ['merge']])
def test_help_exits_0(cmd):
    r = run_cli(cmd + ['--help'])
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith('usage: mixhic')
    if not cmd: assert all(c in r.stdout for c in ('synth', 'build', 'info', 'merge'))
    if cmd == ['build']: assert all(o in r.stdout for o in ('--hic', '--track', '--res', '--balance', '--skip-bad', '--workers'))

def test_no_command_is_a_usage_error():
    r = run_cli([])
    assert r.returncode == 2 and 'usage: mixhic' in r.stderr

def test_cli_import_is_light():
    "`import mixhic.cli` must not pull in torch, pandas, cooler or fastai: `mixhic --help` stays instant."
    r = subprocess.run([sys.executable, '-X', 'importtime', '-c', 'import mixhic.cli'], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    mods = {l.split('|')[-1].strip() for l in r.stderr.splitlines() if l.startswith('import time:') and '|' in l}
    assert 'mixhic.cli' in mods                                     # the trace is read right
    heavy = sorted(m for m in mods if m.split('.')[0] in ('torch', 'pandas', 'cooler', 'fastai'))
    assert heavy == [], f"import mixhic.cli imports {heavy[:10]}"

# ---------------------------------------------------------------------------------------------------------------
# synth -> build -> info -> merge

def test_synth_default_genome(tmp_path):
    "`mixhic synth DIR --seed 0`: the default genome, every file listed on stdout and present."
    r = run_cli(['synth', tmp_path/'g', '--seed', '0'])
    assert r.returncode == 0, r.stderr
    listed = dict(l.split('\t') for l in r.stdout.strip().splitlines())
    assert set(listed) == {'hic', 'atac', 'dnase', 'cage', 'loops', 'genes', 'ctcf', 'tads'}
    assert all(Path(p).is_file() and Path(p).parent == tmp_path/'g' for p in listed.values())
    import cooler
    assert cooler.Cooler(listed['hic']).chromnames == ['chr1', 'chr2', 'chr3']

def test_synth_is_deterministic(tmp_path, synth):
    "The CLI with the fixture's seed and sizes writes the same loops and genes as `make_synth`."
    r = run_cli(['synth', tmp_path/'g', '--seed', '0', '--chrom-sizes', SIZES_ARG])
    assert r.returncode == 0, r.stderr
    for k in ('loops', 'genes', 'ctcf', 'tads'): assert (tmp_path/'g'/synth[k].name).read_bytes() == synth[k].read_bytes(), k
    r = run_cli(['synth', tmp_path/'g1', '--seed', '1', '--chrom-sizes', SIZES_ARG])
    assert (tmp_path/'g1'/'loops.bedpe').read_bytes() != synth['loops'].read_bytes()

def build_args(synth, out, *extra):
    return ['build', '--hic', synth['hic'], '--track', f"atac={synth['atac']}", '--track', f"dnase={synth['dnase']}",
            '--loops', synth['loops'], '--genes', synth['genes'], '--cage', synth['cage'], '--out', out, '--no-progress', *extra]

@pytest.fixture(scope='module')
def cli_stores(synth, tmp_path_factory)->dict:
    "Stores built by the console script: the whole genome, and chr1 and chr2 separately, merged."
    d = tmp_path_factory.mktemp('cli')
    out = {}
    for name, extra in (('full', []), ('p1', ['--chroms', 'chr1']), ('p2', ['--chroms', 'chr2', '--workers', '2'])):
        r = run_cli(build_args(synth, d/f'{name}.mixhic', *extra))
        assert r.returncode == 0, r.stderr
        out[name] = (d/f'{name}.mixhic', r)
    r = run_cli(['merge', d/'p2.mixhic', d/'p1.mixhic', '--out', d/'merged.mixhic'])
    assert r.returncode == 0, r.stderr
    out['merged'] = (d/'merged.mixhic', r)
    return out

def test_build_reports_what_it_wrote(cli_stores):
    path, r = cli_stores['full']
    st = Store(path)
    assert r.stdout.strip() == f"wrote {path}: 2 chromosomes, {st.manifest['diag']['ok']:,} diagonal windows"
    assert st.chroms == ['chr1', 'chr2'] and st.tracks == ['atac', 'dnase']
    assert st.manifest['hic']['norm'] == 'weight'            # the synthetic map is balanced: 'auto' takes its weights
    assert st.manifest['diag']['ok'] == len(st.diag()) > 0

def test_info(cli_stores):
    path, _ = cli_stores['full']
    r = run_cli(['info', path])
    assert r.returncode == 0, r.stderr
    m = Store(path).manifest
    assert f"mixhic store {path}" in r.stdout
    assert "balance asked 'auto' -> used 'weight', transform log1p" in r.stdout
    assert 'chr1 (600 bins), chr2 (400 bins)' in r.stdout
    assert f"{m['diag']['total']:,}" in r.stdout and f"non-finite {m['diag']['nonfinite']:,}" in r.stdout

def test_info_json(cli_stores):
    path, _ = cli_stores['full']
    r = run_cli(['info', path, '--json'])
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == json.loads((path/'manifest.json').read_text())

def test_merge_equals_full_build(cli_stores):
    full, merged = Store(cli_stores['full'][0]), Store(cli_stores['merged'][0])
    assert cli_stores['merged'][1].stdout.strip() == f"wrote {merged.path}: chr2, chr1"
    assert sorted(merged.chroms) == full.chroms
    assert merged.manifest['diag'] == full.manifest['diag']
    assert merged.manifest['skipped'] == {}
    for kind in ('loops', 'genes'):
        a, b = full.table(kind), merged.table(kind)
        pd.testing.assert_frame_equal(a, b)
        assert {k: v for k, v in merged.manifest[kind].items() if k not in ('path',)} == \
               {k: v for k, v in full.manifest[kind].items() if k not in ('path',)}
    pd.testing.assert_frame_equal(full.diag().sort_values(['chrom', 'i'], ignore_index=True),
                                  merged.diag().sort_values(['chrom', 'i'], ignore_index=True))
    for c, i, j in (('chr1', 100, 130), ('chr2', 300, 310), ('chr2', 0, 0)):
        for a, b in zip(full.window(c, i, j), merged.window(c, i, j)): np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(full.cage(c, i), merged.cage(c, i))

def test_parts_hold_their_chromosomes(cli_stores):
    p1, p2 = Store(cli_stores['p1'][0]), Store(cli_stores['p2'][0])
    assert (p1.chroms, p2.chroms) == (['chr1'], ['chr2'])
    assert set(p1.table('loops').status) >= {'not_built'} and set(p2.table('loops').status) >= {'not_built'}

def test_merge_refuses_overlapping_or_different_parts(cli_stores, synth, tmp_path, capsys):
    full, p1 = cli_stores['full'][0], cli_stores['p1'][0]
    rc, out, err = main_in_process(['merge', full, p1, '--out', tmp_path/'m.mixhic'], capsys)
    assert rc == 1 and 'chromosome chr1 is in both' in err
    r = run_cli(['build', '--hic', synth['hic'], '--track', f"atac={synth['atac']}", '--chroms', 'chr2', '--out', tmp_path/'other.mixhic', '--no-progress'])
    assert r.returncode == 0, r.stderr
    rc, out, err = main_in_process(['merge', p1, tmp_path/'other.mixhic', '--out', tmp_path/'m.mixhic'], capsys)
    assert rc == 1 and 'was not built from the same inputs and settings' in err
    assert not (tmp_path/'m.mixhic').exists()

# ---------------------------------------------------------------------------------------------------------------
# errors: exit status 1 and one line on stderr, no traceback

def assert_one_error_line(rc, err, cmd, *fragments):
    assert rc == 1, err
    lines = [l for l in err.splitlines() if l.startswith(f'mixhic {cmd}: error:')]
    assert len(lines) == 1, err
    assert 'Traceback' not in err
    for f in fragments: assert str(f) in lines[0], (f, lines[0])

def test_cli_missing_hic(tiny, tmp_path):
    gone = tmp_path/'gone.cool'
    r = run_cli(['build', '--hic', gone, '--track', f"atac={tiny['atac']}", '--out', tmp_path/'x.mixhic', '--no-progress'])
    assert_one_error_line(r.returncode, r.stderr, 'build', f'Hi-C map not found: {gone}')
    assert not (tmp_path/'x.mixhic').exists()

def test_cli_missing_track(tiny, tmp_path, capsys):
    gone = tmp_path/'gone.bw'
    rc, out, err = main_in_process(['build', '--hic', tiny['cool'], '--track', f'atac={gone}', '--out', tmp_path/'x', '--no-progress'], capsys)
    assert_one_error_line(rc, err, 'build', f'track atac not found: {gone}')

def test_cli_mcool_resolution(tmp_path, capsys):
    p = tmp_path/'x.mcool'
    write_cool(f'{p}::resolutions/5000', {'chr1': 1_000_000}, res=5_000)
    write_cool(f'{p}::resolutions/10000', {'chr1': 1_000_000}, res=10_000)
    bw = write_bigwig(tmp_path/'a.bw', {'chr1': 1_000_000})
    base = ['build', '--hic', p, '--track', f'atac={bw}', '--no-progress']
    rc, out, err = main_in_process(base + ['--res', '25000', '--out', tmp_path/'x.mixhic'], capsys)
    assert_one_error_line(rc, err, 'build', 'has no 25,000 bp resolution; it has: 5,000, 10,000 bp')
    rc, out, err = main_in_process(base + ['--res', '10000', '--out', tmp_path/'x.mixhic'], capsys)
    assert rc == 0, err
    st = Store(tmp_path/'x.mixhic')
    assert st.res == 10_000 and st.manifest['hic']['group'] == '/resolutions/10000' and st.n_bins == {'chr1': 100}
    assert st.cfg.trk_res == 200 and st.cfg.trk_per_bin == 50          # 10-kb bins: 200-bp track bins, 50 per bin as the model reads

def test_cli_skip_bad(tiny, tmp_path, capsys):
    "--skip-bad builds what it can; the manifest (and `info`) name the chromosome left out and why."
    bw = write_bigwig(tmp_path/'chr1only.bw', {'chr1': tiny['sizes']['chr1']})
    base = ['build', '--hic', tiny['cool'], '--track', f"atac={tiny['atac']}", '--track', f'dnase={bw}', '--out', tmp_path/'s.mixhic', '--no-progress']
    rc, out, err = main_in_process(base, capsys)
    assert_one_error_line(rc, err, 'build', 'track dnase', 'has no chromosome chr2', '--skip-bad')
    rc, out, err = main_in_process(base + ['--skip-bad'], capsys)
    assert rc == 0, err
    assert Store(tmp_path/'s.mixhic').manifest['skipped'] == {'chr2': 'missing from track dnase'}
    rc, out, err = main_in_process(['info', tmp_path/'s.mixhic'], capsys)
    assert rc == 0 and 'not built: chr2: missing from track dnase' in out

@pytest.mark.parametrize('which', ['hic', 'track'])
def test_cli_truncated_input(tiny, tmp_path, capsys, which):
    "Half a .cool or half a bigWig: exit 1 and one line naming the file, no traceback."
    import os, shutil
    src = tiny['cool'] if which == 'hic' else tiny['atac']
    half = tmp_path/f'half{src.suffix}'
    shutil.copy(src, half); os.truncate(half, half.stat().st_size // 2)
    hic, trk = (half, tiny['atac']) if which == 'hic' else (tiny['cool'], half)
    rc, out, err = main_in_process(['build', '--hic', hic, '--track', f'atac={trk}', '--out', tmp_path/'x', '--no-progress'], capsys)
    assert_one_error_line(rc, err, 'build', half)
    assert not (tmp_path/'x').exists()

def test_cli_info_not_a_store(tmp_path, capsys):
    rc, out, err = main_in_process(['info', tmp_path], capsys)
    assert_one_error_line(rc, err, 'info', 'not a mixhic store')

def test_cli_bad_arguments(tiny, tmp_path, capsys):
    rc, out, err = main_in_process(['build', '--hic', tiny['cool'], '--track', 'atac.bw', '--out', tmp_path/'x'], capsys)
    assert rc == 2 and '--track expects NAME=PATH' in err
    rc, out, err = main_in_process(['build', '--hic', tiny['cool'], '--track', f"a={tiny['atac']}", '--track', f"a={tiny['dnase']}",
                                    '--out', tmp_path/'x', '--no-progress'], capsys)
    assert_one_error_line(rc, err, 'build', 'track names must differ')
    rc, out, err = main_in_process(['synth', tmp_path/'g', '--chrom-sizes', 'chr1=5'], capsys)
    assert rc == 2 and '--chrom-sizes expects' in err
