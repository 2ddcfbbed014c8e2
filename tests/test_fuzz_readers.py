"""Fuzz cases of issue 17 for the readers and the store: damaged or hostile inputs end in one clear error, never in
silent wrong values, a memory blow-up or a destroyed input.

Each test is one case of the issue; every one failed (or ran away) before the fix it guards.
"""
from __future__ import annotations
import os, subprocess, sys, textwrap, time
from pathlib import Path
import numpy as np, pytest
from helpers import write_cool, write_bigwig
from conftest import real_file

# ---------------------------------------------------------------------------------------------------------------
# .hic: a truncated or damaged file is a ValueError naming it, at once and in bounded memory (hic-straw allocated
# until the machine ran out of memory, and its errors were taken for "no normalisation": raw counts, exit 0)

MEM_LIMIT = 2 * 2**30   # address space of the reading process: far above a 53-kB file's needs, far below a blow-up

def _read_hic_limited(path:Path, res:int=100_000)->subprocess.CompletedProcess:
    "Open `path` with mixhic, resolve 'auto' balancing and read chr22's band, in a process limited to MEM_LIMIT."
    code = textwrap.dedent(f"""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, ({MEM_LIMIT}, {MEM_LIMIT}))
        from mixhic.hic import open_hic, resolve_balance, hic_band
        try:
            src = open_hic(sys.argv[1], {res})
            norm = resolve_balance(src, 'auto')
            band, info = hic_band(src, '22', 70, norm)
        except ValueError as e:
            print('ValueError:', e)
            sys.exit(3)
        print('read', norm, float(info['raw_sum']))
        """)
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    return subprocess.run([sys.executable, '-c', code, str(path)], capture_output=True, text=True, timeout=60, env=env)

@pytest.fixture(scope='module')
def hic_bytes(real_data)->bytes:
    return real_file(real_data, 'gm12878_imr90_hg19_chr21/original/test_chr22.hic').read_bytes()

def _damaged(hic_bytes:bytes, kind:str, tmp:Path)->Path:
    rng = np.random.default_rng(0)
    if kind.startswith('head'): data = hic_bytes[:int(kind[4:])]     # `head -c N test_chr22.hic`
    else:                                                            # random bytes written inside the file
        lo, hi = map(int, kind[4:].split('-'))
        data = bytearray(hic_bytes)
        data[lo:hi] = rng.bytes(hi - lo)
        data = bytes(data)
    p = tmp/f'{kind}.hic'
    p.write_bytes(data)
    return p

@pytest.mark.parametrize('kind', ['head20000', 'head40000', 'rand15000-35000', 'rand25000-45000'])
def test_damaged_hic_is_a_clean_error(hic_bytes, kind, tmp_path):
    p = _damaged(hic_bytes, kind, tmp_path)
    t0 = time.time()
    r = _read_hic_limited(p)
    assert time.time() - t0 < 30
    assert r.returncode == 3, r.stdout + r.stderr      # not read as raw counts, not killed, no traceback
    assert str(p) in r.stdout and 'truncated or damaged' in r.stdout

def test_intact_hic_reads_in_the_same_limit(real_data):
    "The limit is not what fails the damaged files: the intact file reads under it, with KR."
    r = _read_hic_limited(real_file(real_data, 'gm12878_imr90_hg19_chr21/original/test_chr22.hic'))
    assert r.returncode == 0 and r.stdout.startswith('read KR'), r.stdout + r.stderr

def test_hic_read_error_is_not_no_normalisation(hic_bytes, tmp_path, monkeypatch):
    "A reader exception while listing normalisations is raised, never taken for a map without weights."
    from mixhic import hic
    p = tmp_path/'ok.hic'
    p.write_bytes(hic_bytes)
    src = hic.open_hic(p, 100_000)
    class Broken:
        def avail_normalizations(self): raise MemoryError('std::bad_alloc')
    src._hic = Broken()
    with pytest.raises(ValueError, match='cannot read its list of normalisations.*MemoryError'): hic.resolve_balance(src, 'auto')
    with pytest.raises(ValueError, match='cannot read'): hic.norms(src)

# ---------------------------------------------------------------------------------------------------------------
# bigWig tracks: huge values stay finite, a damaged file is an error naming it and the chromosome, never zeros

def build(tiny, out, **kw):
    "Build a store of the tiny inputs (one track), overriding any argument with `kw`."
    from mixhic.store import build_store
    args = dict(hic=tiny['cool'], tracks={'atac': tiny['atac']}, out=out, progress=False)
    return build_store(**{**args, **kw})

