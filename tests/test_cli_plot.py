"""`mixhic plot` end to end: a region of a store, a .cool and a predicted .cool to PNG / PDF; bad regions, files and outputs."""
from __future__ import annotations
import json
from pathlib import Path
import numpy as np, pytest
from helpers import run_cli, write_text
from conftest import SYNTH_SIZES

REGION = 'chr1:1,000,000-2,000,000'

def _png_ok(p:Path, min_side:int=100):
    "`p` is a PNG that matplotlib reads back as an image of at least `min_side` pixels a side, not blank."
    import matplotlib.image as mpimg
    assert p.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    img = mpimg.imread(p)
    assert img.ndim == 3 and min(img.shape[:2]) >= min_side, img.shape
    assert img[..., :3].std() > 0.05                   # something was drawn

@pytest.fixture(scope='module')
def predicted_cool(synth_store, tmp_path_factory)->Path:
    "A .cool written by `predict_maps` (identity model: the store's own windows, tiled, untransformed): no weight column."
    from mixhic.store import Store
    from mixhic.predict import predict_maps
    out = tmp_path_factory.mktemp('pred')/'pred.cool'
    return predict_maps(Store(synth_store), lambda hic, trk: hic[:, 0], out, chroms=['chr1'], progress=False)

def test_help_lists_options():
    r = run_cli(['plot', '--help'])
    assert r.returncode == 0, r.stderr
    assert all(o in r.stdout for o in ('--region', '--out', '--tracks', '--loops', '--true-loops', '--view', '--balance', '--res'))
    assert 'plot' in run_cli(['--help']).stdout

def test_store_to_png_with_tracks_and_loops(synth, synth_store, tmp_path):
    "A store region, square view, the store's tracks plus one bigWig, called and true loops: a valid PNG in a new folder."
    out = tmp_path/'new'/'sub'/'fig.png'
    r = run_cli(['plot', synth_store, '--region', REGION, '--out', out, '--tracks', f"extra={synth['atac']}",
                 '--loops', synth['loops'], '--true-loops', synth['loops'], '--dpi', 60])
    assert r.returncode == 0, r.stderr
    assert out.is_file() and f"wrote {out}" in r.stdout
    _png_ok(out)
    assert not list(out.parent.glob('.fig.png.tmp-*'))   # written atomically: no temporary left

def test_cool_to_pdf_triangle(synth, tmp_path):
    out = tmp_path/'fig.pdf'
    r = run_cli(['plot', synth['hic'], '--region', REGION, '--out', out, '--view', 'triangle', '--depth-bp', 300_000,
                 '--tracks', f"atac={synth['atac']}", f"dnase={synth['dnase']}", '--balance', 'none'])
    assert r.returncode == 0, r.stderr
    assert out.read_bytes()[:5] == b'%PDF-' and out.stat().st_size > 2000

def test_predicted_cool(predicted_cool, tmp_path):
    "A predicted .cool has no balancing weights: --balance auto draws its values as they are, without a warning."
    out = tmp_path/'pred.png'
    r = run_cli(['plot', predicted_cool, '--region', 'chr1:500,000-1,500,000', '--out', out, '--dpi', 60])
    assert r.returncode == 0, r.stderr
    assert 'no balancing weights' not in r.stderr
    _png_ok(out)

def test_load_region_matches_sources(synth, synth_store, predicted_cool):
    "The store's map is log1p of the balanced .cool's; the identity prediction gives the store's map back (untransformed)."
    from mixhic.cli import load_region
    st = load_region(synth_store, REGION)
    cool = load_region(synth['hic'], REGION)              # balance auto: the cooler's weights
    pred = load_region(predicted_cool, REGION)
    assert st['start_bp'] == cool['start_bp'] == 1_000_000 and st['mat'].shape == cool['mat'].shape == (200, 200)
    assert (st['log'], cool['log']) == (False, True) and st['names'] == ['atac', 'dnase'] and st['tracks'].shape == (10_000, 2)
    near = np.abs(np.subtract.outer(np.arange(200), np.arange(200))) < 20   # every tile of the prediction covers these
    ok = np.isfinite(st['mat']) & np.isfinite(pred['mat']) & near
    assert ok.sum() > 0.8 * near.sum()
    np.testing.assert_allclose(np.log1p(pred['mat'][ok]), st['mat'][ok], atol=1e-3)
    scale = json.loads((synth_store/'manifest.json').read_text())['chroms']['chr1']['norm_scale']   # the store rescales to raw sums
    ok = np.isfinite(st['mat']) & np.isfinite(cool['mat'])
    assert ok.sum() > 0.5 * ok.size
    np.testing.assert_allclose(np.log1p(cool['mat'][ok] * scale), st['mat'][ok], atol=0.01)
    assert load_region(synth['hic'], '1:1,000,000-2,000,000')['chrom'] == 'chr1'   # '1' for 'chr1'

@pytest.mark.parametrize('region, words', [
    ('chr1:2,000,000-9,000,000', ['chr1', '3,000,000']),    # past the end: names the chromosome and its length
    ('chr9:0-100,000', ['chr9', 'chr1', 'chr2']),           # unknown chromosome: names it and the known ones
    ('chr1:200-100', ['end 100', 'start 200']),
])
def test_bad_region(synth, synth_store, tmp_path, region, words):
    for src in (synth_store, synth['hic']):
        r = run_cli(['plot', src, '--region', region, '--out', tmp_path/'x.png'])
        assert r.returncode == 1, (src, r.stdout)
        line = r.stderr.strip().splitlines()[-1]
        assert line.startswith('mixhic plot: error:') and all(w in line for w in words), line
        assert not (tmp_path/'x.png').exists()

