"""Metrics against hand-worked cases, naive reference loops and sklearn: argument order, NaN handling, bad inputs."""
from __future__ import annotations
import numpy as np, pandas as pd, pytest
from scipy.linalg import toeplitz
from scipy.stats import pearsonr, rankdata
from sklearn.metrics import r2_score, roc_auc_score, average_precision_score, f1_score, precision_score, recall_score
from mixhic.store import Store
from mixhic.metrics import (r2, pearson, per_sample_pearson, diag_pearson, scc, insulation, insulation_corr, map_metrics,
                            expected_map, best_threshold, loop_metrics, oe_score, expected_by_distance, expr_metrics, mean_baseline)

def sym_maps(n=6, w=12, seed=0)->np.ndarray:
    "Random symmetric maps (n, w, w) with a distance decay."
    rng = np.random.default_rng(seed)
    x = rng.random((n, w, w)); x = (x + x.transpose(0, 2, 1)) / 2
    return x + 3 * toeplitz(1 / (1 + np.arange(w)))[None]

def noisy(x, sd, seed=1)->np.ndarray:
    e = sd * np.random.default_rng(seed).standard_normal(x.shape)
    return x + (e + e.transpose(0, 2, 1)) / 2

# ---------------------------------------------------------------------------------------------------------------
# pooled

def test_r2_hand_and_order():
    assert r2([1., 2, 3], [1., 2, 2]) == pytest.approx(0.5)                     # SS_res 1, SS_tot 2
    assert r2([1., 2, 2], [1., 2, 3]) == pytest.approx(1 - 1 / (2 / 3))         # swapped: SS_tot of (1, 2, 2) is 2/3
    t, p = sym_maps(), noisy(sym_maps(), 0.5)
    assert r2(t, p) == pytest.approx(r2_score(t.ravel(), p.ravel()))
    assert r2(p, t) == pytest.approx(r2_score(p.ravel(), t.ravel()))
    assert r2(t, p) != pytest.approx(r2(p, t))                                  # SPEC defect 6: the order matters

def test_r2_nan_and_constant():
    assert r2([1., 2, np.nan, 3, 7], [1., 2, 5, 2, np.inf]) == pytest.approx(0.5)   # non-finite pairs dropped
    assert np.isnan(r2([2., 2, 2], [1., 2, 3]))                                 # SS_tot = 0: undefined
    assert np.isnan(r2([np.nan, 1.], [1., np.nan]))                             # no finite pair

def test_pearson():
    a, b = np.array([1., 2, 3, 4]), np.array([2., 1, 4, 3])
    assert pearson(a, b) == pytest.approx(0.6)
    assert pearson(a, b) == pytest.approx(pearson(b, a))
    assert pearson(np.r_[a, np.nan, 9], np.r_[b, 1, np.inf]) == pytest.approx(0.6)
    assert pearson(a[None, :, None], b[None, :, None]) == pytest.approx(0.6)      # any shape, flattened
    assert np.isnan(pearson([1., 1, 1], [1., 2, 3])) and np.isnan(pearson([1., 2, 3], [5., 5, 5]))
    assert np.isnan(pearson([1.], [2.]))
    assert pearson(a * 1e6, -b) == pytest.approx(-0.6)

@pytest.mark.parametrize('f', [r2, pearson, per_sample_pearson, diag_pearson, scc, insulation_corr, map_metrics, expr_metrics])
def test_shape_mismatch_names_both_shapes(f):
    t = sym_maps(3, 10)
    with pytest.raises(ValueError, match=r'\(3, 10, 10\).*\(3, 10, 9\)'): f(t, t[:, :, :9])

@pytest.mark.parametrize('f', [r2, pearson, per_sample_pearson, diag_pearson, scc, insulation_corr, map_metrics, expr_metrics])
def test_empty_input(f):
    with pytest.raises(ValueError, match='empty'): f(np.zeros((0, 5, 5)), np.zeros((0, 5, 5)))

@pytest.mark.parametrize('f', [diag_pearson, scc, insulation_corr, map_metrics])
def test_maps_must_be_square_stacks(f):
    with pytest.raises(ValueError, match=r'\(n, w, w\), got shape \(4, 5\)'): f(np.ones((4, 5)), np.ones((4, 5)))

# ---------------------------------------------------------------------------------------------------------------
# per sample, per distance

