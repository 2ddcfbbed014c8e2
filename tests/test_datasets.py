"""mixhic.datasets: the data registry, fetching into a cache (file:// URLs only: no network) and the local fallback."""
from __future__ import annotations
import hashlib, json, logging, os, re, sys, urllib.error, urllib.parse, urllib.request
from pathlib import Path
import pandas as pd
import pytest
from mixhic import datasets as ds

CONTENT = b'chr1\t300000\t305000\tchr1\t500000\t505000\n' * 1000      # 38 kB: several chunks when CHUNK_BYTES is small

def sha(b:bytes)->str: return 'sha256:' + hashlib.sha256(b).hexdigest()

@pytest.fixture(autouse=True)
def clean(monkeypatch, tmp_path):
    """Each test gets an empty session registry and a cache it cannot leak out of (not ~/.cache).
    (mixhic.datasets has no public way to forget `register`ed rows, so the session table is swapped here.)"""
    monkeypatch.setattr(ds, '_USER', {})
    monkeypatch.setenv('MIXHIC_DATA_CACHE', str(tmp_path/'env_cache'))

@pytest.fixture
def src(tmp_path)->Path:
    p = tmp_path/'src'/'toy.bedpe'; p.parent.mkdir(); p.write_bytes(CONTENT)
    return p

@pytest.fixture
def toy(src)->str:
    ds.register('toy', src.as_uri(), sha(CONTENT), size_bytes=len(CONTENT), kind='loops', assembly='test')
    return 'toy'

def files(d:Path)->list: return sorted(p.relative_to(d).as_posix() for p in d.rglob('*') if p.is_file())

def sha256_file(p:Path)->str:
    h = hashlib.sha256()
    with open(p, 'rb') as f:
        while (b := f.read(1 << 20)): h.update(b)
    return 'sha256:' + h.hexdigest()

def url_name(url:str)->str: return urllib.parse.unquote(Path(urllib.parse.urlparse(url).path).name)

def break_urlopen(monkeypatch, fn):
    "Make every download open with `fn(url, timeout)` instead of urllib's (mixhic opens URLs with urllib.request.urlopen)."
    monkeypatch.setattr(urllib.request, 'urlopen', lambda url, timeout=None, **k: fn(url, timeout))

# ---------------------------------------------------------------------------------------------------------------
# fetch

def test_fetch_file_url_into_cache(toy, tmp_path):
    p = ds.fetch(toy, cache_dir=tmp_path/'c', progress=False)
    assert p == tmp_path/'c'/'toy'/'toy.bedpe' and p.read_bytes() == CONTENT
    assert files(tmp_path/'c') == ['toy/toy.bedpe']                  # no temporary left beside it

def test_fetch_with_progress_bar_in_chunks(toy, tmp_path, monkeypatch):
    monkeypatch.setattr(ds, 'CHUNK_BYTES', 4096)                     # ten chunks: the bar really iterates
    p = ds.fetch(toy, cache_dir=tmp_path/'c', progress=True)
    assert p.read_bytes() == CONTENT

# a verified cached copy is used without downloading (its source gone): 18_datasets

def test_force_downloads_again(toy, src, tmp_path):
    p = ds.fetch(toy, cache_dir=tmp_path/'c', progress=False)
    src.unlink()
    with pytest.raises(ConnectionError, match="could not download 'toy'"): ds.fetch(toy, cache_dir=tmp_path/'c', progress=False, force=True)
    assert p.read_bytes() == CONTENT                                  # the verified copy survives a failed refresh

def test_corrupt_cached_copy_is_replaced(toy, tmp_path, caplog):
    p = ds.fetch(toy, cache_dir=tmp_path/'c', progress=False)
    p.write_bytes(b'garbage')
    with caplog.at_level(logging.WARNING, logger='mixhic'):
        assert ds.fetch(toy, cache_dir=tmp_path/'c', progress=False).read_bytes() == CONTENT
    assert 'downloading it again' in caplog.text

def test_checksum_mismatch_names_file_and_digests(src, tmp_path):
    want = sha(b'other bytes')
    ds.register('bad', src.as_uri(), want, kind='loops', assembly='test')
    with pytest.raises(ValueError) as e: ds.fetch('bad', cache_dir=tmp_path/'c', progress=False)
    msg = str(e.value)                                                # (nothing kept: 18_datasets)
    assert 'checksum mismatch' in msg and 'toy.bedpe' in msg and want in msg and sha(CONTENT) in msg

def test_md5_checksums_work(src, tmp_path):
    ds.register('m', src.as_uri(), 'md5:' + hashlib.md5(CONTENT).hexdigest(), kind='loops', assembly='test')
    assert ds.fetch('m', cache_dir=tmp_path/'c', progress=False).read_bytes() == CONTENT
    ds.register('m', src.as_uri(), 'md5:' + hashlib.md5(b'x').hexdigest(), kind='loops', assembly='test', replace=True)
    with pytest.raises(ValueError, match='expected md5:'): ds.fetch('m', cache_dir=tmp_path/'c2', progress=False)

