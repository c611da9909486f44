import { describe, expect, it } from 'vitest';
import { ensureWebBuild, firstLoadJs } from './support.js';

describe('dashboard bundle', () => {
  it('loads less than 350 KB of gzipped JavaScript on first load', () => {
    ensureWebBuild();
    const { files, gzip } = firstLoadJs();
    process.stdout.write(
      `first-load JS: ${files.map((f) => `${f.file} ${(f.gzip / 1024).toFixed(1)} KB gz`).join(', ')}; total ${(gzip / 1024).toFixed(1)} KB gz\n`,
    );
    expect(files.length).toBeGreaterThan(0);
    expect(gzip).toBeLessThan(350 * 1024);
  });
});
