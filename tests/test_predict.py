"""Genome-wide prediction and its writers, checked with fake models whose right answers are known: the identity
(tiling must give back the stored map), the centre pixel (loop scores are stored contacts), the per-bin track mean
(expression profiles); files are read back with cooler, pyBigWig and mixhic's own BEDPE reader."""
from __future__ import annotations
import logging
import numpy as np, pandas as pd, pytest, torch
from helpers import write_cool, write_bigwig
from conftest import TINY_SIZES
from mixhic.store import Store, build_store
from mixhic.annot import read_bedpe
from mixhic.predict import (batches, diag_tiles, predict_map_chrom, untransform, input_bins, write_cool as write_pred_cool,
                            predict_maps, candidates, signal_anchors, score_loops, merge_hits, write_bedpe, predict_loops,
                            predict_expr_chrom, write_bigwig as write_pred_bigwig, predict_expression)

W, H = 50, 25

def identity(hic, trk): return hic[:, 0].numpy()
def centre(hic, trk): return hic[:, 0, H, H].numpy()
def mean_signal(hic, trk): return trk[:, :W * 50].reshape(len(trk), W, -1).mean(2).numpy()   # (b, w) anchor-1 bin means

@pytest.fixture(scope='module')
def st(synth_store)->Store: return Store(synth_store)

def stored_band(st, chrom)->np.ndarray: return np.asarray(st.band(chrom), dtype=np.float32)

def bin_signal(st, chrom)->np.ndarray:
    "(n_bins, ) mean over tracks and 100-bp bins of each Hi-C bin, from the store's arrays."
    return np.asarray(st.track_bins(chrom), dtype=np.float32).reshape(st.n_bins[chrom], -1).mean(1)

def no_tmp_left(path)->bool: return not list(path.parent.glob(f'.{path.name}.*'))

# ---------------------------------------------------------------------------------------------------------------
# windows and tiles

def test_batches_equal_store_windows(st):
    ij = np.array([[0, 0], [100, 160], [30, 10], [550, 550]])
    got = list(batches(st, 'chr1', ij, bs=3))
    assert [len(s) for s, _, _ in got] == [3, 1]
    hic = torch.cat([h for _, h, _ in got]); trk = torch.cat([t for _, _, t in got])
    assert hic.shape == (4, 1, W, W) and trk.shape == (4, 5000, 2) and hic.dtype == trk.dtype == torch.float32
    for k, (i, j) in enumerate(ij):
        h, t = st.window('chr1', i, j)
        np.testing.assert_array_equal(hic[k, 0].numpy(), np.nan_to_num(h))     # masked pixels become 0
        np.testing.assert_array_equal(trk[k].numpy(), t)
    with pytest.raises(ValueError, match=r"starts must be \(m,\) or \(m, 2\)"): next(batches(st, 'chr1', np.zeros((2, 3))))

@pytest.mark.parametrize('n,stride', [(50, None), (51, None), (600, None), (613, 10), (100, 50), (77, 1)])
def test_diag_tiles_cover_every_bin(n, stride):
    s = diag_tiles(n, W, stride)
    assert s[0] == 0 and s[-1] == n - W and (np.diff(s) > 0).all() and (np.diff(s) <= (stride or H)).all()
    cover = np.zeros(n, int)
    for a in s: cover[a:a + W] += 1
    assert (cover > 0).all()
    with pytest.raises(ValueError, match='stride must be in 1..50'): diag_tiles(n, W, 0)

def test_map_band_equals_stored_band(st):
    "The identity tiled over chr2 gives back the stored band wherever a window reaches, and every pixel with k <= w/2."
    n = st.n_bins['chr2']
    band = predict_map_chrom(st, 'chr2', identity, bs=7, progress=False)
    want = np.nan_to_num(stored_band(st, 'chr2')[:, :W])
    inside = np.add.outer(np.arange(n), np.arange(W)) < n
    assert band.shape == (n, W) and band.dtype == np.float32
    assert np.isfinite(band[:, :H + 1][inside[:, :H + 1]]).all() and np.isnan(band[~inside]).all()
    ok = np.isfinite(band)
    np.testing.assert_allclose(band[ok], want[ok], rtol=1e-6)