def test_size_mismatch_raises_and_keeps_nothing(src, tmp_path):
    ds.register('big', src.as_uri(), sha(CONTENT), size_bytes=len(CONTENT) + 1, kind='loops', assembly='test')
    with pytest.raises(ValueError, match=rf"size mismatch for 'big'.*{len(CONTENT) + 1}"):
        ds.fetch('big', cache_dir=tmp_path/'c', progress=False)
    assert files(tmp_path/'c') == []

def test_size_mismatch_without_content_length(src, tmp_path, monkeypatch):
    "A server that sends no Content-Length: the size is checked after the download."
    ds.register('toy', src.as_uri(), sha(CONTENT), size_bytes=len(CONTENT) - 1, kind='loops', assembly='test')
    real_open = urllib.request.urlopen
    def no_length(url, timeout):
        r = real_open(url, timeout=timeout); r.headers = {}; return r
    break_urlopen(monkeypatch, no_length)
    with pytest.raises(ValueError, match=rf"expected {len(CONTENT) - 1} bytes, got {len(CONTENT)}"):
        ds.fetch('toy', cache_dir=tmp_path/'c', progress=False)
    assert files(tmp_path/'c') == []

class Broken:
    "A response that delivers one chunk, then fails like a dropped connection (or raises `exc`)."
    def __init__(self, url, exc): self.f, self.n, self.exc, self.headers = open(url.removeprefix('file://'), 'rb'), 0, exc, {}
    def read(self, k):
        self.n += 1
        if self.n > 1: raise self.exc
        return self.f.read(k)
    def __enter__(self): return self
    def __exit__(self, *a): self.f.close()

@pytest.mark.parametrize('exc, raised', [(ConnectionResetError('connection reset by peer'), ConnectionError),
                                         (KeyboardInterrupt(), KeyboardInterrupt)])
def test_no_partial_file_after_failure_mid_copy(toy, tmp_path, monkeypatch, exc, raised):
    monkeypatch.setattr(ds, 'CHUNK_BYTES', 4096)
    break_urlopen(monkeypatch, lambda url, timeout: Broken(url, exc))
    with pytest.raises(raised): ds.fetch(toy, cache_dir=tmp_path/'c', progress=False)
    assert files(tmp_path/'c') == []                                  # neither the final name nor a temporary

def test_missing_source_is_a_network_error_suggesting_the_fallback(tmp_path):
    ds.register('gone', (tmp_path/'nope.bedpe').as_uri(), sha(b''), kind='loops', assembly='test', local='x/nope.bedpe')
    with pytest.raises(ConnectionError, match=r"could not download 'gone'.*get\('gone'\) uses the local copy real_data\(\)/x/nope.bedpe"):
        ds.fetch('gone', cache_dir=tmp_path/'c', progress=False)

def test_network_error_without_local_copy_says_so(tmp_path, monkeypatch):
    def offline(url, timeout): raise urllib.error.URLError('Name or service not known')
    break_urlopen(monkeypatch, offline)
    with pytest.raises(ConnectionError, match='no local copy'):
        ds.fetch('gm12878_hg19_hiccups_loops', cache_dir=tmp_path/'c', check=False, progress=False)

def test_progress_false_works_and_env_var_picks_the_cache(toy, tmp_path):
    p = ds.fetch(toy, progress=False)
    assert p == tmp_path/'env_cache'/'toy'/'toy.bedpe' and p.is_file()

def test_default_cache_is_in_home(monkeypatch, tmp_path):
    monkeypatch.delenv('MIXHIC_DATA_CACHE'); monkeypatch.setenv('HOME', str(tmp_path))
    assert ds.cache_root() == tmp_path/'.cache'/'mixhic'               # (an explicit folder: 18_datasets)

def test_no_checksum_is_refused_unless_check_false(src, tmp_path, caplog):
    ds.register('unsigned', src.as_uri(), kind='loops', assembly='test')
    with pytest.raises(ValueError, match="'unsigned' has no registered checksum.*check=False"):
        ds.fetch('unsigned', cache_dir=tmp_path/'c', progress=False)
    assert not (tmp_path/'c').exists()                                # refused before downloading anything
    with caplog.at_level(logging.WARNING, logger='mixhic'):
        p = ds.fetch('unsigned', cache_dir=tmp_path/'c', progress=False, check=False)
    assert p.read_bytes() == CONTENT and sha(CONTENT) in caplog.text   # the sha256 a maintainer can add