def test_bad_source_and_output(synth, tmp_path):
    txt = write_text(tmp_path/'map.txt', 'not a map')
    r = run_cli(['plot', txt, '--region', REGION, '--out', tmp_path/'x.png'])
    assert r.returncode == 1 and 'map.txt' in r.stderr and 'neither a cooler' in r.stderr
    r = run_cli(['plot', tmp_path/'missing.cool', '--region', REGION, '--out', tmp_path/'x.png'])
    assert r.returncode == 1 and 'missing.cool' in r.stderr
    r = run_cli(['plot', synth['hic'], '--region', REGION, '--out', tmp_path/'x.jpeg'])
    assert r.returncode == 1 and '.jpeg' in r.stderr and '.png' in r.stderr
    r = run_cli(['plot', synth['hic'], '--region', REGION, '--out', tmp_path/'x.png', '--view', 'round'])
    assert r.returncode == 2 and 'round' in r.stderr                     # argparse: invalid choice
    r = run_cli(['plot', synth['hic'], '--region', 'chr1', '--res', 10_000, '--out', tmp_path/'x.png'])
    assert r.returncode == 1 and '10,000' in r.stderr and '5,000' in r.stderr

def test_region_size_limits(synth, synth_store, tmp_path, monkeypatch):
    "A .cool draws a whole chromosome; a store refuses what its band does not hold; past MAX_PLOT_BINS is refused with the size."
    r = run_cli(['plot', synth['hic'], '--region', 'chr1', '--out', tmp_path/'whole.png', '--dpi', 40])
    assert r.returncode == 0, r.stderr
    _png_ok(tmp_path/'whole.png')
    r = run_cli(['plot', synth_store, '--region', 'chr1', '--out', tmp_path/'whole2.png'])
    assert r.returncode == 1 and 'band' in r.stderr
    import mixhic.cli
    monkeypatch.setattr(mixhic.cli, 'MAX_PLOT_BINS', 100)
    with pytest.raises(ValueError, match='spans 200 bins'): mixhic.cli.load_region(synth['hic'], REGION)

def test_bigwig_region_bins_as_the_store(synth, synth_store):
    "A --tracks bigWig is binned for the plot exactly as the store bins it (up to the store's float16)."
    import numpy as np
    from mixhic.cli import _bigwig_region
    from mixhic.store import Store
    st = Store(synth_store)
    _, trk = st.region('chr2', 1_000_000, 1_500_000)
    x = _bigwig_region(str(synth['atac']), 'atac', 'chr2', st.chromsizes, 1_000_000, 1_500_000, st.cfg.trk_res)
    np.testing.assert_allclose(x, trk[:, st.tracks.index('atac')], atol=5e-3)

# --- issue 17: cooler URIs, colour-bar labels, no title '(none)' ----------------------------------------------

def test_mcool_uri(tmp_path, capsys):
    "`mixhic plot x.mcool::/resolutions/5000` reads that resolution (the file part is checked, the URI passed on)."
    from helpers import main_in_process, write_cool
    m = write_cool(f"{tmp_path/'x.mcool'}::resolutions/5000", SYNTH_SIZES, res=5_000, weight=True)
    out = tmp_path/'uri.png'
    rc, o, err = main_in_process(['plot', f"{m}::/resolutions/5000", '--region', REGION, '--out', out, '--dpi', 60], capsys)
    assert rc == 0, err
    _png_ok(out)
    rc, _, err = main_in_process(['plot', f"{tmp_path/'nope.mcool'}::/resolutions/5000", '--region', REGION,
                                  '--out', tmp_path/'n.png'], capsys)
    assert rc == 1 and 'plot source not found' in err and 'nope.mcool' in err

def test_titles_and_colour_bar_labels(synth, synth_store, tmp_path):
    "Raw counts: no '(none)' in the title; each source's colour bar names its units and transform."
    from helpers import write_cool
    from mixhic.cli import load_region, plot_title
    raw = write_cool(tmp_path/'raw.cool', SYNTH_SIZES, res=5_000)             # no weights: raw counts
    d = load_region(raw, REGION)
    assert d['norm'] == 'none' and d['label'] == 'raw contacts'
    assert plot_title(raw, d) == 'raw.cool: chr1:1,000,000-2,000,000'          # was 'raw.cool: ... (none)'
    cool = load_region(synth['hic'], REGION)
    assert cool['label'] == 'balanced contacts' and plot_title(synth['hic'], cool).endswith('(weight)')
    st = load_region(synth_store, REGION)
    assert st['label'] == 'log1p(balanced contacts)' and plot_title(synth_store, st).endswith('(log1p)')
    assert plot_title(f"{raw}::/", d).startswith('raw.cool: ')                 # a URI is named by its file

def test_cli_passes_label_and_title(tmp_path, capsys, monkeypatch):
    "`mixhic plot` of a map without weights: the colour bar says 'raw contacts', the title has no '(none)'."
    import functools
    import mixhic.plot as mp
    from helpers import main_in_process, write_cool
    seen, real = {}, mp.plot_region
    @functools.wraps(real)
    def spy(*args, **kw):
        seen.update(kw)
        return real(*args, **kw)
    monkeypatch.setattr(mp, 'plot_region', spy)
    raw = write_cool(tmp_path/'raw.cool', SYNTH_SIZES, res=5_000)
    rc, _, err = main_in_process(['plot', raw, '--region', REGION, '--out', tmp_path/'raw.png', '--dpi', 60], capsys)
    assert rc == 0, err
    assert seen['label'] == 'raw contacts' and seen['title'] == 'raw.cool: chr1:1,000,000-2,000,000'