def test_map_symmetrised_and_averaged(st):
    "A model that predicts its window's row index: each pixel is the mean over windows of (r + c) / 2, r, c its offsets."
    fn = lambda hic, trk: np.broadcast_to(np.arange(W, dtype=np.float32)[:, None], (len(hic), W, W))
    n = st.n_bins['chr2']; band = predict_map_chrom(st, 'chr2', fn, progress=False)
    s = diag_tiles(n, W)
    for i, k in [(0, 0), (30, 3), (200, 10), (n - 1, 0), (n - 30, 20)]:
        vals = [(i - a) + k / 2 for a in s if a <= i and i + k < a + W]
        assert band[i, k] == pytest.approx(np.mean(vals))

# ---------------------------------------------------------------------------------------------------------------
# maps to .cool

def test_cool_round_trip(st, synth, tmp_path):
    import cooler
    out = predict_maps(st, identity, tmp_path/'pred.cool', progress=False, meta={'checkpoint': 'none'})
    clr, inp = cooler.Cooler(str(out)), cooler.Cooler(str(synth['hic']))
    pd.testing.assert_frame_equal(clr.bins()[:][['chrom', 'start', 'end']], inp.bins()[:][['chrom', 'start', 'end']])
    md = clr.info['metadata']
    assert md['model'] == 'identity' and md['source_store'] == str(st.path.resolve()) and md['checkpoint'] == 'none'
    from mixhic import __version__; assert md['mixhic'] == __version__
    pix = clr.pixels()[:]
    for c in st.chroms:
        off, n = clr.offset(c), st.n_bins[c]
        p = pix[(pix.bin1_id >= off) & (pix.bin1_id < off + n)]
        i, k = (p.bin1_id - off).to_numpy(), (p.bin2_id - p.bin1_id).to_numpy()
        assert (k >= 0).all() and (k < W).all() and (p.bin2_id < off + n).all()
        want = np.expm1(stored_band(st, c))
        np.testing.assert_allclose(p['count'].to_numpy(), want[i, k], rtol=1e-5)        # the untransformed stored band
        near = np.zeros((n, W), bool); near[i, k] = True                                  # every pixel near the diagonal
        exp = np.isfinite(want[:, :H + 1]) & (want[:, :H + 1] > 0)
        assert (near[:, :H + 1] == exp).all()
    obs = inp.matrix().fetch('chr1:1,000,000-1,500,000') * st.norm_scale('chr1')   # the balanced input
    pred = clr.matrix(balance=False).fetch('chr1:1,000,000-1,500,000')
    sel = (np.abs(np.subtract.outer(np.arange(100), np.arange(100))) < H) & np.isfinite(obs) & (obs > 0)
    np.testing.assert_allclose(pred[sel], obs[sel], rtol=4e-3)                            # float16 storage

def test_cool_with_a_chromosome_not_predicted(st, synth, tmp_path):
    import cooler
    out = predict_maps(st, identity, tmp_path/'chr2.cool', chroms=['chr2'], progress=False)
    clr = cooler.Cooler(str(out))
    pd.testing.assert_frame_equal(clr.bins()[:][['chrom', 'start', 'end']], input_bins(synth['hic'])[['chrom', 'start', 'end']])
    assert clr.chromnames == ['chr1', 'chr2'] and clr.info['metadata']['chroms'] == ['chr2']
    assert clr.matrix(balance=False).fetch('chr1').sum() == 0 and clr.matrix(balance=False).fetch('chr2').sum() > 0

def test_cool_of_a_clip255_store(tiny, tmp_path):
    "The reference transform is undone with the chromosome's max; a chromosome of the input without a store gets no pixels."
    import cooler
    st = Store(build_store(tiny['cool'], {'atac': tiny['atac']}, tmp_path/'s.mixhic', transform='clip255', chroms=['chr1'], progress=False))
    out = predict_maps(st, identity, tmp_path/'p.cool', progress=False)
    clr = cooler.Cooler(str(out))
    assert clr.chromnames == ['chr1', 'chr2']
    m = st.transform_info('chr1')['max']
    p = clr.pixels()[:]; band = stored_band(st, 'chr1')
    np.testing.assert_allclose(p['count'], band[p.bin1_id, p.bin2_id - p.bin1_id] * m, rtol=1e-5)
    assert (p.bin1_id < clr.offset('chr2')).all()