def test_custom_registry_table_and_tsv(src, tmp_path):
    row = dict(name='mine', kind='hic', url=src.as_uri(), size_bytes=len(CONTENT), checksum=sha(CONTENT),
               assembly='hg38', cell_type='K562', res=5000, notes='', source='', local='')
    df = pd.DataFrame([row])
    assert ds.fetch('mine', cache_dir=tmp_path/'c', progress=False, reg=ds.registry(df)).read_bytes() == CONTENT
    tsv = tmp_path/'reg.tsv'; df.to_csv(tsv, sep='\t', index=False)
    assert ds.fetch('mine', cache_dir=tmp_path/'c2', progress=False, reg=tsv).read_bytes() == CONTENT
    assert 'mine' in set(ds.registry(tsv).name) and 'mine' not in set(ds.registry().name)
    with pytest.raises(FileNotFoundError, match='registry file not found'): ds.registry(tmp_path/'none.tsv')

# ---------------------------------------------------------------------------------------------------------------
# registry, info, register

def test_unknown_name_without_close_names():
    # close names of 'k562_chr22_hic': 18_datasets; a name close to nothing, and fetch's own check, here
    with pytest.raises(ValueError, match=r"unknown data set 'zzz' \(registry"): ds.info('zzz')
    with pytest.raises(ValueError, match='unknown data set'): ds.fetch('zzz')

def test_register_checks_its_row(src):
    with pytest.raises(ValueError, match="bad checksum 'sha256:xyz'"): ds.register('a', src.as_uri(), 'sha256:xyz')
    with pytest.raises(ValueError, match="bad checksum 'crc:1'"): ds.register('a', src.as_uri(), 'crc:1')
    with pytest.raises(ValueError, match="kind 'map' is not one of"): ds.register('a', src.as_uri(), kind='map')
    with pytest.raises(ValueError, match="assembly 'GRCh38' is not one of"): ds.register('a', src.as_uri(), assembly='GRCh38')
    with pytest.raises(ValueError, match="url 'toy.bedpe' is not an https://"): ds.register('a', 'toy.bedpe')
    with pytest.raises(ValueError, match="'hg19_genes' is a built-in data set"): ds.register('hg19_genes', src.as_uri())
    with pytest.raises(ValueError, match="bad data-set name 'a/b'"): ds.register('a/b', src.as_uri())
    ds.register('a', src.as_uri())
    with pytest.raises(ValueError, match="'a' is already registered; pass replace=True"): ds.register('a', src.as_uri())
    assert ds.info('a')['url'] == src.as_uri()

def test_check_registry_errors():
    reg = ds.registry()
    with pytest.raises(ValueError, match=r"registry lacks columns \['checksum'\]"): ds.check_registry(reg.drop(columns='checksum'))
    # (a name twice: 18_datasets)

# URLs a teaching file may have: an archive's download URL, or a file pinned at one git commit
URL_PATTERNS = [r'https://www\.encodeproject\.org/files/(ENCFF\w+)/@@download/\1\.\w+(\.gz)?',
                r'https://data\.4dnucleome\.org/files-processed/(4DNFI\w+)/@@download/\1\.\w+',
                r'(https|ftp)://ftp\.ncbi\.nlm\.nih\.gov/geo/(series|samples)/GS[EM]\d+nnn/GS[EM]\d+/suppl/\S+',
                r'https://raw\.githubusercontent\.com/[\w.-]+/[\w.-]+/[0-9a-f]{40}/\S+']
SOURCE_PATTERNS = [r'https://www\.encodeproject\.org/files/ENCFF\w+/', r'https://data\.4dnucleome\.org/files-processed/4DNFI\w+/',
                   r'https://www\.ncbi\.nlm\.nih\.gov/geo/query/acc\.cgi\?acc=GS[EM]\d+', r'https://github\.com/[\w.-]+/[\w.-]+']

def test_every_registry_row_is_complete_and_plausible():
    reg = ds.registry()
    assert len(reg) >= 10 and list(reg.columns) == ds.COLUMNS and reg.name.is_unique
    for r in reg.itertuples():
        assert re.fullmatch(r'[a-z0-9_]+', r.name), r.name
        assert r.kind in ds.KINDS and r.assembly in {'hg19', 'hg38'} and r.cell_type and r.notes, r.name
        assert any(re.fullmatch(p, r.url) for p in URL_PATTERNS), f"{r.name}: implausible url {r.url}"
        assert any(re.fullmatch(p, r.source) for p in SOURCE_PATTERNS), f"{r.name}: implausible source page {r.source}"
        assert r.checksum == '' or re.fullmatch(r'sha256:[0-9a-f]{64}|md5:[0-9a-f]{32}', r.checksum), r.name
        assert (r.checksum == '') == pd.isna(r.size_bytes) == (r.local == ''), f"{r.name}: teaching copies have all three"
        if r.kind == 'hic' and not pd.isna(r.res): assert r.res in (5000, 10000, 25000), r.name
        acc = re.findall(r'ENCFF\w{6}|4DNFI\w{7}|GS[EM]\d+', r.url)   # an archive row names the same accession twice
        if 'githubusercontent' not in r.url: assert acc and acc[0] in r.source, r.name
    assert set(reg.kind) == set(ds.KINDS)                             # something of every kind for the tutorials
    for archive in ('www.encodeproject.org', 'data.4dnucleome.org', 'ftp.ncbi.nlm.nih.gov/geo'):
        assert reg.url.str.contains(archive, regex=False).any(), archive

