import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { STREAM_ENDPOINTS } from '../../src/streams/rules/table.js';

// The README lists the frames that end each stream; the table in code is the source.
describe('README "Streams that tell the truth"', () => {
  it('lists every streaming endpoint and its terminal frames as src/streams/rules/table.ts does', () => {
    const url = new URL('../../README.md', import.meta.url);
    const start = '<!-- stream-endpoints:start -->\n';
    const end = '<!-- stream-endpoints:end -->';
    const rows = STREAM_ENDPOINTS.map(
      (e) =>
        `| \`${e.path}\` | ${
          e.terminal.includes('`') ?
            e.terminal
          : e.terminal
              .split(', ')
              .map((n) => `\`${n}\``)
              .join(', ')
        } |`,
    );
    const table = ['| Path | Ends at |', '|---|---|', ...rows].join('\n') + '\n';
    let readme = readFileSync(url, 'utf8');
    if (process.env.UPDATE_README_TABLES) {
      readme = readme.slice(0, readme.indexOf(start) + start.length) + table + readme.slice(readme.indexOf(end));
      writeFileSync(url, readme);
    }
    expect(STREAM_ENDPOINTS.length).toBeGreaterThanOrEqual(8);
    expect(readme).toContain(`${start}${table}${end}`);
  });
});
