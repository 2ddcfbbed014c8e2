"""Real data: K562 hg38 chr22 at 5 kb (Hi-C + DNase, ATAC, H3K27ac bigWigs + genes with RNA-seq TPM).

What a biologist would check: the store holds the chromosome SOURCE.md describes, exactly the diagonal windows one
counts from the cooler itself, tracks equal to pyBigWig's own 100-bp means, and the expression windows of the genes.
Every expected number is computed here from the input files with cooler / pyBigWig / pandas, not from mixhic.
"""
from __future__ import annotations
import numpy as np, pandas as pd, pytest
from mixhic.store import build_store, Store
from mixhic.data import window_index, make_datasets

W, STRIDE, MIN_NZ = 50, 12.5, 0.10    # the paper's window geometry (SPEC section 1)
TPM = 'K562_TPM_ENCFF934YBO'

@pytest.fixture(scope='module')
def st(k562, tmp_path_factory)->Store:
    out = tmp_path_factory.mktemp('k562')/'k562.mixhic'
    return Store(build_store(k562['cool'], {n: p for n, p in k562['tracks'].items()}, out, genes=k562['genes'],
                             expr_col=TPM, progress=False))

@pytest.fixture(scope='module')
def clr(k562):
    import cooler
    return cooler.Cooler(str(k562['cool']))

def window_status(clr, starts:np.ndarray)->np.ndarray:
    "'ok' / 'sparse' / 'nonfinite' / 'at_edge' of the diagonal windows at `starts`, from cooler's raw matrix + log1p."
    n = clr.info['nbins']
    out = np.full(len(starts), 'at_edge', dtype=object)
    inside = (starts >= 0) & (starts + W <= n)
    order = np.argsort(starts)
    blk_lo, blk = -1, None
    for k in order[inside[order]]:
        s = int(starts[k])
        if blk is None or s + W > blk_lo + 1000:                    # read 1000-bin blocks of the matrix, not 10,164^2
            blk_lo = s; blk = clr.matrix(balance=False)[s:min(n, s + 1000), s:min(n, s + 1000)].astype(np.float64)
        m = np.log1p(blk[s - blk_lo:s - blk_lo + W, s - blk_lo:s - blk_lo + W])
        out[k] = 'nonfinite' if not np.isfinite(m).all() else ('sparse' if np.count_nonzero(m) * 10 < m.size else 'ok')
    return out

def test_source_facts(st, clr):
    "SOURCE.md: chr22 of 50,818,468 bp (hg38), 10,164 bins of 5 kb, 1,063,677 non-zero pixels, no weights."
    assert clr.info['nnz'] == 1_063_677 and clr.binsize == 5_000
    assert st.chroms == ['chr22'] and st.chromsizes == {'chr22': 50_818_468} and st.n_bins == {'chr22': 10_164}
    m = st.manifest
    assert (m['hic']['assembly'], m['hic']['balance_asked'], m['hic']['norm'], m['hic']['transform']) == ('hg38', 'auto', 'none', 'log1p')
    assert st.tracks == ['dnase', 'atac', 'h3k27ac'] and st.res == 5_000
    # the raw contacts the band keeps: pixels less than band_bins diagonals off, summed here from cooler's pixel table
    px = clr.pixels()[:]
    in_band = px[(px.bin2_id - px.bin1_id) < st.cfg.band_bins]['count'].sum()
    assert m['chroms']['chr22']['raw_contacts_in_band'] == in_band

def test_track_coverage_matches_source(st):
    "SOURCE.md: DNase and H3K27ac cover 11.96 Mb (the same regions), ATAC 9.30 Mb."
    cov = st.manifest['chroms']['chr22']['covered_bp']
    assert cov['dnase'] == cov['h3k27ac'] and abs(cov['dnase'] - 11.96e6) < 0.01e6 and abs(cov['atac'] - 9.30e6) < 0.01e6

def test_diagonal_window_count(st, clr):
    "The manifest's window counts equal a count made from cooler: floor tiling every 12.5 bins, then the two filters."
    n = clr.info['nbins']
    starts = np.unique(np.floor(np.arange(0, n - W + 1, STRIDE)).astype(np.int64))
    assert len(starts) == 810 and starts[:4].tolist() == [0, 12, 25, 37]
    status = window_status(clr, starts)
    d = st.manifest['diag']
    assert d == {'total': len(starts), 'ok': int((status == 'ok').sum()), 'sparse': int((status == 'sparse').sum()),
                 'nonfinite': int((status == 'nonfinite').sum())}
    assert st.diag().i.tolist() == starts[status == 'ok'].tolist()