def test_registered_checksums_match_the_local_copies():
    "Every teaching row's size and checksum are those of its byte-identical copy in the real-data folder."
    reg = ds.registry(); root = ds.real_data()
    rows = reg[reg.local != '']
    assert len(rows) >= 10
    for r in rows.itertuples():
        p = root/r.local
        assert p.is_file(), f"{r.name}: local copy missing: {p}"
        assert p.stat().st_size == r.size_bytes, r.name
        assert sha256_file(p) == r.checksum, r.name
        assert p.name == url_name(r.url), f"{r.name}: the local copy keeps the upstream name"

# ---------------------------------------------------------------------------------------------------------------
# real_data and get

def test_real_data_finds_the_shared_folder(monkeypatch):
    monkeypatch.delenv('MIXHIC_REAL_DATA', raising=False)
    root = ds.real_data()
    assert root.parts[-3:] == ('shared', 'data', 'real') and (root/'k562_hg38_chr22_5kb').is_dir()   # (a set by name: 18_datasets)
    with pytest.raises(FileNotFoundError, match=r"'nope' not found in the real data folder .*k562_hg38_chr22_5kb"):
        ds.real_data('nope')

def test_real_data_from_a_tutorial_folder(monkeypatch, tmp_path):
    "Tutorials run from nbs/tutorials/: the folder is found through the parents of the current directory."
    monkeypatch.delenv('MIXHIC_REAL_DATA', raising=False)
    d = tmp_path/'shared'/'data'/'real'/'set1'; d.mkdir(parents=True)
    deep = tmp_path/'repo'/'nbs'/'tutorials'; deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    assert ds.real_data() == tmp_path/'shared'/'data'/'real'

def test_real_data_env_var(monkeypatch, tmp_path):
    monkeypatch.setenv('MIXHIC_REAL_DATA', str(tmp_path))
    assert ds.real_data() == tmp_path
    monkeypatch.setenv('MIXHIC_REAL_DATA', str(tmp_path/'absent'))
    with pytest.raises(FileNotFoundError, match='MIXHIC_REAL_DATA=.*absent is not a folder'): ds.real_data()