def test_write_cool_checks_bands(tmp_path):
    import cooler
    bins = cooler.binnify(pd.Series({'a': 30_000, 'b': 12_000}), 5000)
    band = np.array([[1., 2., np.nan], [0., -1., 3.], [5., 6., 7.], [1., 1., 1.], [1., 1., 1.], [2., 2., 2.]])
    out = write_pred_cool(tmp_path/'x.cool', bins, {'a': band}, 5000)
    m = cooler.Cooler(str(out)).matrix(balance=False)[:]
    assert m[0, 1] == 2 and m[1, 3] == 3 and m[0, 2] == 0 and m[1, 2] == 0   # NaN and negative pixels are not written
    assert m[5, 5] == 2 and m[4, 5] == 1 and np.allclose(m, m.T)
    assert m[:6, 6:].sum() == 0 and m[6:].sum() == 0                          # pixels past the end of a do not spill into b
    with pytest.raises(ValueError, match=r'band of a has shape \(5, 3\); expected \(6, k\)'):
        write_pred_cool(tmp_path/'y.cool', bins, {'a': band[:5]}, 5000)
    assert not (tmp_path/'y.cool').exists() and no_tmp_left(tmp_path/'y.cool')
    with pytest.raises(ValueError, match='bands of c have no bins'): write_pred_cool(tmp_path/'z.cool', bins, {'c': band}, 5000)
    with pytest.raises(ValueError, match='not res=10,000'): write_pred_cool(tmp_path/'z.cool', bins, {'a': band}, 10_000)

def test_input_bins_of_an_mcool(tmp_path):
    import cooler
    p = write_cool(f"{tmp_path/'m.mcool'}::resolutions/5000", TINY_SIZES)
    write_cool(f"{p}::resolutions/10000", TINY_SIZES, res=10_000)
    pd.testing.assert_frame_equal(input_bins(p, 10_000)[['chrom', 'start', 'end']].astype({'chrom': str}),
                                  cooler.binnify(pd.Series(TINY_SIZES), 10_000).astype({'chrom': str}), check_dtype=False)

class Boom(Exception): pass

def test_atomic_cool_when_fn_fails(st, tmp_path):
    "fn raising on the second chromosome leaves no file (or the old one untouched) and no temporary."
    calls = {'n': 0}
    def flaky(hic, trk):
        calls['n'] += 1
        if calls['n'] > 7: raise Boom('model failed')          # chr1 (600 bins) takes 6 batches of 4 tiles
        return identity(hic, trk)
    out = tmp_path/'pred.cool'
    with pytest.raises(Boom): predict_maps(st, flaky, out, bs=4, progress=False)
    assert calls['n'] > 6 and not out.exists() and no_tmp_left(out)       # chr1 was written into the temporary
    out.write_text('old'); calls['n'] = 0
    with pytest.raises(Boom): predict_maps(st, flaky, out, bs=4, progress=False, force=True)
    assert out.read_text() == 'old' and no_tmp_left(out)

def test_untransform():
    b = np.array([[np.log1p(9.), -1., np.nan]], np.float32)
    np.testing.assert_allclose(untransform(b, {'transform': 'log1p'})[0, :2], [9., 0.], rtol=1e-6)
    np.testing.assert_allclose(untransform(b, {'transform': 'clip255', 'max': 10.})[0, :2], [10 * np.log1p(9.), 0.], rtol=1e-6)
    np.testing.assert_allclose(untransform(b, {'transform': 'oe'})[0, :2], [np.log1p(9.), 0.], rtol=1e-6)
    assert np.isnan(untransform(b, {'transform': 'oe'})[0, 2]) and np.isfinite(b[0, 1])   # input left unchanged
    with pytest.raises(ValueError, match="unknown Hi-C transform 'vc'"): untransform(b, {'transform': 'vc'})

