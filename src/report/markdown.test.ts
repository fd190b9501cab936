import { describe, expect, it } from 'vitest';
import { MISSING, blocks, bulletList, columnDigits, escapeCell, fmt, heading, image, missing, numberedList, table } from './markdown.js';

describe('fmt', () => {
  it('formats with fixed decimals', () => {
    expect(fmt(3.14159)).toBe('3.14');
    expect(fmt(3.14159, 0)).toBe('3');
    expect(fmt(2, 3)).toBe('2.000');
    expect(fmt(1234.5, 1)).toBe('1234.5');
  });
  it('renders missing and non-finite values', () => {
    expect(fmt(null)).toBe(MISSING);
    expect(fmt(undefined)).toBe(MISSING);
    expect(fmt(Number.NaN)).toBe(MISSING);
    expect(fmt(Number.POSITIVE_INFINITY)).toBe('∞');
    expect(fmt(Number.NEGATIVE_INFINITY)).toBe('-∞');
  });
  it('never prints negative zero', () => {
    expect(fmt(-0.001, 2)).toBe('0.00');
    expect(fmt(-0)).toBe('0.00');
    expect(fmt(-0.4, 0)).toBe('0');
    expect(fmt(-0.006, 2)).toBe('-0.01');
  });
  it('rejects bad digit counts', () => {
    expect(() => fmt(1, -1)).toThrow(RangeError);
    expect(() => fmt(1, 1.5)).toThrow(RangeError);
  });
});

describe('columnDigits', () => {
  it('keeps integers whole and gives three significant digits to the smallest value', () => {
    expect(columnDigits([1, 20, 300])).toBe(0);
    expect(columnDigits([12.3, 450])).toBe(1);
    expect(columnDigits([1.5, 2000])).toBe(2);
    expect(columnDigits([0.012, 3])).toBe(4);
    expect(columnDigits([0, 0.5])).toBe(3);
    expect(columnDigits([1e-12, 0.5])).toBe(6);
    expect(columnDigits([150.7])).toBe(0);
    expect(columnDigits([])).toBe(0);
  });
});

describe('table', () => {
  it('renders numbers, nulls and text with auto alignment', () => {
    const md = table(
      ['backend', 'median (ms)', 'runs', 'note'],
      [
        ['process', 1.234, 10, 'ok'],
        ['vm', 2500.5, 10, null],
        ['docker', null, 0, missing('no daemon')],
      ],
    );
    expect(md).toBe(
      [
        '| backend | median (ms) | runs | note                        |',
        '| :------ | ----------: | ---: | :-------------------------- |',
        '| process |        1.23 |   10 | ok                          |',
        '| vm      |     2500.50 |   10 | —                           |',
        '| docker  |           — |    0 | — (not measured: no daemon) |',
      ].join('\n'),
    );
  });
  it('takes explicit alignment and escapes pipes and newlines', () => {
    const md = table(['a|b', 'c'], [['x|y', 'line\nbreak']], 'c');
    expect(md).toBe(['| a\\|b |      c     |', '| :--: | :--------: |', '| x\\|y | line break |'].join('\n'));
  });
  it('rejects ragged rows and empty headers', () => {
    expect(() => table(['a', 'b'], [['only one']])).toThrow(RangeError);
    expect(() => table([], [])).toThrow(RangeError);
  });
  it('renders a header-only table', () => {
    expect(table(['a'], [])).toBe('| a  |\n| :- |');
  });
});

describe('blocks of text', () => {
  it('heading', () => {
    expect(heading('Start-up')).toBe('## Start-up');
    expect(heading('Title', 1)).toBe('# Title');
    expect(heading('two\nlines', 3)).toBe('### two lines');
    expect(() => heading('x', 7)).toThrow(RangeError);
  });
  it('lists', () => {
    expect(bulletList(['one', 'two'])).toBe('- one\n- two');
    expect(bulletList(['multi\nline'])).toBe('- multi\n  line');
    expect(bulletList([])).toBe('');
    expect(numberedList(['a', 'b\nc'])).toBe('1. a\n2. b\n   c');
  });
  it('missing', () => {
    expect(missing('KVM not available')).toBe('— (not measured: KVM not available)');
    expect(missing()).toBe('—');
    expect(missing('  ')).toBe('—');
  });
  it('image and escapeCell', () => {
    expect(image('start-up [ms]', 'charts/start up.svg')).toBe('![start-up \\[ms\\]](charts/start%20up.svg)');
    expect(image('x', 'a (1).svg')).toBe('![x](a%20%281%29.svg)');
    expect(escapeCell('a\\b')).toBe('a\\\\b');
  });
  it('blocks joins with blank lines and skips empties', () => {
    expect(blocks(heading('A'), '', null, false, 'text\n\n', bulletList(['x']))).toBe('## A\n\ntext\n\n- x\n');
  });
});
