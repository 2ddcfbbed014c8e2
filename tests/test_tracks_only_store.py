"""Tracks-only stores: a cell type without Hi-C, built from chromosome sizes (a chrom.sizes file or a reference map's
bins) and bigWigs, on which a 'tracks' or 'infer' model predicts maps (as C.Origami users do); Hi-C readers refused."""
from __future__ import annotations
import json, shutil
from pathlib import Path
import numpy as np, pandas as pd, pytest
from helpers import write_cool
from mixhic.data import Split, make_datasets
from mixhic.store import Store, build_store, merge_stores, read_chromsizes, store_summary

SPLIT = Split(by='chrom', train=('chr1',), valid=('chr2',), test=())
COMPAT = Path(__file__).parent/'data'/'compat_52d5711'/'store'

def _sizes_file(path:Path, sizes:dict)->Path:
    path.write_text(''.join(f"{c}\t{n}\n" for c, n in sizes.items()))
    return path

def _tracks(synth)->dict: return {'atac': synth['atac'], 'dnase': synth['dnase']}

@pytest.fixture(scope='module')
def sizes(synth, tmp_path_factory)->Path:
    "A chrom.sizes file of the synthetic genome, with a short contig the build leaves out."
    import cooler
    cs = cooler.Cooler(str(synth['hic'])).chromsizes.to_dict()
    return _sizes_file(tmp_path_factory.mktemp('sizes')/'synth.chrom.sizes', {**cs, 'chrUn_tiny': 40_000})

@pytest.fixture(scope='module')
def to_store(synth, sizes, tmp_path_factory)->Store:
    "A tracks-only store of the synthetic genome: chrom.sizes, the two bigWigs, loops and genes."
    out = tmp_path_factory.mktemp('to')/'to.mixhic'
    return Store(build_store(None, _tracks(synth), out, res=5_000, chromsizes=sizes, loops=synth['loops'],
                             genes=synth['genes'], progress=False))

@pytest.fixture(scope='module')
def maps_model(synth_store, tmp_path_factory):
    "A tiny 'tracks' maps model fine-tuned for one epoch on the store with Hi-C: (model, checkpoint path)."
    from mixhic.finetune import finetune, FinetuneCfg, load_task_model
    out = tmp_path_factory.mktemp('maps')/'run'
    finetune(synth_store, out, FinetuneCfg('maps', 'tracks', epochs=1, bs=16), SPLIT, plot=False, device='cpu')
    model, _ = load_task_model(out/'best.pt')
    return model, out/'best.pt'

# --- the end-to-end use: fine-tune with Hi-C, predict without --------------------------------------------------

def test_predict_maps_without_hic(synth_store, to_store, maps_model, sizes, tmp_path):
    "The same 'tracks' model on the same bigWigs predicts the same maps from a tracks-only store, as a .cool cooler reads."
    import cooler
    from mixhic.finetune import window_fn
    from mixhic.predict import predict_maps
    model, ck = maps_model
    assert model.modality == 'tracks'
    meta = dict(model=str(ck), task=model.task, variant=model.modality)          # what `mixhic predict maps` passes
    a = predict_maps(synth_store, window_fn(model), tmp_path/'with_hic.cool', progress=False, meta=meta)
    b = predict_maps(to_store, window_fn(model), tmp_path/'tracks_only.cool', progress=False, meta=meta)
    ca, cb = cooler.Cooler(str(a)), cooler.Cooler(str(b))
    assert cb.binsize == 5_000 and list(cb.chromnames) == ['chr1', 'chr2', 'chrUn_tiny']   # every chromosome of the file
    pa, pb = ca.pixels()[:], cb.pixels()[:]
    assert len(pb) > 1000 and np.isfinite(pb['count']).all() and (pb['count'] > 0).all()
    pd.testing.assert_frame_equal(pa, pb)                                         # same tracks, same model: same map
    ba, bb = (c.bins()[:][['chrom', 'start', 'end']].astype({'chrom': str}) for c in (ca, cb))
    pd.testing.assert_frame_equal(bb.iloc[:len(ba)], ba)                          # the input map's bins, then the contig
    np.testing.assert_array_equal(cb.matrix(balance=True).fetch('chr2'), ca.matrix(balance=True).fetch('chr2'))
    md = cb.info['metadata']
    assert md['input_map'] is None and md['chromsizes'] == str(sizes.resolve()) and md['variant'] == 'tracks'
    assert md['transform_undone'] == 'log1p' and md['source_store'] == str(to_store.path.resolve())