# ---------------------------------------------------------------------------------------------------------------
# errors

@pytest.mark.parametrize('what,call', [
    ('maps', lambda st, fn: predict_map_chrom(st, 'chr2', fn, bs=8, progress=False)),
    ('expr', lambda st, fn: predict_expr_chrom(st, 'chr2', fn, bs=8, progress=False)),
    ('loops', lambda st, fn: score_loops(st, fn, candidates(st, 'chr2', 4, 6).iloc[:8], bs=8, progress=False))])
def test_wrong_fn_shape(st, what, call):
    want = {'maps': r'\(8, 50, 50\)', 'expr': r'\(8, 50\)', 'loops': r'\(8,\)'}[what]
    bad = lambda hic, trk: np.zeros((len(hic), 3))
    with pytest.raises(ValueError, match=rf'fn returned shape \(8, 3\) for a batch of 8 windows; expected {want}'): call(st, bad)

def test_fn_may_return_tensors_with_a_channel(st):
    band = predict_map_chrom(st, 'chr2', lambda hic, trk: hic, progress=False)      # (b, 1, w, w) torch tensor
    np.testing.assert_array_equal(band, predict_map_chrom(st, 'chr2', identity, progress=False))

def test_unknown_chromosome(st, tmp_path):
    with pytest.raises(ValueError, match="no chromosome 'chrX'"): predict_maps(st, identity, tmp_path/'x.cool', chroms=['chrX'])
    with pytest.raises(ValueError, match="no chromosome 'chr9'"): candidates(st, 'chr9')
    with pytest.raises(ValueError, match="no chromosome 'chrM'"): predict_expression(st, mean_signal, tmp_path/'e.tsv', chroms='chrM')
    assert not (tmp_path/'x.cool').exists() and not (tmp_path/'e.tsv').exists()

# ---------------------------------------------------------------------------------------------------------------
# loops

def test_candidates_distance_and_window_bounds(st):
    n = st.n_bins['chr2']
    cd = candidates(st, 'chr2', 4, 10)
    brute = {(a, b) for a in range(n) for b in range(a + 4, a + 11) if a - H >= 0 and b - H + W <= n}
    assert set(zip(cd.a, cd.b)) == brute and len(cd) == len(brute) and (cd.chrom == 'chr2').all()
    full = candidates(st, 'chr2')
    d = full.b - full.a
    assert d.min() == st.cfg.min_dist_bins == 4 and d.max() == min(st.cfg.max_dist_bins, n - W)
    assert full.a.min() - H == 0 and (full.b - H + W).max() == n
    anc = np.array([30, 40, 41, 60, 300, 30])
    assert list(zip(*candidates(st, 'chr2', 5, 30, anchors=anc)[['a', 'b']].T.values)) == [(30, 40), (30, 41), (30, 60), (40, 60), (41, 60)]
    with pytest.raises(ValueError, match='min_dist_bins 20 > max_dist_bins 10'): candidates(st, 'chr2', 20, 10)

def test_candidates_capped_at_the_band(st, caplog):
    with caplog.at_level(logging.WARNING, logger='mixhic'): cd = candidates(st, 'chr1', 390, 10_000)
    assert (cd.b - cd.a).max() == st.cfg.band_bins - W == 400 and 'farther than the store keeps' in caplog.text

def test_signal_anchors(st):
    s = np.asarray(st.track_bins('chr1'), dtype=np.float32).reshape(st.n_bins['chr1'], -1).sum(1)
    anc = signal_anchors(st, 'chr1', q=0.9)
    assert abs(len(anc) - 0.1 * len(s)) <= 2 and (np.diff(anc) > 0).all()
    rest = np.setdiff1d(np.arange(len(s)), anc)
    assert s[anc].min() >= s[rest].max()
    assert len(signal_anchors(st, 'chr1', q=0.5)) >= 4 * len(anc)
    with pytest.raises(ValueError, match='q must be in'): signal_anchors(st, 'chr1', q=1.0)

