"""The plotting layer: every function draws, returns its matplotlib objects, and puts maps and tracks on genomic axes."""
from __future__ import annotations
import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt
import numpy as np, pandas as pd, pytest
from mixhic.plot import (plot_map, plot_tracks, plot_window, plot_triangle, plot_compare, plot_loops, plot_region, plot_decay,
                         plot_curves, decay_curve, loop_points, color_norm, value_label, summarise_track)

START, RES, N = 2_000_000, 10_000, 40          # a 400-kb region at 10 kb: x from 2.0 to 2.4 Mb
MB = (START / 1e6, (START + N * RES) / 1e6)

@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close('all')

@pytest.fixture
def mat()->np.ndarray:
    "Contacts that decay with distance, a TAD over bins 0..19 and a loop dot at bins (5, 15)."
    i, j = np.indices((N, N)); d = np.abs(i - j)
    m = 100 / (1 + d) * np.where((i < 20) == (j < 20), 2, 1)
    m[5, 15] = m[15, 5] = 80
    return m

def test_map_ticks_in_plain_mb(mat):
    # the limits in Mb (rows downwards) and the x label are in 04_plot; the y label and the tick texts here
    ax = plot_map(np.log1p(mat), start_bp=START, res=RES, chrom='chr3')
    assert ax.get_xlabel() == ax.get_ylabel() == 'chr3 (Mb)'
    ax.figure.canvas.draw()
    assert [t.get_text() for t in ax.get_xticklabels() if t.get_text()][0] == '2'   # Mb, no offset or scientific notation

def test_map_off_diagonal_and_labels(mat):
    ax = plot_map(mat[:20, 20:], start_bp=(START, START + 200_000), res=RES)
    assert np.allclose(ax.get_xlim(), (2.2, 2.4)) and np.allclose(ax.get_ylim(), (2.2, 2.0))
    assert (ax.get_ylabel(), ax.get_xlabel()) == ('anchor 1 (Mb)', 'anchor 2 (Mb)')
    assert plot_map(mat[:20, 20:], start_bp=(START, START + 200_000), res=RES, chrom='chr1').get_xlabel() == 'chr1, anchor 2 (Mb)'

def test_map_colour_limits(mat):
    # LogNorm and the colour bar of log=True, and a linear scale from 0, are in 04_plot; the upper limits here
    nrm = plot_map(mat, start_bp=START, res=RES, log=True).images[0].norm
    assert 0 < nrm.vmin < nrm.vmax <= mat.max()
    lin = plot_map(mat, start_bp=START, res=RES).images[0].norm
    assert not isinstance(lin, matplotlib.colors.LogNorm) and lin.vmin == 0 and lin.vmax == pytest.approx(np.percentile(mat, 99))

def test_color_norm_errors_and_edges():
    with pytest.raises(ValueError, match='vmin=-1'): color_norm(np.ones((3, 3)), vmin=-1, log=True)
    with pytest.raises(ValueError, match='vmax=0'): color_norm(np.ones((3, 3)), vmax=0, log=True)
    n = color_norm(np.zeros((3, 3)), log=True)                                      # nothing positive: still a valid scale
    assert 0 < n.vmin < n.vmax
    n = color_norm(np.full((3, 3), 5.0), log=True)                                  # constant map: vmin below vmax
    assert n.vmin < n.vmax == 5
    with pytest.raises(ValueError, match=r'\(4,\)'): plot_map(np.ones(4))

def test_style_leaves_rcparams():
    before = dict(matplotlib.rcParams)
    plot_map(np.ones((4, 4))); plot_curves([{'epoch': 1, 'train_loss': 1.0}])
    assert dict(matplotlib.rcParams) == before                   # (plot_style itself: 04_plot)