def test_predict_refuses_hic_models(to_store, tmp_path):
    "A model that reads Hi-C is refused on a tracks-only store, naming the store and the variant; no file is written."
    from mixhic.predict import predict_maps, predict_loops, check_fn
    fn = lambda hic, trk: hic[:, 0].numpy()
    with pytest.raises(ValueError, match="cannot predict with a 'bimodal' model on to.mixhic: it is a tracks-only store"):
        predict_maps(to_store, fn, tmp_path/'x.cool', progress=False, meta={'variant': 'bimodal'})
    class HicModel:                                                               # a model saying what it reads
        modality = 'hic'
        def __call__(self, hic, trk): return hic[:, 0, 25, 25].numpy()
    with pytest.raises(ValueError, match="cannot predict with a 'hic' model on to.mixhic"):
        predict_loops(to_store, HicModel(), tmp_path/'x.bedpe', progress=False)
    assert not (tmp_path/'x.cool').exists() and not (tmp_path/'x.bedpe').exists()
    check_fn(to_store, fn, {'variant': 'infer'})                                  # a model reading no Hi-C runs

def test_predict_protects_the_sizes_file(to_store, sizes, tmp_path):
    from mixhic.predict import predict_maps
    with pytest.raises(ValueError, match='destroy the chromosome sizes'):
        predict_maps(to_store, lambda h, t: h[:, 0].numpy(), sizes, force=True, progress=False)

def test_training_and_evaluation_refused(to_store, maps_model):
    "Fine-tuning or evaluating on a tracks-only store is a clear error naming the store (and the variant, if known)."
    from mixhic.finetune import finetune_learner, evaluate, FinetuneCfg
    with pytest.raises(ValueError, match='to.mixhic is a tracks-only store'):
        finetune_learner(to_store, FinetuneCfg('maps', 'tracks', epochs=1, bs=16), SPLIT, device='cpu')
    with pytest.raises(ValueError, match='to.mixhic is a tracks-only store'):   # a maps model: no maps to score
        evaluate(to_store, maps_model[1], 'valid', SPLIT)
    with pytest.raises(ValueError, match='to.mixhic is a tracks-only store'):
        make_datasets(to_store, 'pretrain', SPLIT)
    with pytest.raises(ValueError, match='no maps to train or evaluate a tracks model on'):
        make_datasets(to_store, 'maps', SPLIT, variant='tracks')
    for v in ('bimodal', 'hic'):
        with pytest.raises(ValueError, match=f"cannot train or evaluate a '{v}' model on to.mixhic"):
            make_datasets(to_store, 'loop_windows', SPLIT, variant=v)

def test_check_store_tracks_only(to_store, maps_model):
    "A model's bin size and transform are checked on a tracks-only store; its balancing (it has none) is not."
    from mixhic.train import check_store, load_checkpoint
    ck = load_checkpoint(maps_model[1])
    assert ck['store_info'][0]['hic_norm'] not in (None, to_store.hic_norm)   # trained on balanced Hi-C
    check_store(ck, to_store)
    other = {**ck, 'store_info': [{**ck['store_info'][0], 'res': 10_000}]}
    with pytest.raises(ValueError, match=r'res 10000 \(model\) vs 5000 \(store\)'): check_store(other, to_store)
    other = {**ck, 'store_info': [{**ck['store_info'][0], 'transform': 'oe'}]}
    with pytest.raises(ValueError, match=r"transform 'oe' \(model\) vs 'log1p' \(store\)"): check_store(other, to_store)

@pytest.mark.parametrize('task', ['expr', 'loop_windows'])
def test_finetune_tracks_model_on_a_tracks_only_store(to_store, tmp_path, task):
    "A 'tracks' model fine-tunes and evaluates on a tracks-only store; a 'bimodal' one is refused, naming the variant."
    from mixhic.finetune import finetune, evaluate, FinetuneCfg
    out = tmp_path/'run'
    finetune(to_store, out, FinetuneCfg(task, 'tracks', epochs=1, bs=16), SPLIT, plot=False, device='cpu')
    r = evaluate(to_store, out/'best.pt', 'valid', SPLIT)
    assert r['variant'] == 'tracks' and r['n'] > 0 and np.isfinite(r['pred']).all()
    with pytest.raises(ValueError, match="cannot train or evaluate a 'bimodal' model on to.mixhic"):
        finetune(to_store, tmp_path/'bi', FinetuneCfg(task, 'bimodal', epochs=1, bs=16), SPLIT, plot=False, device='cpu')
    assert not (tmp_path/'bi'/'best.pt').exists()

