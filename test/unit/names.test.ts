// The data file: downloaded on first use, verified by SHA-256, written atomically; clear errors.
// The download is tested against a real HTTP server on 127.0.0.1.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { AddressInfo } from 'net';
import { DEFAULT_NAMES_PATH, downloadNames, loadNames, NAMES_BYTES } from '../../lib/data/names';
import { NAMES_FILE } from '../helpers/paths';

const good = fs.readFileSync(NAMES_FILE);
let server: http.Server;
let base = '';

before(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/names.txt') return res.end(good);
    if (req.url === '/truncated.txt') return res.end(good.subarray(0, 1000));
    if (req.url === '/wrong.txt') return res.end(Buffer.from(good.toString('utf8').toUpperCase()));
    res.statusCode = 404;
    res.end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

const tmpDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'makemore-names-'));

test('downloads, verifies and keeps the file; the next load reads it without the network', async () => {
  const dir = tmpDir();
  const dest = path.join(dir, 'sub', 'names.txt');
  const words = await loadNames({ file: dest, url: `${base}/names.txt` });
  assert.equal(words.length, 32033);
  assert.deepEqual(words.slice(0, 3), ['emma', 'olivia', 'ava']);
  assert.equal(fs.statSync(dest).size, NAMES_BYTES);
  assert.deepEqual(fs.readdirSync(path.dirname(dest)), ['names.txt']);
  const again = await loadNames({ file: dest, url: `${base}/missing-now.txt` });
  assert.equal(again.length, 32033);
});

for (const [what, url] of [
  ['a truncated file', '/truncated.txt'],
  ['a wrong file', '/wrong.txt'],
]) {
  test(`${what} is refused with a checksum error and nothing is written`, async () => {
    const dir = tmpDir();
    const dest = path.join(dir, 'names.txt');
    await assert.rejects(downloadNames(`${base}${url}`, dest), (e: Error) => {
      assert.match(e.message, /not the expected names\.txt/);
      assert.match(e.message, /SHA-256/);
      assert.match(e.message, /karpathy\/makemore/);
      assert.ok(e.message.includes(dest), 'the error says where to put the file');
      return true;
    });
    assert.deepEqual(fs.readdirSync(dir), [], 'no partial or temporary file is left');
  });
}

test('an HTTP error and an unreachable server say where to get the file', async () => {
  const dir = tmpDir();
  const dest = path.join(dir, 'names.txt');
  await assert.rejects(downloadNames(`${base}/nope.txt`, dest), /HTTP 404.*karpathy\/makemore.*MAKEMORE_NAMES/s);
  // A port nobody listens on: connection refused, as with no network.
  const closed = http.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  await assert.rejects(
    downloadNames(`http://127.0.0.1:${port}/names.txt`, dest),
    /Could not download.*ECONNREFUSED.*save it as/s,
  );
  assert.deepEqual(fs.readdirSync(dir), []);
});

test('a corrupt local file is reported, and kept as it is', async () => {
  const dir = tmpDir();
  const dest = path.join(dir, 'names.txt');
  fs.writeFileSync(dest, good.subarray(0, 5000));
  await assert.rejects(loadNames({ file: dest, url: `${base}/names.txt` }), /not the expected names\.txt/);
  assert.equal(fs.statSync(dest).size, 5000, "the user's file is not deleted or overwritten");
});

test('MAKEMORE_NAMES pointing at a missing file is an error that names it', async () => {
  const saved = process.env.MAKEMORE_NAMES;
  process.env.MAKEMORE_NAMES = '/nonexistent/names.txt';
  try {
    await assert.rejects(loadNames(), /MAKEMORE_NAMES=\/nonexistent\/names\.txt, but there is no such file/);
  } finally {
    if (saved === undefined) delete process.env.MAKEMORE_NAMES;
    else process.env.MAKEMORE_NAMES = saved;
  }
});

test('with no settings, the names come from the committed data/names.txt, without the network', async () => {
  const saved = { names: process.env.MAKEMORE_NAMES, url: process.env.MAKEMORE_NAMES_URL };
  delete process.env.MAKEMORE_NAMES;
  // Any download would fail: the file must be read from the repository.
  process.env.MAKEMORE_NAMES_URL = `${base}/nope.txt`;
  try {
    assert.ok(fs.existsSync(DEFAULT_NAMES_PATH), 'data/names.txt is in the repository');
    const words = await loadNames();
    assert.equal(words.length, 32033);
    assert.deepEqual(words.slice(-2), ['zyron', 'zzyzx']);
    assert.equal(fs.statSync(DEFAULT_NAMES_PATH).size, NAMES_BYTES);
  } finally {
    if (saved.names === undefined) delete process.env.MAKEMORE_NAMES;
    else process.env.MAKEMORE_NAMES = saved.names;
    if (saved.url === undefined) delete process.env.MAKEMORE_NAMES_URL;
    else process.env.MAKEMORE_NAMES_URL = saved.url;
  }
});

test('MAKEMORE_NAMES still overrides the committed file', async () => {
  const dir = tmpDir();
  const copy = path.join(dir, 'names.txt');
  fs.writeFileSync(copy, good.subarray(0, 100));
  const saved = process.env.MAKEMORE_NAMES;
  process.env.MAKEMORE_NAMES = copy;
  try {
    // The override is read (and checked), not the committed file.
    await assert.rejects(
      loadNames(),
      (e: Error) =>
        e.message.includes(copy) && /Point MAKEMORE_NAMES at a copy/.test(e.message) && !/delete/i.test(e.message),
    );
  } finally {
    if (saved === undefined) delete process.env.MAKEMORE_NAMES;
    else process.env.MAKEMORE_NAMES = saved;
  }
});