def test_huge_track_values_do_not_overflow(tiny, tmp_path):
    "Values of 1e38 (float32 holds them) gave `inf` bin means (float32 sums) on every bin, then NaN training."
    from mixhic.store import Store
    bw = write_bigwig(tmp_path/'huge.bw', tiny['sizes'], step=100, value=1e38)
    st = Store(build(tiny, tmp_path/'huge.mixhic', tracks={'huge': bw}))
    for c in st.chroms:
        t = st.track_bins(c).astype(np.float32)
        assert np.isfinite(t).all(), c
        np.testing.assert_allclose(t[:100], np.log2(1 + 1e38), rtol=1e-3)   # log2(1 + mean) ~ 126.2

def test_infinite_track_value_names_file_chrom_bin(tiny, tmp_path):
    import pyBigWig
    p = tmp_path/'inf.bw'
    bw = pyBigWig.open(str(p), 'w')
    bw.addHeader(list(tiny['sizes'].items()))
    bw.addEntries(['chr1', 'chr1', 'chr2'], [0, 5_000, 0], ends=[5_000, 5_100, 600_000], values=[1.0, float('inf'), 2.0])
    bw.close()
    with pytest.raises(ValueError) as e: build(tiny, tmp_path/'inf.mixhic', tracks={'atac': p})
    msg = str(e.value)
    assert str(p) in msg and 'chr1' in msg and 'bin 50' in msg and '5,000-5,100 bp' in msg
    assert not (tmp_path/'inf.mixhic').exists()

def _corrupt_bigwig(tmp_path:Path)->tuple[Path, dict]:
    "A 3-chromosome bigWig with 100 kB of random bytes written in its second half (its header and index intact)."
    sizes = {'chr1': 3_000_000, 'chr2': 2_000_000, 'chr3': 2_000_000}
    p = write_bigwig(tmp_path/'corrupt.bw', sizes, step=100, seed=1)
    data = bytearray(p.read_bytes())
    lo = len(data) // 2
    data[lo:lo + 100_000] = np.random.default_rng(0).bytes(100_000)
    p.write_bytes(bytes(data))
    return p, sizes

def test_corrupt_bigwig_is_an_error_not_zeros(tmp_path):
    from mixhic.tracks import open_bigwig, bin_track
    p, sizes = _corrupt_bigwig(tmp_path)
    bw = open_bigwig(p)
    v, cov = bin_track(bw, 'chr1', sizes['chr1'], what=f'track atac ({p})')   # before the damage: read as written
    assert cov == sizes['chr1'] and v.min() > 0
    with pytest.raises(ValueError, match=r'track atac \(.*corrupt\.bw\): cannot read chr2 \(a truncated or damaged bigWig'):
        bin_track(bw, 'chr2', sizes['chr2'], what=f'track atac ({p})')

def test_corrupt_bigwig_build_fails_naming_file_and_chrom(tmp_path):
    from mixhic.store import build_store
    p, sizes = _corrupt_bigwig(tmp_path)
    cool = write_cool(tmp_path/'m.cool', sizes, res=20_000, band=60)   # every chromosome at least a window long
    with pytest.raises(ValueError) as e:
        build_store(cool, {'atac': p}, tmp_path/'c.mixhic', cfg=None, progress=False)
    assert str(p) in str(e.value) and 'chr2' in str(e.value)
    assert not (tmp_path/'c.mixhic').exists()

def test_corrupt_bigwig_region(tmp_path):
    from mixhic.tracks import bigwig_region
    p, sizes = _corrupt_bigwig(tmp_path)
    with pytest.raises(ValueError, match='cannot read chr3'): bigwig_region(p, 'chr3', 0, 1_000_000, sizes, what='track x')

# ---------------------------------------------------------------------------------------------------------------
# balancing weights that are NaN everywhere: refused before the build, not a store with 0 windows

def test_all_nan_weights_refused(tmp_path, tiny):
    import h5py
    p = write_cool(tmp_path/'nanw.cool', tiny['sizes'], weight=True)
    with h5py.File(p, 'r+') as f: f['bins/weight'][:] = np.nan
    for balance in ('auto', 'weight'):
        with pytest.raises(ValueError) as e: build(tiny, tmp_path/'nanw.mixhic', hic=p, balance=balance)
        assert str(p) in str(e.value) and "'weight' balancing weights are NaN on every bin" in str(e.value)
    assert not (tmp_path/'nanw.mixhic').exists()
    build(tiny, tmp_path/'raw.mixhic', hic=p, balance='none')        # the way out the error names works

# ---------------------------------------------------------------------------------------------------------------
# cooler URIs and region strings as the field writes them