def test_real_data_absent(monkeypatch, tmp_path):
    monkeypatch.delenv('MIXHIC_REAL_DATA', raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(ds, '__file__', str(tmp_path/'pkg'/'datasets.py'))  # not next to the repository either
    with pytest.raises(FileNotFoundError, match='real data sets not found.*set MIXHIC_REAL_DATA'): ds.real_data()

def test_get_falls_back_to_the_verified_local_copy(tmp_path, monkeypatch, caplog):
    def offline(url, timeout): raise urllib.error.URLError('Name or service not known')
    break_urlopen(monkeypatch, offline)
    with caplog.at_level(logging.WARNING, logger='mixhic'):
        p = ds.get('gm12878_hg19_h3k27ac_hichip_loops', cache_dir=tmp_path/'c', progress=False, offline=False)
    assert p == ds.real_data()/ds.info('gm12878_hg19_h3k27ac_hichip_loops')['local']
    assert 'using the local copy real_data()/' in caplog.text and 'Name or service not known' in caplog.text
    assert files(tmp_path/'c') == []

def test_get_uses_the_cache_when_it_can(toy, tmp_path):
    assert ds.get(toy, cache_dir=tmp_path/'c', progress=False, offline=False) == tmp_path/'c'/'toy'/'toy.bedpe'

def test_get_refuses_a_local_copy_with_other_bytes(tmp_path, monkeypatch):
    (tmp_path/'set').mkdir(); (tmp_path/'set'/'f.bedpe').write_bytes(b'changed')
    monkeypatch.setenv('MIXHIC_REAL_DATA', str(tmp_path))
    ds.register('f', (tmp_path/'nowhere'/'f.bedpe').as_uri(), sha(CONTENT), kind='loops', assembly='test', local='set/f.bedpe')
    with pytest.raises(ValueError, match=r"the local copy .*f\.bedpe of 'f' has sha256:\w+, not the registered"):
        ds.get('f', cache_dir=tmp_path/'c', progress=False, offline=False)

def test_get_without_local_copy_reraises(tmp_path, monkeypatch):
    def offline(url, timeout): raise urllib.error.URLError('offline')
    break_urlopen(monkeypatch, offline)
    ds.register('nolocal', 'https://example.org/x.bedpe', sha(CONTENT), kind='loops', assembly='test')
    with pytest.raises(ConnectionError, match='no local copy'): ds.get('nolocal', cache_dir=tmp_path/'c', progress=False, offline=False)

def test_get_offline_uses_the_local_copy_without_the_network(monkeypatch):
    "Offline (the argument, or $MIXHIC_OFFLINE as in CI): no download is tried; the local copy is checked and returned."
    monkeypatch.setattr(ds, 'fetch', lambda *a, **k: pytest.fail('offline get tried the network'))
    p = ds.get('gm12878_hg19_h3k27ac_hichip_loops', offline=True)
    assert p == ds.real_data(ds.info('gm12878_hg19_h3k27ac_hichip_loops')['local'])
    monkeypatch.setenv('MIXHIC_OFFLINE', '1')
    assert ds.get('gm12878_hg19_h3k27ac_hichip_loops') == p
    with pytest.raises(ValueError, match='no local copy'): ds.get('k562_hg38_intact_hic')

# ---------------------------------------------------------------------------------------------------------------
# offline: $MIXHIC_OFFLINE (set by conftest, as in CI) keeps `fetch` itself off the network (issue 17)

def no_network(monkeypatch):
    "Fail the test if anything opens a URL."
    def opened(url, timeout=None, **k): pytest.fail(f"offline fetch opened {url}")
    monkeypatch.setattr(ds, '_open', opened)
    monkeypatch.setattr(urllib.request, 'urlopen', opened)

def test_fetch_offline_uses_the_local_copy_without_the_network(tmp_path, monkeypatch):
    monkeypatch.setenv('MIXHIC_OFFLINE', '1')
    no_network(monkeypatch)
    name = 'gm12878_hg19_h3k27ac_hichip_loops'
    assert ds.fetch(name, cache_dir=tmp_path/'c', progress=False) == ds.real_data(ds.info(name)['local'])
    assert ds.fetch(name, cache_dir=tmp_path/'c', progress=False, force=True) == ds.real_data(ds.info(name)['local'])
    assert not (tmp_path/'c').exists()                               # nothing written to the cache either

def test_fetch_offline_without_a_copy_says_it_is_offline(tmp_path, monkeypatch):
    monkeypatch.setenv('MIXHIC_OFFLINE', '1')
    no_network(monkeypatch)
    with pytest.raises(ConnectionError, match=r"offline \(\$MIXHIC_OFFLINE is set.*'k562_hg38_intact_hic' is not downloaded"):
        ds.fetch('k562_hg38_intact_hic', cache_dir=tmp_path/'c', check=False, progress=False)
    monkeypatch.delenv('MIXHIC_OFFLINE')
    with pytest.raises(ConnectionError, match='offline'):             # the argument alone does it too
        ds.fetch('k562_hg38_intact_hic', cache_dir=tmp_path/'c', check=False, progress=False, offline=True)

def test_fetch_offline_uses_a_verified_cached_copy(tmp_path, monkeypatch):
    ds.register('remote', 'https://example.org/data/toy.bedpe', sha(CONTENT), kind='loops', assembly='test')
    cached = tmp_path/'c'/'remote'/'toy.bedpe'; cached.parent.mkdir(parents=True); cached.write_bytes(CONTENT)
    no_network(monkeypatch)
    assert ds.fetch('remote', cache_dir=tmp_path/'c', progress=False, offline=True) == cached
    cached.write_bytes(b'changed')                                    # a bad cached copy is not trusted, nor re-downloaded
    with pytest.raises(ConnectionError, match="offline.*'remote' is not downloaded from https://example.org"):
        ds.fetch('remote', cache_dir=tmp_path/'c', progress=False, offline=True)

def test_fetch_offline_still_reads_file_urls(toy, tmp_path, monkeypatch):
    "A file:// URL is no download: offline, it is copied and verified as usual (the notebooks' own examples)."
    monkeypatch.setenv('MIXHIC_OFFLINE', '1')
    assert ds.fetch(toy, cache_dir=tmp_path/'c', progress=False).read_bytes() == CONTENT

def test_offline_env_values(monkeypatch):
    for v, want in [('', False), ('0', False), ('1', True), ('yes', True)]:
        monkeypatch.setenv('MIXHIC_OFFLINE', v)
        assert ds.is_offline() is want and ds.is_offline(False) is False and ds.is_offline(True) is True
    monkeypatch.delenv('MIXHIC_OFFLINE')
    assert ds.is_offline() is False

# ---------------------------------------------------------------------------------------------------------------
# data/registry.tsv of a clone: the registry as a checksummed table, kept equal to the package's own

REPO = Path(__file__).resolve().parents[1]

def test_data_registry_tsv_equals_the_package_registry(tmp_path):
    "data/registry.tsv is `write_registry()`'s output byte for byte; regenerate it with the command in data/README.md."
    tsv = REPO/'data'/'registry.tsv'
    assert tsv.is_file(), f"{tsv} missing"
    pd.testing.assert_frame_equal(ds.read_registry(tsv), ds.registry())
    assert tsv.read_bytes() == ds.write_registry(tmp_path/'r.tsv').read_bytes()
    assert (tsv.parent/'README.md').is_file()

def test_registry_tsv_round_trip_and_checks(tmp_path):
    reg = ds.registry()
    bad = reg.copy(); bad.loc[0, 'notes'] = 'a\tb'
    with pytest.raises(ValueError, match=f"registry row '{reg.name[0]}': column notes holds a tab"): ds.write_registry(tmp_path/'x.tsv', bad)
    assert not (tmp_path/'x.tsv').exists()
    p = ds.write_registry(tmp_path/'r.tsv', reg.head(3))
    pd.testing.assert_frame_equal(ds.read_registry(p), reg.head(3))
    p.write_text(p.read_text().replace('sha256:', 'sha257:', 1))
    with pytest.raises(ValueError, match='bad checksum'): ds.read_registry(p)
    with pytest.raises(FileNotFoundError, match='registry file not found'): ds.read_registry(tmp_path/'none.tsv')

# ---------------------------------------------------------------------------------------------------------------
# derived teaching files: `prepare` makes each from its registered inputs and checks it (issue 17)

def test_every_derived_file_has_registered_inputs_and_a_local_copy():
    reg, der = ds.registry(), ds.derived()
    assert der.name.is_unique and len(der) >= 5
    for r in der.itertuples():
        assert set(r.inputs) <= set(reg.name), r.name
        assert all(ds.info(n)['checksum'] for n in r.inputs), f"{r.name}: every input is verified"
        assert re.fullmatch(r'sha256:[0-9a-f]{64}', r.checksum) and r.check in ('file', 'content'), r.name
        assert (ds.real_data()/r.local).name == r.file, r.name

@pytest.mark.parametrize('name', list(ds.derived().name))
def test_prepare_derives_each_file_from_its_inputs(name, tmp_path, monkeypatch):
    "Offline, from the local copies of the inputs: the recipe reproduces the teaching copy (its bytes, or a .cool's content)."
    def opened(url, timeout=None, **k): pytest.fail(f"offline prepare opened {url}")
    monkeypatch.setattr(urllib.request, 'urlopen', opened)
    p = ds.prepare(name, cache_dir=tmp_path/'c', offline=True, force=True, progress=False)
    row = ds.derived().set_index('name').loc[name]
    assert p == tmp_path/'c'/'derived'/name/row.file
    local = ds.prepare(name, offline=True)
    assert local == ds.real_data(row.local)
    if row.check == 'file': assert p.read_bytes() == local.read_bytes()
    else: assert ds._cool_digest(p) == ds._cool_digest(local)
    assert ds.prepare(name, cache_dir=tmp_path/'c', offline=False) == p          # verified in the cache: nothing fetched

def test_prepare_refuses_a_wrong_result_and_keeps_nothing(tmp_path, monkeypatch):
    rows = [dict(r, checksum='sha256:' + '0' * 64) if r['name'] == 'k562_hg38_chr22_atac_bw' else r for r in ds._DERIVED]
    monkeypatch.setattr(ds, '_DERIVED', rows)
    with pytest.raises(ValueError, match=r"'k562_hg38_chr22_atac_bw' derived from k562_hg38_chr22_atac_counts has sha256:\w+, not the registered"):
        ds.prepare('k562_hg38_chr22_atac_bw', cache_dir=tmp_path/'c', offline=True, force=True, progress=False)
    assert files(tmp_path/'c') == []

# lesson 3's IMR-90 chr21 files: R data files (.rda) of plotgardenerData, read with the optional 'rdata' (issue 17)

LESSON3 = ('imr90_hg19_chr21_10kb_cool', 'imr90_hg19_chr21_ctcf_bw', 'imr90_hg19_chr21_loops_bedpe')

def test_lesson3_files_have_recipes_from_pinned_originals():
    der = ds.derived().set_index('name')
    for name in LESSON3:
        (src,) = der.loc[name, 'inputs']
        url = ds.info(src)['url']
        assert re.fullmatch(r'https://raw\.githubusercontent\.com/PhanstielLab/plotgardenerData/[0-9a-f]{40}/data/IMR90_\w+\.rda', url), url
    assert der.loc['imr90_hg19_chr21_10kb_cool', 'check'] == 'content'   # a .cool embeds its creation date

def test_rda_cool_keeps_every_pixel_and_its_float_value(tmp_path):
    "Both bin columns are named 'chr21' in the R table: a reader keyed by name would merge them. Values stay floats."
    import cooler
    t = ds._rda_table(ds.get('imr90_hg19_chr21_10kb_hic', offline=True))
    assert t.attrs['names'] == ['chr21', 'chr21', 'counts'] and len(t) == 26_407
    p = ds.prepare('imr90_hg19_chr21_10kb_cool', cache_dir=tmp_path/'c', offline=True, force=True, progress=False)
    clr = cooler.Cooler(str(p))
    pix = clr.pixels()[:]
    assert clr.binsize == 10_000 and clr.chromsizes.to_dict() == {'chr21': 48_129_895} and clr.info['genome-assembly'] == 'hg19'
    assert len(pix) == len(t) and (pix.bin1_id <= pix.bin2_id).all() and 'weight' not in clr.bins().columns
    assert pix['count'].dtype == 'float64' and sorted(pix['count']) == sorted(t[2]) and pix['count'].max() == 70.0

def test_rda_bigwig_is_zero_based_half_open(tmp_path):
    import pyBigWig
    p = ds.prepare('imr90_hg19_chr21_ctcf_bw', cache_dir=tmp_path/'c', offline=True, force=True, progress=False)
    bw = pyBigWig.open(str(p))
    first = bw.intervals('chr21')[0]
    bw.close()
    assert first[:2] == (27_999_999, 28_000_003)                                # R's 28,000,000-28,000,003 (1-based, closed)

def test_rda_recipes_need_rdata_and_name_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, 'rdata', None)                            # as if it were not installed
    with pytest.raises(ImportError, match=r'IMR90_DNAloops_pairs\.rda needs the package .rdata.: pip install "mixhic\[data\]"'):
        ds.prepare('imr90_hg19_chr21_loops_bedpe', cache_dir=tmp_path/'c', offline=True, force=True, progress=False)
    assert files(tmp_path/'c') == []

