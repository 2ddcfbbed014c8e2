"""The command line under bad use (issue 17): every case a user can cause ends in one line and exit 1 (or argparse's 2),
nothing is overwritten that the command read, and nothing is silently accepted.

Each test here failed before its fix: `merge` took its first part as the output, `predict` replaced the files a store
was built from, a folder given as a file, `--workers -2`, `--bs 0` or a broken pipe ended in a traceback, and
`--threshold 5`, `--expr-log` without a gene table and the like were accepted.
"""
from __future__ import annotations
import shutil, signal, subprocess, sys
from pathlib import Path
import pytest
from helpers import run_cli, main_in_process

SPLIT = ['--split', 'chrom', '--train-chroms', 'chr1', '--valid-chroms', 'chr2']

def one_error_line(rc, err, cmd, *fragments):
    "Exit 1, exactly one `mixhic CMD: error:` line holding each of `fragments`, no traceback."
    assert rc == 1, err
    lines = [l for l in err.splitlines() if l.startswith(f'mixhic {cmd}: error:')]
    assert len(lines) == 1 and 'Traceback' not in err, err
    for f in fragments: assert str(f) in lines[0], (f, lines[0])

def snapshot(*paths)->dict:
    "{path: bytes} of files, {path: {relative name: bytes}} of folders: to check that nothing changed."
    def read(p:Path): return {str(q.relative_to(p)): q.read_bytes() for q in sorted(p.rglob('*')) if q.is_file()} \
                          if p.is_dir() else p.read_bytes()
    return {str(p): read(Path(p)) for p in paths}

@pytest.fixture(scope='module')
def inputs(tiny, tmp_path_factory)->dict:
    "Private copies of the tiny inputs (a bug here would overwrite them), and a store built from them."
    from mixhic.store import build_store
    d = tmp_path_factory.mktemp('fuzz_in')
    f = {k: Path(shutil.copy(tiny[k], d/Path(tiny[k]).name)) for k in ('cool', 'atac', 'dnase', 'loops', 'genes')}
    f['store'] = build_store(f['cool'], {'atac': f['atac'], 'dnase': f['dnase']}, d/'s.mixhic', loops=f['loops'],
                             genes=f['genes'], progress=False)
    return f

@pytest.fixture(scope='module')
def parts(inputs, tmp_path_factory)->tuple:
    "Two stores of the same inputs, chr1 and chr2: the parts of a merge."
    from mixhic.store import build_store
    d = tmp_path_factory.mktemp('fuzz_parts')
    tr = {'atac': inputs['atac'], 'dnase': inputs['dnase']}
    return tuple(build_store(inputs['cool'], tr, d/f'{c}.mixhic', chroms=[c], progress=False) for c in ('chr1', 'chr2'))

@pytest.fixture(scope='module')
def maps_model(inputs, tmp_path_factory)->Path:
    "A fine-tuned maps checkpoint of the tiny store (one short epoch)."
    out = tmp_path_factory.mktemp('fuzz_ft')/'maps'
    r = run_cli(['finetune', inputs['store'], '--task', 'maps', '--epochs', 1, '--bs', 4, *SPLIT, '--out', out])
    assert r.returncode == 0, r.stderr
    return out/'best.pt'

# ---------------------------------------------------------------------------------------------------------------
# merge: --out, never one of the parts

def test_merge_old_form_is_a_usage_error(parts, capsys):
    "`mixhic merge a b` (no --out) took a as the output and destroyed it; now a usage error, both parts intact."
    before = snapshot(*parts)
    rc, out, err = main_in_process(['merge', *parts], capsys)
    assert rc == 2 and '--out' in err
    assert snapshot(*parts) == before

@pytest.mark.parametrize('which', [0, 1])
def test_merge_refuses_a_part_as_output(parts, capsys, which):
    "--out naming one of the parts (also spelt differently: ./p/) is refused, the part intact."
    before = snapshot(*parts)
    out = f'{parts[which].parent}/./{parts[which].name}/'
    rc, _, err = main_in_process(['merge', *parts, '--out', out], capsys)
    one_error_line(rc, err, 'merge', 'is one of the parts to merge')
    assert snapshot(*parts) == before

