import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CUT_MARKER,
  escapeMarkdown,
  show,
  truncate,
  truncateBytes,
  utf8Length,
} from '../../src/providers/text.js';

describe('truncate: at most max UTF-16 units, ending with the marker when cut', () => {
  it('leaves text that fits as it is', () => {
    assert.equal(truncate('abc', 3), 'abc');
  });

  it('cuts to exactly max, the marker included', () => {
    const cut = truncate('abcdefghijklmnopqrstuvwxyz', 20);
    assert.equal(cut, 'abcdefg… [truncated]');
    assert.equal(cut.length, 20);
  });

  it('never leaves half of a surrogate pair before the marker', () => {
    assert.equal(truncate('ab😀cdefghijklmnop', 16), 'ab… [truncated]');
    assert.equal(truncate('a😀bcdefghijklmnop', 16), 'a😀… [truncated]');
  });

  it('gives part of the marker when max leaves no room for text', () => {
    assert.equal(truncate('abcdefghijklmnopqrstuvwxyz', 4), '… [t');
    assert.equal(truncate('abcdefghijklmnopqrstuvwxyz', 0), '');
  });

  it('takes another marker', () => {
    assert.equal(truncate('abcdefgh', 5, '…'), 'abcd…');
  });
});

describe('truncateBytes: at most maxBytes of UTF-8, as WeCom counts', () => {
  it('cuts on whole characters, the marker included in the count', () => {
    assert.equal(utf8Length(CUT_MARKER), 15);
    const cut = truncateBytes('数据数据数据数据', 20);
    assert.equal(cut, '数… [truncated]');
    assert.ok(utf8Length(cut) <= 20);
  });

  it('leaves text that fits, and gives nothing when not even the marker fits', () => {
    assert.equal(truncateBytes('数据', 6), '数据');
    assert.equal(truncateBytes('数据', 3), '');
  });
});

describe('show and escapeMarkdown', () => {
  it('shows a value as short text: strings as they are, other values as compact JSON, none as —', () => {
    assert.equal(show('30d'), '30d');
    assert.equal(show([1, { a: 2 }]), '[1,{"a":2}]');
    assert.equal(show(null), '—');
    assert.equal(show(undefined), '—');
    assert.equal(show(false), 'false');
    assert.equal(show('x'.repeat(400)), `${'x'.repeat(287)}${CUT_MARKER}`);
    assert.equal(show('x'.repeat(40), 20), `${'x'.repeat(7)}${CUT_MARKER}`);
  });

  it('escapes every markdown control character with a backslash', () => {
    assert.equal(escapeMarkdown('a_b*c[d](e)#>|~`\\'), 'a\\_b\\*c\\[d\\]\\(e\\)\\#\\>\\|\\~\\`\\\\');
    assert.equal(escapeMarkdown('plain text.'), 'plain text.');
  });
});