@pytest.mark.parametrize('group', ['::/resolutions/5000', '::resolutions/5000'])
def test_mcool_uri(tmp_path, tiny, group):
    from mixhic.hic import open_hic, hic_region
    m = tmp_path/'x.mcool'
    write_cool(f'{m}::resolutions/5000', tiny['sizes'], res=5_000)
    write_cool(f'{m}::resolutions/10000', tiny['sizes'], res=10_000)
    src = open_hic(f'{m}{group}')
    assert (src.res, src.group, src.path) == (5_000, '/resolutions/5000', m)
    assert hic_region(f'{m}{group}', 'chr1:0-50kb')['mat'].shape == (10, 10)
    st = build(tiny, tmp_path/'uri.mixhic', hic=f'{m}{group}')
    assert st.exists()

def test_mcool_uri_conflicts(tmp_path, tiny):
    from mixhic.hic import open_hic
    m = tmp_path/'x.mcool'
    write_cool(f'{m}::resolutions/5000', tiny['sizes'], res=5_000)
    with pytest.raises(ValueError, match='names the 5,000 bp resolution but res=10,000'): open_hic(f'{m}::/resolutions/5000', 10_000)
    with pytest.raises(ValueError, match='has no 20,000 bp resolution; it has: 5,000'): open_hic(f'{m}::/resolutions/20000')
    with pytest.raises(FileNotFoundError, match='nope.mcool'): open_hic(f'{tmp_path}/nope.mcool::/resolutions/5000')

@pytest.mark.parametrize('reg,want', [('chr1:1-2Mb', ('chr1', 1, 2_000_000)),
                                      ('chr1:1.5M-2M', ('chr1', 1_500_000, 2_000_000)),
                                      ('1:1,000,000-2,000,000', ('chr1', 1_000_000, 2_000_000)),
                                      ('chr1:100kb-200kb', ('chr1', 100_000, 200_000))])
def test_region_strings_as_cooler_reads_them(reg, want):
    from mixhic.core import parse_region
    assert parse_region(reg, {'chr1': 3_000_000}) == want

def test_region_errors_name_the_region():
    from mixhic.core import parse_region
    with pytest.raises(ValueError, match="'chr1:2M-1M': end 1,000,000 must be greater than start 2,000,000"):
        parse_region('chr1:2M-1M', {'chr1': 3_000_000})
    with pytest.raises(ValueError, match=r"'chr1:1-4Mb': end 4,000,000 is past the end of chr1 \(3,000,000 bp\)"):
        parse_region('chr1:1-4Mb', {'chr1': 3_000_000})
    with pytest.raises(ValueError, match="cannot read region 'chr1:1Mb'"): parse_region('chr1:1Mb')

# ---------------------------------------------------------------------------------------------------------------
# merge: the output is never one of the parts (`mixhic merge parts/S.chr*.mixhic` took chr1's part as the output)

@pytest.mark.parametrize('spell', ['same', 'relative', 'trailing_slash'])
def test_merge_refuses_an_input_as_output(tiny, tmp_path, monkeypatch, spell):
    from mixhic.store import Store, merge_stores
    a = build(tiny, tmp_path/'S.chr1.mixhic', chroms=['chr1'])
    b = build(tiny, tmp_path/'S.chr2.mixhic', chroms=['chr2'])
    before = (a/'manifest.json').read_text()
    monkeypatch.chdir(tmp_path)
    out = {'same': a, 'relative': Path('S.chr1.mixhic'), 'trailing_slash': f'{a}/'}[spell]
    with pytest.raises(ValueError, match='one of the stores to merge'): merge_stores([a, b], out)
    assert (a/'manifest.json').read_text() == before and Store(a).chroms == ['chr1']
    assert Store(merge_stores([a, b], tmp_path/'S.mixhic')).chroms == ['chr1', 'chr2']

# ---------------------------------------------------------------------------------------------------------------
# a damaged chunk inside a .cool: a ValueError naming the file and the chromosome, not h5py's OSError traceback

@pytest.mark.parametrize('frac', [0.3, 0.5, 0.7])
def test_damaged_cooler_chunk(tmp_path, frac):
    from mixhic.store import build_store
    sizes = {'chr1': 3_000_000, 'chr2': 2_000_000}
    p = write_cool(tmp_path/'a.cool', sizes, res=5_000, band=100, weight=True)
    bw = write_bigwig(tmp_path/'a.bw', sizes)
    data = bytearray(p.read_bytes())
    lo = int(len(data) * frac)
    data[lo:lo + 20_000] = np.random.default_rng(0).bytes(20_000)
    p.write_bytes(bytes(data))
    with pytest.raises(ValueError) as e: build_store(p, {'a': bw}, tmp_path/'o.mixhic', progress=False)
    assert str(p) in str(e.value) and 'damaged' in str(e.value)
    assert not (tmp_path/'o.mixhic').exists()