def test_score_loops_keeps_order_across_chromosomes(st):
    cd = pd.concat([candidates(st, 'chr2', 4, 8).iloc[::97], candidates(st, 'chr1', 50, 52).iloc[::131],
                    candidates(st, 'chr2', 30, 31).iloc[::53]], ignore_index=True)
    sc = score_loops(st, centre, cd, bs=5, progress=False)
    want = [np.nan_to_num(st.hic(c, a - H, b - H)[H, H]) for c, a, b in zip(cd.chrom, cd.a, cd.b)]
    np.testing.assert_allclose(sc, want, rtol=1e-3)
    with pytest.raises(ValueError, match='no loop candidates'): score_loops(st, centre, cd.iloc[:0])

def test_merge_hits():
    rows = [('chr1', 10, 20, .9), ('chr1', 11, 21, .8), ('chr1', 12, 22, .95), ('chr1', 13, 23, .6),   # a diagonal chain: one loop
            ('chr1', 10, 23, .7),                                                                      # 2 bins from the chain
            ('chr1', 30, 40, .7), ('chr1', 32, 40, .99), ('chr1', 31, 40, .1),                        # a low pixel does not bridge
            ('chr2', 10, 20, .5), ('chr2', 11, 21, .4)]                                                # same bins, other chromosome
    df = pd.DataFrame(rows, columns=['chrom', 'a', 'b', 'score'])
    m = merge_hits(df)
    assert list(m.columns) == ['chrom', 'a', 'b', 'score', 'n_pixels']
    assert m[['chrom', 'a', 'b', 'n_pixels']].values.tolist() == [['chr1', 10, 23, 1], ['chr1', 12, 22, 4], ['chr1', 30, 40, 1],
                                                                  ['chr1', 32, 40, 1], ['chr2', 10, 20, 1]]
    np.testing.assert_allclose(m.score, [.7, .95, .7, .99, .5])
    m2 = merge_hits(df, gap=2)
    assert m2[['chrom', 'a', 'b', 'n_pixels']].values.tolist() == [['chr1', 12, 22, 5], ['chr1', 32, 40, 2], ['chr2', 10, 20, 1]]
    assert len(merge_hits(df, threshold=.999)) == 0 and list(merge_hits(df, threshold=.999).columns) == list(m.columns)

def test_bedpe_round_trip(tmp_path):
    sizes = {'chr1': 3_000_000, 'chr2': 1_997_000}
    loops = pd.DataFrame({'chrom': ['chr1', 'chr1', 'chr2'], 'a': [10, 100, 5], 'b': [30, 499, 399], 'score': [0.91, 0.5, 0.123456789]})
    p = write_bedpe(tmp_path/'l.bedpe', loops, 5000, sizes)
    lines = p.read_text().splitlines()
    assert len(lines) == 3 and all(len(l.split('\t')) == 8 for l in lines)
    back, rep = read_bedpe(p, sizes)
    assert rep == {} and back.chrom.tolist() == loops.chrom.tolist()
    assert back.start1.tolist() == (loops.a * 5000).tolist() and back.end1.tolist() == ((loops.a + 1) * 5000).tolist()
    assert back.start2.tolist() == (loops.b * 5000).tolist()
    assert back.end2.tolist() == [155_000, 2_500_000, 1_997_000]                 # cut at the end of chr2
    np.testing.assert_allclose(back.score, loops.score, rtol=1e-5)             # BEDPE: column 7 the name, 8 the score
    assert (back.name == '.').all()