def test_per_sample_pearson():
    t = np.array([[1., 2, 3, 4], [1, 2, 3, 4], [5, 5, 5, 5]])
    p = np.array([[2., 4, 6, 8], [4, 3, 2, 1], [1, 2, 3, 4]])
    r = per_sample_pearson(t, p)
    assert r[:2] == pytest.approx([1, -1]) and np.isnan(r[2])                  # a constant sample: NaN
    m = sym_maps(); q = noisy(m, 0.3)
    assert per_sample_pearson(m, q) == pytest.approx([pearsonr(a.ravel(), b.ravel())[0] for a, b in zip(m, q)])
    with pytest.raises(ValueError, match=r'\(n, \.\.\.\)'): per_sample_pearson([1., 2], [1., 2])

def test_diag_pearson_pools_one_diagonal_over_samples():
    t, p = sym_maps(4, 8), noisy(sym_maps(4, 8), 0.4)
    df = diag_pearson(t, p)
    assert list(df.columns) == ['d', 'n', 'pearson'] and df.d.tolist() == list(range(8))
    assert df.n.tolist() == [4 * (8 - d) for d in range(8)]
    for d in (0, 3, 6):
        a = np.concatenate([np.diag(x, d) for x in t]); b = np.concatenate([np.diag(x, d) for x in p])
        assert df.pearson[d] == pytest.approx(pearsonr(a, b)[0])
    sub = diag_pearson(t, p, min_d=2, max_d=4)
    assert sub.d.tolist() == [2, 3, 4] and sub.pearson.tolist() == pytest.approx(df.pearson[2:5].tolist())

def test_diag_pearson_nan_and_bounds():
    t, p = sym_maps(2, 6), noisy(sym_maps(2, 6), 0.4)
    p[0, 1, 2] = np.nan                                                         # one pixel of diagonal 1 (upper triangle)
    df = diag_pearson(t, p)
    assert df.n[1] == 2 * 5 - 1 and df.n[0] == 12
    assert np.isnan(diag_pearson(t, np.broadcast_to(toeplitz(np.arange(6.)), t.shape)).pearson).all()   # constant per diagonal
    for kw in ({'max_d': 6}, {'min_d': -1}, {'min_d': 4, 'max_d': 2}):
        with pytest.raises(ValueError, match='min_d'): diag_pearson(t, p, **kw)

# ---------------------------------------------------------------------------------------------------------------
# SCC

def naive_scc(x, y, h, min_d=0, max_d=None)->float:
    "SCC of two (w, w) maps with explicit loops, straight from the definition (Yang et al. 2017)."
    w = len(x); ok = np.isfinite(x) & np.isfinite(y)
    def smooth(m):
        out = np.full((w, w), np.nan)
        for i in range(w):
            for j in range(w):
                if not ok[i, j]: continue
                box = m[max(i - h, 0):i + h + 1, max(j - h, 0):j + h + 1][ok[max(i - h, 0):i + h + 1, max(j - h, 0):j + h + 1]]
                out[i, j] = box.mean()
        return out
    sx, sy = smooth(x), smooth(y)
    num = den = 0.
    for d in range(min_d, (w - 1 if max_d is None else max_d) + 1):
        a, b = np.diag(sx, d), np.diag(sy, d)
        keep = np.isfinite(a) & np.isfinite(b) & ~((a == 0) & (b == 0)); a, b = a[keep], b[keep]
        n = len(a)
        if n < 2 or np.ptp(a) == 0 or np.ptp(b) == 0: continue
        wk = n * np.sqrt(np.var(rankdata(a) / n, ddof=1) * np.var(rankdata(b) / n, ddof=1))
        num += wk * pearsonr(a, b)[0]; den += wk
    return num / den if den else np.nan

def test_scc_hand_worked_two_strata():
    x = np.array([[1., 5, 9], [5, 2, 4], [9, 4, 3]]); y = np.array([[1., 4, 0], [4, 3, 5], [0, 5, 2]])
    # diagonal 0: r = 0.5, weight 3 * (1/9); diagonal 1: r = -1, weight 2 * (1/8); diagonal 2: one pixel, skipped
    assert scc(x[None], y[None], h=0) == pytest.approx([-1 / 7])
    assert scc(x[None], y[None], h=0, max_d=0) == pytest.approx([0.5])

@pytest.mark.parametrize('h', [0, 1, 2])
def test_scc_matches_naive_loops(h):
    t = sym_maps(4, 9, seed=3); p = noisy(t, 0.5, seed=4)
    t[1, 2, 5] = t[1, 5, 2] = np.nan; p[2, 0, 0] = np.inf                        # non-finite pixels dropped from both
    t[3, :3, :3] = p[3, :3, :3] = 0                                               # zero in both: left out
    got = scc(t, p, h=h, min_d=1, max_d=7)
    assert got == pytest.approx([naive_scc(a, b, h, 1, 7) for a, b in zip(t, p)])