def test_rda_with_other_than_one_data_frame_is_refused(tmp_path):
    p = tmp_path/'x.rda'; p.write_bytes(ds.real_data(ds.info('imr90_hg19_chr21_hiccups_loops')['local']).read_bytes())
    assert len(ds._rda_table(p)) == 16
    p.write_bytes(p.read_bytes()[:200])                                         # cut short
    with pytest.raises(ValueError, match=r'x\.rda: not a readable R data file'): ds._rda_table(p)
    p.write_bytes(b'RDX3\nnot an R file')
    with pytest.raises(ValueError, match=r'x\.rda: not a readable R data file'): ds._rda_table(p)

# --- recipes: the paper's corpora as stores (file:// URLs and local paths only: nothing downloads) ---

@pytest.fixture(scope='module')
def cells(tmp_path_factory)->dict:
    "Two small synthetic cell lines, A and B, each {'hic', 'atac', 'dnase', 'loops', ...: Path}."
    from mixhic.synth import make_synth, SynthCfg
    d = tmp_path_factory.mktemp('cells')
    cfg = SynthCfg(chromsizes={'chr1': 2_000_000, 'chr2': 1_500_000})
    return {c: make_synth(d/c, seed=i, cfg=cfg) for i, c in enumerate('AB')}

TOY = dict(cells={'A': (), 'B': ('2',)}, inputs=('hic', 'atac', 'dnase'), res=5000, assembly='test')

