// Re-renders a results table from the JSON the harness saved beside it,
// keeping a hand-written "## Findings" section of the existing .md:
//   node bench/render.mjs bench/results/<date>-<host>.json

import { readFile, writeFile } from 'node:fs/promises';
import { renderReport } from './lib/report.mjs';

const file = process.argv[2];
if (!file?.endsWith('.json')) {
  console.error('usage: node bench/render.mjs <results>.json');
  process.exit(2);
}
const saved = JSON.parse(await readFile(file, 'utf8'));
const resolutions = [...new Set(saved.runs.map((run) => run.resolution))].map((text) => {
  const [width, height] = text.split('x').map(Number);
  return { width, height };
});
const target = file.replace(/\.json$/, '.md');
const previous = await readFile(target, 'utf8').catch(() => '');
const findings = previous.indexOf('\n## Findings');
const kept = findings >= 0 ? previous.slice(findings) : '';
await writeFile(target, renderReport({ ...saved, resolutions }).trimEnd() + '\n' + kept);
console.error(`wrote ${target}`);