def test_cli_build_from_chromsizes_then_predict(synth, sizes, maps_model, tmp_path, capsys):
    "`mixhic build --chromsizes sizes --res 5000 --track ...`, then `mixhic predict maps` with a 'tracks' maps model."
    import cooler
    from helpers import main_in_process
    trk = [a for n in ('atac', 'dnase') for a in ('--track', f"{n}={synth[n]}")]
    out = tmp_path/'X.mixhic'
    rc, o, err = main_in_process(['build', '--chromsizes', sizes, '--res', 5000, *trk, '--out', out, '--no-progress'], capsys)
    assert rc == 0, err
    st = Store(out)
    assert not st.has_hic and st.chroms == ['chr1', 'chr2'] and st.res == 5_000 and st.tracks == ['atac', 'dnase']
    rc, o, err = main_in_process(['predict', 'maps', out, '--model', maps_model[1], '--out', tmp_path/'p.cool',
                                  '--no-progress'], capsys)
    assert rc == 0, err
    c = cooler.Cooler(str(tmp_path/'p.cool'))
    assert c.binsize == 5_000 and 'chr1' in c.chromnames and len(c.pixels()[:]) > 1000
    for argv, msg in ((['--chromsizes', sizes, '--hic', synth['hic'], '--res', 5000], 'not both'),
                      (['--res', 5000], 'needs a Hi-C map')):
        rc, _, err = main_in_process(['build', *argv, *trk, '--out', tmp_path/'Y.mixhic'], capsys)
        assert rc == 1 and msg in err and 'Traceback' not in err, err
    assert not (tmp_path/'Y.mixhic').exists()

def test_tracks_model_reads_windows(to_store):
    "A 'tracks' model's dataset reads a tracks-only store: Hi-C zeros, the tracks as stored."
    tr, va, _ = make_datasets(to_store, 'expr', SPLIT, variant='tracks')
    assert len(tr) > 0 and len(va) > 0
    hic, trk, y = tr[0]
    assert hic.shape == (1, 50, 50) and float(hic.abs().sum()) == 0 and trk.shape == (5000, 2) and trk.abs().sum() > 0

# --- the store -------------------------------------------------------------------------------------------------

def test_store_holds_tracks_and_geometry(synth_store, to_store, sizes):
    "Same chromosomes, bins and tracks as the store with Hi-C; every window that fits kept; the manifest says no Hi-C."
    from mixhic.core import diag_starts
    st, to = Store(synth_store), to_store
    assert (to.has_hic, st.has_hic) == (False, True)
    assert to.chroms == st.chroms and to.n_bins == st.n_bins and to.tracks == st.tracks and to.res == st.res
    for c in to.chroms:
        np.testing.assert_array_equal(to.track_bins(c), st.track_bins(c))
        np.testing.assert_array_equal(to.diag_starts(c), diag_starts(to.n_bins[c], to.cfg))
        assert not (to.path/'chroms'/c/'hic.npy').exists()
    m = json.loads((to.path/'manifest.json').read_text())
    assert m['has_hic'] is False and m['hic']['path'] is None and m['hic']['transform'] == 'log1p'
    assert m['chromsizes']['path'] == str(sizes.resolve()) and m['chromsizes']['kind'] == 'chrom.sizes'
    assert 'chrUn_tiny' in m['skipped'] and to.genome_sizes['chrUn_tiny'] == 40_000
    assert (to.hic_path, to.hic_norm, to.transform) == (None, None, 'log1p')
    assert 'has_hic' not in st.manifest and st.genome_sizes is None              # stores with Hi-C: as before
    text = store_summary(to)
    assert 'tracks-only store' in text and 'every window that fits is kept' in text and 'no Hi-C' in repr(to)

def test_label_windows_kept_where_they_fit(to_store):
    "No contact filter applies: a label window is 'ok' when it fits in the chromosome, else 'at_edge'."
    for kind, (a, b) in (('loops', ('a', 'b')), ('genes', ('bin', 'bin'))):
        tab = to_store.table(kind)
        assert (tab.status == 'ok').sum() > 0 and set(tab.status) <= {'ok', 'at_edge', 'too_close', 'too_far'}
        for c, g in tab[tab.status.isin(['ok', 'at_edge'])].groupby('chrom'):
            assert list(to_store.window_status(c, g[a] - 25, g[b] - 25)) == g.status.tolist()

def test_hic_accessors_raise(to_store):
    for f in (lambda: to_store.hic('chr1', 0, 0), lambda: to_store.window('chr1', 0, 0), lambda: to_store.band('chr1'),
              lambda: to_store.region('chr1', 0, 100_000), lambda: to_store.norm_scale('chr1')):
        with pytest.raises(ValueError, match='to.mixhic is a tracks-only store .* no Hi-C'):
            f()