def toy_files(cells, **over)->dict:
    return {f'{c}:{k}': cells[c][k].as_uri() for c in 'AB' for k in ('hic', 'atac', 'dnase')} | over

def test_paper_recipes_name_only_sourced_files():
    "Every registered input of the paper's recipes is a registry row; the rest are gaps with a place to look."
    for name in ds.RECIPES:
        t = ds.recipe(name)
        assert set(t.source) <= {'registry', 'missing'} and (t.input == 'hic').any()
        assert all(ds.info(n)['cell_type'] in t.cell_type.values for n in t.dataset if n)
        assert t[t.source == 'missing'].find.str.contains('encodeproject.org|4dnucleome.org').all()
    row = ds.info('gm12878_hg38_ctcf_chiapet_encode')
    assert row['url'].endswith('/ENCFF780PGS.bedpe.gz') and row['checksum'] == '' and row['assembly'] == 'hg38'

def test_build_recipe_refuses_gaps_before_any_download(tmp_path, monkeypatch):
    monkeypatch.setattr(ds, '_open', lambda *a: pytest.fail('opened a URL'))
    with pytest.raises(ValueError, match=r"lacks 12 input file\(s\).*\n  WTC11:hic  find it at: 4DN"):
        ds.build_recipe('paper-pretrain', tmp_path/'out')
    with pytest.raises(ValueError, match=r"lacks 3 input"):        # one cell type: only its own gaps
        ds.build_recipe('paper-downstream', tmp_path/'out', cells=['GM12878'])
    with pytest.raises(ValueError, match=r"cell types \['HeLa'\] are not in the recipe"):
        ds.build_recipe('paper-downstream', tmp_path/'out', cells=['HeLa'])
    assert not (tmp_path/'out').exists()