def test_merge_refuses_an_output_inside_a_part(parts, capsys):
    before = snapshot(*parts)
    rc, _, err = main_in_process(['merge', *parts, '--out', parts[0]/'merged.mixhic'], capsys)
    one_error_line(rc, err, 'merge', 'lie one inside the other')
    assert snapshot(*parts) == before

def test_merge_with_out(parts, tmp_path, capsys):
    from mixhic.store import Store
    rc, out, err = main_in_process(['merge', parts[1], parts[0], '--out', tmp_path/'m.mixhic'], capsys)
    assert rc == 0, err
    assert sorted(Store(tmp_path/'m.mixhic').chroms) == ['chr1', 'chr2']

# ---------------------------------------------------------------------------------------------------------------
# predict: never an input of the store or the model; an existing output only with --force

PREDICT = {'maps': 'x.cool', 'loops': 'x.bedpe', 'expression': 'x.tsv'}

@pytest.mark.parametrize('what', list(PREDICT))
@pytest.mark.parametrize('victim', ['cool', 'atac', 'dnase', 'loops', 'genes', 'model'])
@pytest.mark.parametrize('force', [False, True])
def test_predict_never_writes_an_input(inputs, tmp_path, capsys, what, victim, force):
    "`predict ... --out` naming the map, a track, the loops or genes of the store, or the model: exit 1, file intact."
    model = tmp_path/'model.pt'
    model.write_bytes(b'a checkpoint')   # refused before the model is read
    target = model if victim == 'model' else inputs[victim]
    before = snapshot(target, inputs['store'])
    argv = ['predict', what, inputs['store'], '--model', model, '--out', target, *(['--force'] if force else [])]
    rc, _, err = main_in_process(argv, capsys)
    one_error_line(rc, err, 'predict', 'refusing to write', target.name)
    assert snapshot(target, inputs['store']) == before

@pytest.mark.parametrize('victim', ['atac', 'cool'])
def test_predict_expression_bigwig_never_an_input(inputs, tmp_path, capsys, victim):
    model = tmp_path/'model.pt'
    model.write_bytes(b'a checkpoint')
    before = snapshot(inputs[victim])
    rc, _, err = main_in_process(['predict', 'expression', inputs['store'], '--model', model, '--out', tmp_path/'g.tsv',
                                  '--bigwig', inputs[victim], '--force'], capsys)
    one_error_line(rc, err, 'predict', 'refusing to write', inputs[victim].name)
    assert snapshot(inputs[victim]) == before and not (tmp_path/'g.tsv').exists()

def test_predict_output_inside_the_store_or_a_folder(inputs, tmp_path, capsys):
    model = tmp_path/'model.pt'
    model.write_bytes(b'a checkpoint')
    before = snapshot(inputs['store'])
    rc, _, err = main_in_process(['predict', 'maps', inputs['store'], '--model', model, '--out', inputs['store']/'p.cool'], capsys)
    one_error_line(rc, err, 'predict', 'inside store')
    (tmp_path/'d').mkdir()
    rc, _, err = main_in_process(['predict', 'maps', inputs['store'], '--model', model, '--out', tmp_path/'d', '--force'], capsys)
    one_error_line(rc, err, 'predict', 'is a directory')
    assert (tmp_path/'d').is_dir() and snapshot(inputs['store']) == before

def test_predict_existing_output_needs_force(inputs, maps_model, tmp_path, capsys):
    "An existing --out is refused (nothing written) without --force, and replaced with it."
    out = tmp_path/'pred.cool'
    out.write_bytes(b'earlier results')
    rc, _, err = main_in_process(['predict', 'maps', inputs['store'], '--model', maps_model, '--out', out], capsys)
    one_error_line(rc, err, 'predict', str(out), '--force')
    assert out.read_bytes() == b'earlier results'
    rc, o, err = main_in_process(['predict', 'maps', inputs['store'], '--model', maps_model, '--out', out, '--force'], capsys)
    assert rc == 0, err
    import cooler
    assert cooler.Cooler(str(out)).chromnames == ['chr1', 'chr2']