def test_tracks_share_genomic_x():
    trk = np.random.default_rng(0).random((N * RES // 100, 3))
    axs = plot_tracks(trk, ['a', 'b', 'c'], start_bp=START, chrom='chr3')
    assert all(np.allclose(a.get_xlim(), MB) for a in axs) and [a.get_ylabel() for a in axs] == ['a', 'b', 'c']
    with pytest.raises(ValueError, match='2 names'): plot_tracks(trk, ['a', 'b'])

def test_window_x_follows_anchor_2(mat):
    "04_plot draws a diagonal window; off the diagonal the map's x axis is anchor 2's." 
    w = 20; trk = np.zeros((2 * w * RES // 100, 2))                                  # 100-bp track bins of both anchors
    fig = plot_window(np.log1p(mat[:w, 20:]), trk, ['atac', 'dnase'], start_bp=(START, START + 200_000), res=RES)
    assert np.allclose(fig.axes[0].get_xlim(), (2.2, 2.4))

def test_triangle_loops_and_mask(mat):
    trk = np.random.default_rng(0).random((N * RES // 100, 2))
    fig = plot_triangle(np.log1p(mat), START, RES, tracks=trk, names=['atac', 'dnase'], depth_bp=200_000, chrom='chr3',
                        loops=[(START + 55_000, START + 155_000), (START, START + 390_000)])   # the second beyond depth_bp
    # the shared x axis, the depth and the x label are in 04_plot; the loop marks and the masked triangle here
    ax, *taxs = fig.axes
    assert len(taxs) == 2 and ax.get_ylabel() == 'distance (Mb)'
    # the loop at bins (5, 15) sits at the middle of its anchors (bin 10.5 -> 2.105 Mb), 10 bins (0.1 Mb) up
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ['called (1)']
    (x, y), = ax.collections[-1].get_offsets()
    assert x == pytest.approx(2.105) and y == pytest.approx(0.1)
    # the rotated mesh holds the upper triangle only, the lower one masked
    mesh = ax.collections[0]
    assert mesh.get_array().count() == N * (N + 1) // 2

def test_triangle_errors(mat):
    with pytest.raises(ValueError, match=r'square map.*\(40, 20\)'): plot_triangle(mat[:, :20])
    with pytest.raises(ValueError, match='depth_bp'): plot_triangle(mat, depth_bp=0)
    fig = plot_triangle(mat, START, RES)                                                  # no tracks: one axes
    assert len(fig.axes) == 1 and fig.axes[0].get_xlabel() == 'position (Mb)'

def test_compare_difference_values(mat):
    obs, pred = np.log1p(mat), np.log1p(mat * 0.5)
    fig = plot_compare(obs, pred, START, RES, chrom='chr3', title='t')
    # one colour scale, a difference centred at 0, the x limits and a shape mismatch are in 04_plot
    a, b, c = fig.axes[:3]
    assert c.images[0].get_cmap().name == 'RdBu_r'
    np.testing.assert_allclose(c.images[0].get_array(), pred - obs)
    assert a.get_ylabel() == 'chr3 (Mb)' and fig.get_suptitle() == 't'
    with pytest.raises(ValueError, match=r'\(40, 40\).*\(40, 39\)'): plot_compare(obs, pred[:, 1:])

def test_compare_log_ratio(mat):
    fig = plot_compare(mat, mat * 10, START, RES, log=True)
    np.testing.assert_allclose(fig.axes[2].images[0].get_array(), 1.0)                  # log10(pred / obs)
    assert isinstance(fig.axes[0].images[0].norm, matplotlib.colors.LogNorm)

def test_compare_into_given_axes(mat):
    fig, axs = plt.subplots(1, 3)
    assert plot_compare(mat, mat, axs=axs) is fig

def test_loop_points_forms():
    bedpe = pd.DataFrame({'chrom1': ['chr1', 'chr2'], 'start1': [100, 1000], 'end1': [200, 2000],
                          'chrom2': ['chr1', 'chr2'], 'start2': [500, 5000], 'end2': [700, 6000]})
    # midpoints of a BEDPE, the chromosome filter and a missing start1 are in 04_plot; the other forms here
    read = bedpe.rename(columns={'chrom1': 'chrom'}).drop(columns='chrom2')                # `read_bedpe`'s columns
    assert loop_points(read, 'chr1').tolist() == [[150, 600]]
    assert loop_points([(1, 2), (3, 4)]).tolist() == [[1, 2], [3, 4]]
    assert loop_points(None).shape == loop_points([]).shape == (0, 2)
    with pytest.raises(ValueError, match='start2'): loop_points(pd.DataFrame({'start1': [1], 'end1': [2]}))

def test_loops_legend_counts(mat):
    bp = lambda r, c: (START + r * RES, START + c * RES)
    called = [bp(5, 15), bp(5, 30), bp(2, 38)]                      # one next to a true loop, two false
    true = pd.DataFrame({'chrom1': 'chr3', 'start1': [START + 6 * RES, START + 20 * RES, 9_000_000],
                         'end1': [START + 7 * RES, START + 21 * RES, 9_010_000], 'chrom2': 'chr3',
                         'start2': [START + 16 * RES, START + 35 * RES, 9_500_000], 'end2': [START + 17 * RES, START + 36 * RES, 9_510_000]})
    ax = plot_loops(mat, called, true, START, RES, tol_bins=1, chrom='chr3')
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts == ['true (2, 1 found)', 'called, matched (1)', 'called, false (2)']   # the loop outside the map is left out
    assert np.allclose(ax.get_xlim(), MB)                                                  # markers do not widen the axes
    sq, hit, miss = ax.collections
    assert np.allclose(hit.get_offsets(), [[2.155, 2.055]])                                # (column, row) centres in Mb
    # tol_bins=0 matching nothing: 04_plot
    ax = plot_loops(mat, [], true, START, RES, chrom='chr3')
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ['true (2, 0 found)']
    ax = plot_loops(mat, called, None, START, RES)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ['called (3)']
    assert plot_loops(mat, None, None, START, RES).get_legend() is None
    with pytest.raises(ValueError, match='tol_bins'): plot_loops(mat, called, true, tol_bins=-1)

def test_region_views(mat):
    trk = np.zeros((N * RES // 100, 1))
    sq = plot_region(mat, START, RES, trk, ['atac'], called=[(START + 50_000, START + 150_000)], chrom='chr3', log=True)
    assert len(sq.axes) == 2 and all(np.allclose(a.get_xlim(), MB) for a in sq.axes)
    assert sq.axes[0].get_legend() is not None
    tri = plot_region(mat, START, RES, trk, ['atac'], view='triangle', depth_bp=100_000)
    assert np.allclose(tri.axes[0].get_ylim(), (0, 0.1))      # (an unknown view: 04_plot)

def test_decay(mat):
    # the distances' range, the fall with distance, the log x axis and a line per map are in 04_plot
    s, p = decay_curve(mat, RES)
    assert len(p) == N - 1
    s0, _ = decay_curve(mat, RES, ignore_diags=0); assert s0[0] == 0
    ax = plot_decay({'obs': mat, 'pairs': (s, p * 2)}, res=RES)
    assert ax.get_yscale() == 'log' and len(ax.lines) == 2
    assert ax.lines[0].get_xdata()[0] == RES and 'distance' in ax.get_xlabel()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ['obs', 'pairs']
    assert len(plot_decay(mat, RES).lines) == 1
    with pytest.raises(ValueError, match='res'): plot_decay({'obs': mat})
    with pytest.raises(ValueError, match="'bad'"): plot_decay({'bad': (s, p[:-1])})

HIST = [{'epoch': e, 'train_loss': 1 / e, 'valid_loss': 1.2 / e, 'auroc': 0.5 + e / 20, 'auprc': 0.4 + e / 20, 'time': '00:01'}
        for e in range(1, 6)]

@pytest.mark.parametrize('form', ['list', 'frame', 'csv'])
def test_curves_forms(form, tmp_path):
    h = HIST if form == 'list' else pd.DataFrame(HIST)
    if form == 'csv': pd.DataFrame(HIST).to_csv(tmp_path/'history.csv', index=False); h = tmp_path/'history.csv'
    fig = plot_curves(h)
    a, b = fig.axes
    assert [l.get_label() for l in a.lines] == ['train loss', 'valid loss']
    assert [l.get_label() for l in b.lines] == ['auroc', 'auprc']                  # 'time' (text) and 'epoch' are left out
    assert a.lines[0].get_xdata().tolist() == [1, 2, 3, 4, 5] and a.get_xlabel() == 'epoch'
    np.testing.assert_allclose(a.lines[1].get_ydata(), [1.2 / e for e in range(1, 6)])

def test_curves_pretrain_rows():
    pre = [{'epoch': e, 'train_loss': 2 / e, 'valid_loss': 2 / e, 'contrastive': 3 / e, 'orthogonality': 0.01, 'mapping': 0.5,
            'tau': 0.07, 'top1_trk2hic': e / 10, 'top1_hic2trk': e / 12, 'time': '00:02', 'warmup': e < 2} for e in range(1, 5)]
    fig = plot_curves(pre)
    a, b = fig.axes
    assert [l.get_label() for l in a.lines] == ['train loss', 'valid loss', 'contrastive', 'orthogonality', 'mapping']
    assert [l.get_label() for l in b.lines] == ['tau', 'top1_trk2hic', 'top1_hic2trk']
    # the warm-up shading, keys=['top1_trk2hic'] and keys=[] are in 04_plot

def test_curves_errors():
    # a missing key and a missing file are in 04_plot
    with pytest.raises(ValueError, match='no rows'): plot_curves([])
    with pytest.raises(ValueError, match='int'): plot_curves(3)

def test_figure_saves(mat, tmp_path):
    "What the functions return is a figure a user can save (the CLI does this)."
    fig = plot_triangle(mat, START, RES, tracks=np.ones((N * RES // 100, 1)))
    fig.savefig(tmp_path/'t.pdf'); fig.savefig(tmp_path/'t.png', dpi=40)
    assert (tmp_path/'t.pdf').read_bytes()[:4] == b'%PDF' and (tmp_path/'t.png').read_bytes()[:4] == b'\x89PNG'

# ---------------------------------------------------------------------------------------------------------------
# what a reader of the field expects of a figure: a labelled colour bar on every map, titles and labels that do not
# collide, and tracks over long regions drawn as a filled signal rather than a barcode of one-pixel spikes

def _colour_bars(fig)->list:
    "Labels of every colour bar of `fig`: separate axes (plot_compare) or insets of an axes (the others)."
    axs = fig.axes + [c for a in fig.axes for c in a.child_axes]
    return [a.get_ylabel() for a in axs if a.get_label() == '<colorbar>' or a in [c for b in fig.axes for c in b.child_axes]]

def _maps(mat):
    trk = np.random.default_rng(0).random((N * RES // 100, 2))
    w = np.log1p(mat[:20, :20]); wt = np.random.default_rng(1).random((2 * 20 * RES // 100, 2))
    return {'map': plot_map(mat, start_bp=START, res=RES, log=True, title='t').figure,
            'loops': plot_loops(np.log1p(mat), [(START, START + 100_000)], None, START, RES, title='t').figure,
            'window': plot_window(w, wt, ['atac', 'dnase'], (START, START), RES, title='a window'),
            'compare': plot_compare(np.log1p(mat), np.log1p(mat), START, RES, title='t'),
            'square': plot_region(np.log1p(mat), START, RES, trk, ['atac', 'dnase'], chrom='chr3', title='a region'),
            'triangle': plot_region(np.log1p(mat), START, RES, trk, ['atac', 'dnase'], view='triangle', chrom='chr3',
                                    called=[(START + 50_000, START + 150_000)], title='a region')}

def test_every_map_has_a_labelled_colour_bar(mat):
    for name, fig in _maps(mat).items():
        bars = _colour_bars(fig)
        assert bars and all(bars), f'{name}: colour bars {bars}'
    assert _colour_bars(plot_map(mat, log=True).figure) == ['contacts']
    lab = value_label('oe', 'KR')
    assert _colour_bars(plot_region(np.log1p(mat), START, RES, label=lab)) == [lab]
    assert _colour_bars(plot_region(np.log1p(mat), START, RES, view='triangle', label=lab)) == [lab]
    assert _colour_bars(plot_map(mat, colorbar=False).figure) == []

def _text_boxes(fig)->list:
    "(text, window extent) of the figure's title and every axes' title and axis labels, drawn."
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    texts = list(fig.texts) + [t for a in fig.axes for t in (a.title, a.xaxis.label, a.yaxis.label)]
    return [(t.get_text(), t.get_window_extent(r)) for t in texts if t.get_visible() and t.get_text()]

def test_titles_and_labels_do_not_overlap(mat):
    "No title or axis label runs into another, and the figure title stays clear of every axes."
    for name, fig in _maps(mat).items():
        boxes = _text_boxes(fig)
        for k, (t1, b1) in enumerate(boxes):
            for t2, b2 in boxes[k + 1:]: assert not b1.overlaps(b2), f'{name}: {t1!r} overlaps {t2!r}'
        if fig.get_suptitle():
            sup = fig._suptitle.get_window_extent(fig.canvas.get_renderer())
            hit = [a for a in fig.axes if a.get_window_extent().overlaps(sup)]
            assert not hit, f'{name}: the title {fig.get_suptitle()!r} overlaps an axes'

def test_long_tracks_are_averaged_not_barcoded():
    "Tracks of a 10-Mb region (100,000 bins of 100 bp) are drawn as the means of runs of 100 bins: 1,000 steps."
    trk = np.zeros((100_000, 1)); trk[::100] = 100.0                     # one spike per 10 kb: a barcode if drawn bin by bin
    ax, = plot_tracks(trk, ['atac'], start_bp=0, trk_res=100)
    step, = ax.patches
    vals, edges, _ = step.get_data()
    assert len(vals) == 1000 and np.allclose(vals, 1.0) and edges[1] - edges[0] == pytest.approx(0.01)   # 10-kb means in Mb
    assert np.allclose(ax.get_xlim(), (0, 10))
    short, = plot_tracks(trk[:500], ['atac'], trk_res=100)                # a short track keeps every bin
    assert len(short.patches[0].get_data()[0]) == 500
    t, r = summarise_track(np.arange(7.0)[:, None], 100, max_bins=3)
    assert (t[:, 0].tolist(), r) == ([1.0, 4.0, 6.0], 300)
    with pytest.raises(ValueError, match='max_bins'): summarise_track(trk, 100, max_bins=0)