def pybigwig_means(path, chrom, start_bp, n_bins, bin_bp=100)->np.ndarray:
    "log2(1 + mean over each `bin_bp` bin, uncovered bases counted as 0), with pyBigWig's own exact sums."
    import pyBigWig
    bw = pyBigWig.open(str(path))
    s = bw.stats(chrom, start_bp, start_bp + n_bins * bin_bp, type='sum', nBins=n_bins, exact=True)
    return np.log2(1 + np.array([0 if v is None else v for v in s]) / bin_bp)

@pytest.mark.parametrize('i,j', [(None, None), (4_100, 4_180), (6_000, 5_990)])
def test_window_tracks_equal_pybigwig(st, k562, i, j):
    "Anchor 1's 2,500 bins, then anchor 2's, each track equal to pyBigWig's 100-bp means (float16 storage)."
    if i is None:                                                  # the diagonal window with the most DNase signal
        d = st.diag()
        i = j = int(d.i[np.argmax([st.trk('chr22', k, k)[:, 0].sum() for k in d.i])])
    trk = st.trk('chr22', i, j)
    assert trk.shape == (5000, 3)
    for t, name in enumerate(st.tracks):
        want = np.r_[pybigwig_means(k562['tracks'][name], 'chr22', i * 5000, 2500), pybigwig_means(k562['tracks'][name], 'chr22', j * 5000, 2500)]
        np.testing.assert_allclose(trk[:, t], want, rtol=2e-3, atol=1e-3, err_msg=name)
    assert trk.max() > 1                                           # real signal, not an all-zero stretch

@pytest.mark.parametrize('i,j', [(4_100, 4_100), (4_100, 4_180), (6_000, 5_990)])
def test_window_hic_equals_cooler(st, clr, i, j):
    "Rows = anchor 1, columns = anchor 2, log1p of the raw counts (float16 storage)."
    want = np.log1p(clr.matrix(balance=False)[i:i + W, j:j + W].astype(np.float64))
    np.testing.assert_allclose(st.hic('chr22', i, j), want, rtol=1e-3, atol=1e-3)

def test_expression_windows(st, clr, k562):
    "Each gene's window is centred on its TSS bin; the usable ones are counted from the gene table and the cooler."
    g = pd.read_csv(k562['genes'], sep='\t')
    assert len(g) == 517 and g[TPM].notna().sum() == 462           # SOURCE.md: 517 genes, 462 with a TPM
    i = (g.tss_0based // 5_000 - W // 2).to_numpy()
    status = window_status(clr, i)
    m = st.manifest['genes']
    assert m['total'] == 517 and m['value_col'] == TPM
    assert {k: m.get(k, 0) for k in ('ok', 'sparse', 'at_edge')} == {k: int((status == k).sum()) for k in ('ok', 'sparse', 'at_edge')}
    tab = st.table('genes')
    assert tab.status.tolist() == status.tolist() and tab.name.tolist() == g.symbol.tolist()
    # the expression samples: usable windows of genes with a TPM, each split's y the table's TPM
    usable = (status == 'ok') & g[TPM].notna().to_numpy()
    idx = pd.concat([window_index([st], 'expr', w) for w in ('train', 'valid', 'test')], ignore_index=True)
    assert 0 < len(idx) <= usable.sum()
    want = dict(zip(zip(i[usable], g[TPM][usable]), [True] * usable.sum()))
    assert all((r.i, r.y) in want for r in idx.itertuples())
    assert (idx.i == idx.j).all()

def test_pretrain_samples_have_paper_shapes(st):
    tr, va, te = make_datasets(st, 'pretrain')
    assert len(tr) + len(va) + len(te) <= st.manifest['diag']['ok'] and min(len(tr), len(va), len(te)) > 0
    hic, trk, pos = tr[0]
    assert tuple(hic.shape) == (1, 50, 50) and tuple(trk.shape) == (5000, 3) and pos.tolist()[2:] == [tr.index.i[0], tr.index.j[0]]