def test_scc_properties():
    t = sym_maps(5, 12)
    assert scc(t, t) == pytest.approx(np.ones(5))
    s = np.stack([scc(t, noisy(t, sd)) for sd in (0.02, 0.1, 0.3)])
    assert ((s > 0) & (s < 1)).all() and (np.diff(s, axis=0) < 0).all()          # falls as the noise grows
    p = noisy(t, 0.3)
    assert scc(t, p) == pytest.approx(scc(p, t))                                # symmetric
    assert scc(t[::-1], p[::-1]) == pytest.approx(scc(t, p)[::-1])              # per sample, independent of the others
    assert np.isnan(scc(t, np.broadcast_to(toeplitz(np.arange(12.)), t.shape), h=0)).all()
    with pytest.raises(ValueError, match='h=-1'): scc(t, p, h=-1)
    with pytest.raises(ValueError, match='max_d=12'): scc(t, p, max_d=12)

# ---------------------------------------------------------------------------------------------------------------
# insulation

def test_insulation_is_the_mean_of_the_square_across_each_bin():
    m = np.arange(100.).reshape(10, 10); m = m + m.T
    ins = insulation(m, 3)
    assert np.isnan(ins[:3]).all() and np.isnan(ins[7:]).all()
    for i in range(3, 7): assert ins[i] == pytest.approx(m[i - 3:i, i + 1:i + 4].mean())
    m[2, 5] = np.nan                                                            # inside the square of bin 4
    assert insulation(m, 3)[4] == pytest.approx(np.nanmean(m[1:4, 5:8]))

def test_insulation_finds_a_planted_boundary():
    w, b = 40, 17
    i = np.arange(w)
    tad = ((i <= b)[:, None] & (i <= b)[None]) | ((i >= b)[:, None] & (i >= b)[None])   # TADs 0..17 and 17..39
    ins = insulation(toeplitz(2 / (1 + i)) + tad, 4)
    assert np.nanargmin(ins) == b

def test_insulation_errors():
    with pytest.raises(ValueError, match=r'\(w, w\)'): insulation(np.ones((3, 4)))
    with pytest.raises(ValueError, match='size=5'): insulation(np.ones((10, 10)), 5)
    with pytest.raises(ValueError, match='size=0'): insulation(np.ones((10, 10)), 0)

def test_insulation_corr():
    t = sym_maps(3, 20); p = noisy(t, 0.3)
    a = np.concatenate([insulation(x, 4) for x in t]); b = np.concatenate([insulation(x, 4) for x in p])
    ok = np.isfinite(a)
    assert insulation_corr(t, p, 4) == pytest.approx(pearsonr(a[ok], b[ok])[0])
    assert insulation_corr(t, t, 4) == pytest.approx(1.0)

# ---------------------------------------------------------------------------------------------------------------
# all map metrics, baseline

def test_map_metrics():
    t = sym_maps(4, 16); p = noisy(t, 0.3)
    m = map_metrics(t, p, h=1, size=3)
    assert list(m) == ['r2', 'pearson', 'pearson_sample', 'scc', 'insulation_corr', 'pearson_diag',
                       'pearson_d1', 'pearson_d5', 'pearson_d10']                # d 25 lies beyond a 16-bin window
    assert m['pearson_diag'] == pytest.approx(np.nanmean(diag_pearson(t, p, min_d=1).pearson))
    assert m['pearson_d5'] == pytest.approx(diag_pearson(t, p, 5, 5).pearson[0])
    assert list(map_metrics(t, p, size=3, dists=(2,))).count('pearson_d2') == 1
    assert m['r2'] == pytest.approx(r2(t, p)) and m['pearson'] == pytest.approx(pearson(t, p))
    assert m['pearson_sample'] == pytest.approx(per_sample_pearson(t, p).mean())
    assert m['scc'] == pytest.approx(scc(t, p, 1).mean()) and m['insulation_corr'] == pytest.approx(insulation_corr(t, p, 3))
    assert all(isinstance(v, float) for v in m.values())
    assert map_metrics(t, p, size=3) == map_metrics(t.copy(), p.copy(), size=3)  # deterministic

def test_expected_map():
    maps = np.stack([toeplitz([4., 2, 0]), toeplitz([2., 0, 2])])
    maps[0, 0, 1] = np.nan                                                      # ignored
    e = expected_map(maps)
    assert e == pytest.approx(toeplitz([3., 2 / 3, 1]))                        # diagonal 1: (nan, 2) and (0, 0)
    assert np.array_equal(e, e.T)
    assert expected_map(maps, w=2) == pytest.approx(toeplitz([3., 2 / 3]))
    with pytest.raises(ValueError, match='w=4'): expected_map(maps, w=4)
    with pytest.raises(ValueError, match=r'\(n, w, w\)'): expected_map(np.ones((3, 3)))