def test_sizes_from_a_reference_map(synth, tmp_path):
    "A .cool's or an .mcool's bins give the chromosomes, with or without a resolution in the URI."
    cs = {'chr1': 1_000_000, 'chr2': 600_000}
    m = write_cool(f"{tmp_path/'ref.mcool'}::resolutions/10000", cs, res=10_000, assembly='test')
    for src in (synth['hic'], f"{m}::/resolutions/10000", m):
        r = read_chromsizes(src, 5_000)
        assert r.res == 5_000 and r.kind == 'cool'
    assert read_chromsizes(m, 5_000).chromsizes == cs and read_chromsizes(m, 5_000).assembly == 'test'
    st = Store(build_store(None, _tracks(synth), tmp_path/'ref.mixhic', res=5_000, chromsizes=synth['hic'],
                           chroms=['2'], progress=False))
    assert st.chroms == ['chr2'] and st.manifest['chromsizes']['kind'] == 'cool'

def test_merge_tracks_only_parts(synth, sizes, tmp_path):
    parts = [build_store(None, _tracks(synth), tmp_path/f'p{c}.mixhic', res=5_000, chromsizes=sizes, chroms=[c],
                         progress=False) for c in ('chr1', 'chr2')]
    st = Store(merge_stores(parts, tmp_path/'all.mixhic'))
    assert st.chroms == ['chr1', 'chr2'] and not st.has_hic and st.n_diag > 0

def test_old_store_opens_with_hic():
    st = Store(COMPAT)
    assert st.has_hic and st.genome_sizes is None and st.hic_path.name == 'hic.cool'

# --- bad inputs ------------------------------------------------------------------------------------------------

def test_build_errors(synth, sizes, tmp_path):
    t, out = _tracks(synth), tmp_path/'x.mixhic'
    cases = [(dict(chromsizes=sizes), 'needs res: the bin size'),
             (dict(), 'needs a Hi-C map (hic) or, for a tracks-only store, chromosome sizes'),
             (dict(res=5_000, chromsizes=sizes, hic=synth['hic']), 'not both'),
             (dict(res=5_000, chromsizes=sizes, balance='KR'), "balance='KR' applies to a Hi-C map"),
             (dict(res=5_000, chromsizes=sizes, transform='clip255'), "transform 'clip255'"),
             (dict(res=5_000, chromsizes=sizes, chroms=['chr9']), 'no chromosome chr9'),
             (dict(res=5_000, chromsizes=sizes, tracks={}), 'needs tracks')]
    for kw, msg in cases:
        kw = {'hic': None, 'tracks': t, **kw}
        with pytest.raises(ValueError, match=msg.replace('(', r'\(').replace(')', r'\)')):
            build_store(kw.pop('hic'), kw.pop('tracks'), out, progress=False, **kw)
    assert not out.exists()

def test_bad_sizes_files(synth, tmp_path):
    "A missing file, a directory, a binary file, a BED, a repeated chromosome, an empty file: each named."
    t = _tracks(synth)
    bad = {'missing.sizes': None, 'dir.sizes': 'dir', 'bin.sizes': bytes(range(256)) * 4,
           'bed.sizes': 'chr1\t0\t3000000\n', 'twice.sizes': 'chr1\t3000000\nchr1\t3000000\n',
           'empty.sizes': '# nothing\n', 'words.sizes': 'chr1\tlong\n'}
    msgs = {'missing.sizes': 'chromosome sizes not found', 'dir.sizes': 'is a directory',
            'bin.sizes': 'neither a text chrom.sizes file nor a .cool', 'bed.sizes': 'line 1: expected a chromosome name',
            'twice.sizes': 'line 2: chromosome chr1 is listed twice', 'empty.sizes': 'lists no chromosome',
            'words.sizes': 'line 1: expected a chromosome name'}
    for name, content in bad.items():
        p = tmp_path/name
        if content == 'dir': p.mkdir()
        elif isinstance(content, bytes): p.write_bytes(content)
        elif content is not None: p.write_text(content)
        with pytest.raises((ValueError, FileNotFoundError), match=msgs[name]):
            build_store(None, t, tmp_path/'x.mixhic', res=5_000, chromsizes=p, progress=False)
    with pytest.raises(ValueError, match='is an HDF5 file but not a cooler'):
        import h5py
        with h5py.File(tmp_path/'other.h5', 'w') as f: f['x'] = [1]
        read_chromsizes(tmp_path/'other.h5', 5_000)