def test_predict_loops(st, tmp_path):
    thr = float(np.nanquantile(stored_band(st, 'chr2')[:, 4:40], 0.995))
    fn = lambda hic, trk: (hic[:, 0, H, H] >= thr).float().numpy()
    out = tmp_path/'calls.bedpe'
    loops = predict_loops(st, fn, out, chroms=['chr2'], max_dist_bins=40, progress=False)
    cd = candidates(st, 'chr2', max_dist_bins=40)
    want = merge_hits(cd.assign(score=score_loops(st, fn, cd, progress=False)))
    pd.testing.assert_frame_equal(loops, want)
    assert len(loops) > 0 and (loops.score == 1).all()
    back, _ = read_bedpe(out, st.chromsizes)
    assert back.start1.tolist() == (loops.a * st.res).tolist() and back.start2.tolist() == (loops.b * st.res).tolist()
    sig = predict_loops(st, fn, tmp_path/'sig.bedpe', chroms=['chr2'], max_dist_bins=40, anchors='signal', progress=False)
    anc = set(signal_anchors(st, 'chr2'))
    assert set(sig.a) | set(sig.b) <= anc
    with pytest.raises(ValueError, match='no loop candidates on chr2'):
        predict_loops(st, fn, tmp_path/'none.bedpe', chroms=['chr2'], min_dist_bins=399, max_dist_bins=399, progress=False)
    with pytest.raises(ValueError, match="anchors must be 'all' or 'signal'"): predict_loops(st, fn, out, anchors='ctcf')
    assert not (tmp_path/'none.bedpe').exists()

# ---------------------------------------------------------------------------------------------------------------
# expression