# ---------------------------------------------------------------------------------------------------------------
# one line, never a traceback

def build_argv(inputs, out, *extra):
    return ['build', '--hic', inputs['cool'], '--track', f"atac={inputs['atac']}", '--out', out, '--no-progress', *extra]

@pytest.mark.parametrize('flag', ['--track', '--genes', '--loops', '--hic'])
def test_folder_given_as_a_file(inputs, tmp_path, capsys, flag):
    d = tmp_path/'a_folder'
    d.mkdir()
    argv = build_argv(inputs, tmp_path/'x.mixhic')
    if flag == '--track': argv[argv.index(f"atac={inputs['atac']}")] = f'atac={d}'
    elif flag == '--hic': argv[argv.index('--hic') + 1] = d
    else: argv += [flag, d]
    rc, _, err = main_in_process(argv, capsys)
    one_error_line(rc, err, 'build', d.name)
    assert not (tmp_path/'x.mixhic').exists()

def test_damaged_cool_chunk(inputs, tmp_path, capsys):
    "Garbage inside a compressed chunk of the contacts (h5py's OSError): one line naming the file."
    import h5py
    bad = Path(shutil.copy(inputs['cool'], tmp_path/'bad.cool'))
    with h5py.File(bad, 'r') as f: c = f['pixels/count'].id.get_chunk_info(0)
    with open(bad, 'r+b') as fh:
        fh.seek(c.byte_offset + c.size // 4)
        fh.write(b'\xff' * (c.size // 2))
    argv = build_argv(inputs, tmp_path/'x.mixhic')
    argv[argv.index('--hic') + 1] = bad
    rc, _, err = main_in_process(argv, capsys)
    one_error_line(rc, err, 'build', 'bad.cool')
    assert not (tmp_path/'x.mixhic').exists()

@pytest.mark.parametrize('argv, fragment', [
    (['--workers', '-2'], '--workers must be at least 1, got -2'),
    (['--workers', '0'], '--workers must be at least 1, got 0'),
    (['--res', '-5000'], '--res must be at least 1'),
    (['--expr-log'], '--expr-log applies to a gene table'),
    (['--expr-col', 'tpm'], '--expr-col applies to a gene table'),
])
def test_build_bad_values(inputs, tmp_path, capsys, argv, fragment):
    rc, _, err = main_in_process(build_argv(inputs, tmp_path/'x.mixhic', *argv), capsys)
    one_error_line(rc, err, 'build', fragment)
    assert not (tmp_path/'x.mixhic').exists()

@pytest.mark.parametrize('what, argv, fragment', [
    ('loops', ['--bs', '0'], '--bs must be at least 1, got 0'),
    ('loops', ['--threshold', '5'], '--threshold must be between 0 and 1, got 5'),
    ('loops', ['--threshold', '-1'], '--threshold must be between 0 and 1, got -1'),
    ('loops', ['--threshold', 'nan'], '--threshold must be between 0 and 1'),
    ('expression', ['--bs', '-3'], '--bs must be at least 1'),
])
def test_predict_bad_values(inputs, tmp_path, capsys, what, argv, fragment):
    model = tmp_path/'model.pt'
    model.write_bytes(b'a checkpoint')
    rc, _, err = main_in_process(['predict', what, inputs['store'], '--model', model, '--out', tmp_path/PREDICT[what], *argv], capsys)
    one_error_line(rc, err, 'predict', fragment)
    assert not (tmp_path/PREDICT[what]).exists()

def test_predict_stride_0(inputs, maps_model, tmp_path, capsys):
    "--stride 0 is checked by the library (1..window) before anything is written."
    rc, _, err = main_in_process(['predict', 'maps', inputs['store'], '--model', maps_model, '--out', tmp_path/'x.cool',
                                  '--stride', '0'], capsys)
    one_error_line(rc, err, 'predict', 'stride must be in 1..50')
    assert not (tmp_path/'x.cool').exists()

@pytest.mark.parametrize('kind, fragment', [('10kb', 'res 5000 (model) vs 10000 (store)'),
                                            ('oe', "transform 'log1p' (model) vs 'oe' (store)")])
def test_predict_refuses_a_store_of_another_kind(tiny, inputs, maps_model, tmp_path, capsys, kind, fragment):
    "A 5-kb log1p maps model predicted on a 10-kb store or an O/E store, exit 0; now refused before anything is written."
    from helpers import write_cool
    from mixhic.store import build_store
    trk = {'atac': inputs['atac'], 'dnase': inputs['dnase']}
    cool = write_cool(tmp_path/'t10.cool', tiny['sizes'], res=10_000) if kind == '10kb' else inputs['cool']
    st = build_store(cool, trk, tmp_path/f'{kind}.mixhic', transform='oe' if kind == 'oe' else 'log1p', progress=False)
    rc, _, err = main_in_process(['predict', 'maps', st, '--model', maps_model, '--out', tmp_path/'x.cool'], capsys)
    one_error_line(rc, err, 'predict', 'trained on other Hi-C', fragment)
    assert not (tmp_path/'x.cool').exists()

def test_build_from_chromsizes_and_predict_maps(tiny, inputs, maps_model, tmp_path, capsys):
    "`build --chromsizes` (no --hic) makes a tracks-only store; the maps model (variant 'infer': no Hi-C) predicts on it."
    import cooler
    from mixhic.train import load_checkpoint
    assert load_checkpoint(maps_model)['variant'] == 'infer'
    sizes = tmp_path/'tiny.sizes'
    sizes.write_text(''.join(f"{c}\t{n}\n" for c, n in tiny['sizes'].items()))
    st = tmp_path/'to.mixhic'
    trk = ['--track', f"atac={inputs['atac']}", '--track', f"dnase={inputs['dnase']}"]
    rc, _, err = main_in_process(['build', '--chromsizes', sizes, *trk, '--out', st], capsys)
    one_error_line(rc, err, 'build', 'needs res')                         # chromosome sizes have no bin size
    rc, _, err = main_in_process(['build', '--chromsizes', sizes, '--res', 5000, *trk, '--out', st], capsys)
    assert rc == 0, err
    rc, _, err = main_in_process(['predict', 'maps', st, '--model', maps_model, '--out', tmp_path/'x.cool'], capsys)
    assert rc == 0, err
    assert cooler.Cooler(str(tmp_path/'x.cool')).chromnames == ['chr1', 'chr2']

@pytest.mark.parametrize('cmd', ['pretrain', 'finetune'])
@pytest.mark.parametrize('argv, fragment', [
    (['--loader-workers', '-1'], '--loader-workers must be at least 0, got -1'),
    (['--workers', '-3'], '--loader-workers must be at least 0, got -3'),
    (['--bs', '0'], '--bs must be at least 1'),
    (['--epochs', '0'], '--epochs must be at least 1'),
    (['--split', 'chrom', '--valid-chroms', 'chr2', '--test-chroms', 'chr2'], 'both valid and test'),
])
def test_training_bad_values(inputs, tmp_path, capsys, cmd, argv, fragment):
    task = ['--task', 'maps'] if cmd == 'finetune' else []
    rc, _, err = main_in_process([cmd, inputs['store'], *task, '--out', tmp_path/'run', *argv], capsys)
    one_error_line(rc, err, cmd, fragment)
    assert not (tmp_path/'run').exists()

def test_finetune_expr_flags_need_labels(inputs, tmp_path, capsys):
    "--expr-log without --labels did nothing, silently: the store's genes are used as built."
    rc, _, err = main_in_process(['finetune', inputs['store'], '--task', 'expression', '--expr-log', '--out', tmp_path/'r'], capsys)
    one_error_line(rc, err, 'finetune', '--expr-log applies to a --labels gene table')
    assert not (tmp_path/'r').exists()

def test_embed_with_a_fine_tuned_checkpoint(inputs, maps_model, tmp_path, capsys):
    rc, _, err = main_in_process(['embed', inputs['store'], maps_model, '--out', tmp_path/'e.npz'], capsys)
    one_error_line(rc, err, 'embed', 'fine-tuned')
    assert not (tmp_path/'e.npz').exists()

def test_unexpected_error_is_one_line(inputs, capsys, monkeypatch):
    "An exception of no user-error type still ends in one line naming its type; -v shows the traceback."
    import mixhic.store
    def boom(st): raise RuntimeError('offset beyond the end\nof the file')
    monkeypatch.setattr(mixhic.store, 'store_summary', boom)   # what `info` calls
    rc, _, err = main_in_process(['info', inputs['store']], capsys)
    one_error_line(rc, err, 'info', 'RuntimeError: offset beyond the end of the file', '-v')
    with pytest.raises(RuntimeError): main_in_process(['-v', 'info', inputs['store']], capsys)

def test_broken_pipe_ends_quietly(inputs):
    "`mixhic info STORE | head -1`: the reader leaves; the command stops without a traceback, as Unix tools do."
    exe = [sys.executable, '-c', 'import sys; from mixhic.cli import main; sys.exit(main())']
    p = subprocess.Popen(exe + ['info', '--json', str(inputs['store'])], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.close()   # no reader, before the command has written anything
    err = p.stderr.read().decode()
    p.wait(timeout=120)
    assert 'Traceback' not in err and 'Exception ignored' not in err, err
    assert p.returncode == 128 + signal.SIGPIPE, err

# ---------------------------------------------------------------------------------------------------------------
# --version, one meaning per flag name, -q anywhere

def test_version():
    import mixhic
    r = run_cli(['--version'])
    assert r.returncode == 0 and r.stdout.strip() == f'mixhic {mixhic.__version__}'

def test_loader_workers_is_its_own_flag():
    "--workers is chromosomes in parallel in `build`; training's loader processes are --loader-workers."
    from mixhic.cli import parser
    for cmd in (['pretrain', 's'], ['finetune', 's', '--task', 'maps']):
        a = parser().parse_args([*cmd, '--out', 'r', '--loader-workers', '3'])
        assert a.num_workers == 3 and not getattr(a, 'renamed', [])
        a = parser().parse_args([*cmd, '--out', 'r', '--workers', '2'])   # the old spelling: same value, a warning
        assert a.num_workers == 2 and a.renamed == ['--workers is now --loader-workers; the old spelling will go']
        h = subprocess.run([sys.executable, '-m', 'mixhic', cmd[0], '--help'], capture_output=True, text=True).stdout
        assert '--loader-workers' in h and '--workers' not in h.replace('--loader-workers', '')
    a = parser().parse_args(['build', '--hic', 'x.cool', '--out', 's', '--workers', '2'])
    assert a.workers == 2 and not hasattr(a, 'num_workers')

def test_old_workers_flag_warns(inputs, tmp_path):
    r = run_cli(['pretrain', inputs['store'], '--out', tmp_path/'r', '--workers', '-1'])
    assert 'mixhic: --workers is now --loader-workers' in r.stderr
    assert r.returncode == 1 and 'mixhic pretrain: error: --loader-workers must be at least 0, got -1' in r.stderr

@pytest.mark.parametrize('where', ['before', 'after'])
def test_quiet_before_or_after_the_command(inputs, tmp_path, where):
    "-q (before or after the command) leaves only warnings and errors on stderr; the result line stays on stdout."
    argv = build_argv(inputs, tmp_path/'x.mixhic')
    loud = run_cli(argv)
    assert loud.returncode == 0 and 'mixhic: store written' in loud.stderr
    r = run_cli(['-q', *argv] if where == 'before' else [*argv, '-q'])
    assert r.returncode == 0, r.stderr
    assert 'store written' not in r.stderr and r.stdout.startswith('wrote ')

def test_every_command_takes_quiet_and_verbose():
    from mixhic.cli import parser, _all_parsers
    ps = _all_parsers(parser())
    assert len(ps) > 15
    for p in ps:
        opts = {o for a in p._actions for o in a.option_strings}
        assert {'-q', '--quiet', '-v', '--verbose'} <= opts, p.prog