# ---------------------------------------------------------------------------------------------------------------
# loops

def test_best_threshold_hand_and_ties():
    assert best_threshold([0, 0, 1, 1, 0, 1], [.1, .4, .35, .8, .2, .3]) == 0.3          # F1 6/7
    assert best_threshold([1, 0, 0, 1], [.9, .8, .7, .6]) == 0.6                       # F1 2/3 at .9 and at .6: the smaller
    assert best_threshold([1, 1, 0], [.5, .5, .5]) == 0.5

def test_best_threshold_brute_force():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300); p = np.round(np.clip(0.3 * y + rng.random(300) * 0.8, 0, 1), 2)   # rounded: many ties
    f1s = {t: f1_score(y, (p >= t).astype(int)) for t in np.unique(p)}
    best = max(f1s.values())
    assert best_threshold(y, p) == min(t for t, f in f1s.items() if f == pytest.approx(best, abs=1e-12))
    with pytest.raises(ValueError, match='no positive'): best_threshold([0, 0], [.2, .3])

def test_loop_metrics_agrees_with_sklearn():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 200); p = np.clip(0.35 * y + 0.65 * rng.random(200), 0, 1)
    m = loop_metrics(y, p)
    assert set(m) == {'auroc', 'auprc', 'f1', 'precision', 'recall', 'f1_opt', 'threshold', 'n_pos', 'n_neg'}
    assert m['auroc'] == pytest.approx(roc_auc_score(y, p)) and m['auprc'] == pytest.approx(average_precision_score(y, p))
    assert m['f1'] == pytest.approx(f1_score(y, (p >= 0.5).astype(int))) and m['precision'] == pytest.approx(precision_score(y, (p >= 0.5).astype(int)))
    assert m['recall'] == pytest.approx(recall_score(y, (p >= 0.5).astype(int)))
    assert m['threshold'] == best_threshold(y, p) and m['f1_opt'] == pytest.approx(f1_score(y, (p >= m['threshold']).astype(int)))
    assert (m['n_pos'], m['n_neg']) == (int(y.sum()), int((1 - y).sum()))
    given = loop_metrics(y, p, threshold=0.7)                                   # e.g. chosen on validation data
    assert given['threshold'] == 0.7 and given['f1_opt'] == pytest.approx(f1_score(y, (p >= 0.7).astype(int)))
    assert loop_metrics(y.astype(bool), p) == m                                 # booleans are labels too

def test_loop_metrics_edge_cases():
    one = loop_metrics([1, 1, 1], [.2, .6, .9])
    assert np.isnan(one['auroc']) and np.isnan(one['auprc']) and one['f1'] == pytest.approx(0.8)
    neg = loop_metrics([0, 0], [.2, .6])
    assert np.isnan(neg['auroc']) and np.isnan(neg['threshold']) and np.isnan(neg['f1_opt']) and neg['n_pos'] == 0
    m = loop_metrics([1, 0, 1, 0, np.nan], [.9, .1, np.nan, .3, .5])            # non-finite pairs dropped
    assert (m['n_pos'], m['n_neg']) == (1, 2) and m['auroc'] == 1.0
    with pytest.raises(ValueError, match=r'0/1 labels, got \[2.0\]'): loop_metrics([0, 2, 1], [.1, .2, .3])
    with pytest.raises(ValueError, match=r'y_true has shape \(3,\) but p has shape \(2,\)'): loop_metrics([0, 1, 1], [.1, .2])
    with pytest.raises(ValueError, match=r'shape \(n,\)'): loop_metrics([[0, 1]], [[.1, .2]])

def test_oe_score():
    hic = np.zeros((3, 5, 5)); hic[:, 2, 2] = [3., 2, 1]
    exp = np.array([9., 5, 1.5, 0.5])
    assert oe_score(hic, [1, 2, 3], exp) == pytest.approx([-2, 0.5, 0.5])
    assert oe_score(hic, np.array([1., 2, 3]), exp) == pytest.approx([-2, 0.5, 0.5])   # whole floats are fine
    with pytest.raises(ValueError, match='larger max_d'): oe_score(hic, [1, 2, 4], exp)
    with pytest.raises(ValueError, match='whole numbers'): oe_score(hic, [1, 2.5, 3], exp)
    with pytest.raises(ValueError, match=r'\(3,\)'): oe_score(hic, [1, 2], exp)
    with pytest.raises(ValueError, match='1-D'): oe_score(hic, [1, 2, 3], exp[None])