def test_build_recipe_resumes_after_a_failure(cells, tmp_path):
    from mixhic.store import Store
    kw = dict(cache_dir=tmp_path/'cache', progress=False)
    with pytest.raises(ConnectionError, match='gone.bw'):
        ds.build_recipe(TOY, tmp_path/'out', toy_files(cells, **{'B:dnase': (tmp_path/'gone.bw').as_uri()}), **kw)
    a = tmp_path/'out'/'A'/'manifest.json'
    assert a.is_file() and not (tmp_path/'out'/'B').exists()
    t0 = a.stat().st_mtime_ns
    got = ds.build_recipe(TOY, tmp_path/'out', toy_files(cells), **kw)
    assert a.stat().st_mtime_ns == t0                             # A kept: built from the same files
    assert Store(got['B']).chroms == ['chr1'] and Store(got['A']).chroms == ['chr1', 'chr2']   # B leaves chr2 out
    rec = json.loads((tmp_path/'out'/'recipe.json').read_text())
    assert set(rec['stores']) == {'A', 'B'} and len(rec['inputs']) == 6
    # another file for A's DNase (another URL: its own cache entry) rebuilds A, and only A
    other = tmp_path/'dnase2.bw'; other.write_bytes(cells['B']['dnase'].read_bytes())
    b0 = (tmp_path/'out'/'B'/'manifest.json').stat().st_mtime_ns
    ds.build_recipe(TOY, tmp_path/'out', toy_files(cells, **{'A:dnase': other.as_uri()}), **kw)
    assert a.stat().st_mtime_ns != t0 and (tmp_path/'out'/'B'/'manifest.json').stat().st_mtime_ns == b0

def test_recipe_files_table_checksum_and_bam(cells, tmp_path):
    t = pd.DataFrame([dict(cell_type=k.split(':')[0], input=k.split(':')[1], url=u, checksum='') for k, u in toy_files(cells).items()])
    t.loc[0, 'checksum'] = sha256_file(cells['A']['hic'])
    t.to_csv(tmp_path/'files.tsv', sep='\t', index=False)
    r = ds.recipe(TOY, tmp_path/'files.tsv')
    assert (r.source == 'given').all() and r.checksum.iloc[0].startswith('sha256:')
    t.loc[0, 'checksum'] = sha(b'other bytes'); t.to_csv(tmp_path/'bad.tsv', sep='\t', index=False)
    with pytest.raises(ValueError, match='checksum mismatch'):
        ds.build_recipe(TOY, tmp_path/'out', tmp_path/'bad.tsv', cache_dir=tmp_path/'c', progress=False)
    import gzip
    bam = tmp_path/'x.bam'; bam.write_bytes(gzip.compress(b'BAM\x01' + b'\0' * 64))
    with pytest.raises(ValueError, match=r'x\.bam is a BAM file: convert it to a bigWig first.*bamCoverage'):
        ds.build_recipe(TOY, tmp_path/'out2', toy_files(cells, **{'A:atac': str(bam)}), cache_dir=tmp_path/'c', progress=False)
    with pytest.raises(ValueError, match="'A:cage': expected 'CELL:INPUT'"): ds.recipe(TOY, {'A:cage': 'x'})

def test_datasets_cli(cells, tmp_path, capsys):
    from helpers import main_in_process
    rc, out, err = main_in_process(['datasets', 'recipe', 'paper-downstream'], capsys)
    assert rc == 0 and 'gm12878_hg38_ctcf_chiapet_encode' in out and 'missing K562:loops: https://www.encodeproject.org' in out
    rc, out, err = main_in_process(['datasets', 'build-recipe', 'paper-pretrain', tmp_path/'o'], capsys)
    assert rc == 1 and 'lacks 12 input file(s)' in err
    rc, out, err = main_in_process(['datasets', 'build-recipe', 'paper-pretrain', tmp_path/'o', '--file', 'WTC11-hic=x'], capsys)
    assert rc == 2 and 'expected CELL:INPUT=URL' in err
    rc, out, err = main_in_process(['datasets', 'list'], capsys)
    assert rc == 0 and 'k562_hg38_insitu_hic_4dn' in out
    local = ds.register('toy_cli', cells['A']['loops'].as_uri(), sha256_file(cells['A']['loops']), kind='loops', assembly='test')
    rc, out, err = main_in_process(['datasets', 'fetch', 'toy_cli', '--cache-dir', tmp_path/'c'], capsys)
    assert rc == 0 and out.strip() == str(tmp_path/'c'/'toy_cli'/'loops.bedpe')