def test_expression_profile_and_table(st, tmp_path):
    import pyBigWig
    tab = predict_expression(st, mean_signal, tmp_path/'e.tsv', tmp_path/'e.bw', progress=False)
    g = st.table('genes')
    assert len(tab) == len(g) and list(tab.columns) == ['chrom', 'tss', 'bin', 'name', 'pred', 'obs']
    for c in st.chroms:
        sel = tab.chrom == c
        np.testing.assert_allclose(tab.pred[sel], bin_signal(st, c)[tab.bin[sel]], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(tab.obs, g.value)
    back = pd.read_csv(tmp_path/'e.tsv', sep='\t', dtype={'name': str})
    assert back.name.tolist() == tab.name.tolist() and np.allclose(back.pred, tab.pred, rtol=1e-5)
    bw = pyBigWig.open(str(tmp_path/'e.bw'))
    try:
        assert bw.chroms() == st.chromsizes
        iv = bw.intervals('chr2')
        assert len(iv) == st.n_bins['chr2'] and iv[3][:2] == (15_000, 20_000) and iv[-1][1] == st.chromsizes['chr2']
        np.testing.assert_allclose([v for _, _, v in iv], bin_signal(st, 'chr2'), rtol=1e-4, atol=1e-5)
    finally: bw.close()

def test_write_bigwig_positions(tmp_path):
    import pyBigWig
    sizes = {'a': 23_000, 'b': 10_000, 'c': 5_000}
    p = write_pred_bigwig(tmp_path/'x.bw', sizes, {'a': np.array([1., np.nan, 3., 4., 5.]), 'b': np.array([np.nan, np.nan])}, 5000)
    bw = pyBigWig.open(str(p))
    try:
        assert bw.chroms() == sizes
        assert bw.intervals('a') == ((0, 5000, 1.), (10_000, 15_000, 3.), (15_000, 20_000, 4.), (20_000, 23_000, 5.))
        assert bw.intervals('b') is None and bw.intervals('c') is None
    finally: bw.close()
    with pytest.raises(ValueError, match='a: 4 values; expected 5 bins'): write_pred_bigwig(tmp_path/'y.bw', sizes, {'a': np.ones(4)}, 5000)
    with pytest.raises(ValueError, match="no chromosome 'd'"): write_pred_bigwig(tmp_path/'y.bw', sizes, {'d': np.ones(1)}, 5000)
    assert not (tmp_path/'y.bw').exists()

def test_atomic_expression_when_fn_fails(st, tmp_path):
    def bad(hic, trk): raise Boom('model failed')
    with pytest.raises(Boom): predict_expression(st, bad, tmp_path/'e.tsv', tmp_path/'e.bw', progress=False)
    assert not list(tmp_path.iterdir())

# ---------------------------------------------------------------------------------------------------------------
# predicted maps that the field's tools open: a weight column, a band of uniform depth, an .mcool

C = 3.0                                                     # the contact every pixel of the constant model predicts
def constant(hic, trk): return np.full((len(hic), W, W), np.log1p(C), np.float32)   # in the store's log1p space

@pytest.fixture(scope='module')
def const_cool(st, tmp_path_factory):
    "A .cool of the constant model on chr2 of the synthetic store; chr1 is not predicted."
    return predict_maps(st, constant, tmp_path_factory.mktemp('const')/'c.cool', chroms=['chr2'], progress=False)

def test_cool_opens_balanced(st, const_cool):
    "A weight column of 1: balance=True (cooler's default) reads the values as written; chr1, not predicted, is masked."
    import cooler
    clr = cooler.Cooler(str(const_cool))
    assert 'weight' in clr.bins().columns
    w = clr.bins()[:].set_index('chrom')['weight']
    assert (w.loc['chr2'] == 1).all() and w.loc['chr1'].isna().all()
    bal, raw = clr.matrix().fetch('chr2'), clr.matrix(balance=False).fetch('chr2')
    np.testing.assert_array_equal(bal, raw)
    assert np.isnan(clr.matrix().fetch('chr1')).all() and clr.matrix(balance=False).fetch('chr1').sum() == 0
    md = clr.info['metadata']
    assert md['values'] == 'balanced contacts' and md['band_bins'] == H + 1 and md['weight'].startswith('ones')

def test_band_has_uniform_depth(st, const_cool):
    "Every row holds the pixels 0..w - stride bins from the diagonal, none farther: no staircase at the band's edge."
    import cooler
    n = st.n_bins['chr2']
    m = cooler.Cooler(str(const_cool)).matrix(balance=False).fetch('chr2')
    k = np.subtract.outer(np.arange(n), np.arange(n))                     # i - j: pixels below the diagonal are k < 0
    up = np.where(k <= 0, m, 0)
    depth = (up > 0).sum(1)
    assert (depth[:n - H] == H + 1).all() and (depth[n - H:] == n - np.arange(n - H, n)).all()
    np.testing.assert_allclose(m[(np.abs(k) <= H)], C, rtol=1e-6)         # the whole band, symmetric, at the value
    assert (m[np.abs(k) > H] == 0).all()
    band = predict_map_chrom(st, 'chr2', constant, stride=10, progress=False)
    assert (np.isfinite(band[:n - W]).sum(1) == W - 10 + 1).all()           # a smaller stride: a deeper band, as uniform

def test_expected_cis_of_a_predicted_cool(const_cool):
    "cooltools reads the prediction with its defaults: the expected is C up to the band's depth, 0 beyond, NaN on chr1."
    cooltools = pytest.importorskip('cooltools')
    import cooler
    exp = cooltools.expected_cis(cooler.Cooler(str(const_cool)), smooth=False, ignore_diags=0)
    e2 = exp[exp.region1 == 'chr2'].set_index('dist')['balanced.avg']
    np.testing.assert_allclose(e2.loc[:H], C, rtol=1e-6)
    assert (e2.loc[H + 1:] == 0).all()
    assert exp[exp.region1 == 'chr1']['balanced.avg'].isna().all()

def test_mcool_for_higlass(st, const_cool, tmp_path):
    "An .mcool out: every resolution of MCOOL_ZOOMS, each with weights, each summing to the base's contacts."
    import cooler
    from mixhic.predict import MCOOL_ZOOMS
    out = predict_maps(st, constant, tmp_path/'c.mcool', chroms=['chr2'], progress=False)
    res = [int(r.rsplit('/', 1)[1]) for r in cooler.fileops.list_coolers(str(out))]
    assert res == [st.res * z for z in MCOOL_ZOOMS] and not list(tmp_path.glob('.*'))   # no temporary left
    base = cooler.Cooler(f'{out}::/resolutions/{st.res}')
    np.testing.assert_array_equal(base.pixels()[:], cooler.Cooler(str(const_cool)).pixels()[:])
    total = base.pixels()[:]['count'].sum()
    for r in res:
        clr = cooler.Cooler(f'{out}::/resolutions/{r}')
        assert clr.binsize == r and 'weight' in clr.bins().columns
        assert clr.pixels()[:]['count'].sum() == pytest.approx(total, rel=1e-5)
        assert np.nansum(clr.matrix().fetch('chr2')) > 0 and np.isnan(clr.matrix().fetch('chr1')).all()