def test_expected_by_distance(synth_store):
    st = Store(synth_store)
    e = expected_by_distance(synth_store)                                       # a path works too
    assert e.shape == (st.cfg.band_bins,)
    allb = np.concatenate([st.band(c).astype(np.float64) for c in st.chroms])
    for d in (0, 1, 37, st.cfg.band_bins - 1): assert e[d] == pytest.approx(np.nanmean(allb[:, d]), rel=1e-6)
    one = expected_by_distance(st, ['chr2'], max_d=10)
    assert one == pytest.approx(np.nanmean(st.band('chr2')[:, :11].astype(np.float64), axis=0), rel=1e-6)
    assert (np.diff(e[:50]) < 0).mean() > 0.8                                    # contacts decay with distance
    with pytest.raises(ValueError, match="'chrX'"): expected_by_distance(st, ['chrX'])
    with pytest.raises(ValueError, match='max_d='): expected_by_distance(st, max_d=st.cfg.band_bins)

# ---------------------------------------------------------------------------------------------------------------
# expression

def test_expr_metrics_profiles():
    rng = np.random.default_rng(2)
    t = rng.random((30, 8)); p = t + 0.3 * rng.standard_normal(t.shape)
    t[0] = 1.0                                                                  # a constant profile: skipped per sample
    m = expr_metrics(t, p)
    assert set(m) == {'r2', 'pearson', 'pearson_gene', 'pearson_sample'}
    assert m['r2'] == pytest.approx(r2_score(t.ravel(), p.ravel())) and m['pearson'] == pytest.approx(pearson(t, p))
    assert m['pearson_gene'] == pytest.approx(pearsonr(t[:, 4], p[:, 4])[0])      # default TSS column w // 2
    assert m['pearson_sample'] == pytest.approx(np.mean([pearsonr(a, b)[0] for a, b in zip(t[1:], p[1:])]))
    assert expr_metrics(t, p, tss_bin=0)['pearson_gene'] == pytest.approx(pearsonr(t[:, 0], p[:, 0])[0])
    with pytest.raises(ValueError, match='tss_bin=8'): expr_metrics(t, p, tss_bin=8)

def test_expr_metrics_values():
    m = expr_metrics([1., 2, 3, 4], [2., 1, 4, 3])
    assert set(m) == {'r2', 'pearson', 'pearson_gene'} and m['pearson_gene'] == pytest.approx(0.6)
    assert m['r2'] == pytest.approx(r2_score([1, 2, 3, 4], [2, 1, 4, 3]))
    with pytest.raises(ValueError, match=r'\(n, w\) or \(n,\)'): expr_metrics(np.ones((2, 3, 3)), np.ones((2, 3, 3)))

def test_mean_baseline():
    b = mean_baseline([[1., 2], [3, np.nan], [5, 4]], 2)
    assert b.shape == (2, 2) and b == pytest.approx(np.array([[3., 3], [3, 3]]))
    assert mean_baseline([1., 2, 6], 4) == pytest.approx([3.] * 4)
    assert mean_baseline([1., 2], 0).shape == (0,)
    b[0, 0] = 9; assert b[1, 0] == 3                                           # rows are copies, not views
    with pytest.raises(ValueError, match='n=-1'): mean_baseline([1.], -1)
    with pytest.raises(ValueError, match='non-empty'): mean_baseline([], 3)

def test_loop_recovery_tolerance_and_order():
    from mixhic.metrics import loop_recovery
    known = pd.DataFrame({'chrom': ['chr1', 'chr1'], 'a': [10, 40], 'b': [20, 80]})
    # two calls near the same known loop: only the better-scored one matches; one call two bins off misses at tol 1
    called = pd.DataFrame({'chrom': ['chr1'] * 3, 'a': [11, 10, 42], 'b': [19, 21, 80], 'score': [0.5, 0.9, 0.8]})
    r = loop_recovery(called, known, tol=1)
    assert (r['n_matched'], r['precision'], r['recall']) == (1, 1 / 3, 0.5)
    assert r['auprc'] == pytest.approx(0.5)                 # the top call is right: precision 1 at recall 1/2
    assert loop_recovery(called, known, tol=2)['n_matched'] == 2
    assert loop_recovery(called.assign(chrom='chr2'), known)['n_matched'] == 0
    with pytest.raises(ValueError, match='no known loops'): loop_recovery(called, known.iloc[:0])
