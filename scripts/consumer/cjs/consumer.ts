// @ts-nocheck -- this line is removed when check-package.sh copies the file into a consumer project.
// Root `npm run typecheck` includes scripts/, but this file is only meaningful against the packed
// tarball installed in a consumer's node_modules (dist/ does not exist when CI type-checks).
//
// A CommonJS TypeScript user (no "type": "module", module node16): these imports compile to
// require('resilient-openai'), which loads dist/index.cjs typed by dist/index.d.cts. The emitted
// JavaScript is then run against two loopback upstreams to prove the compiled require() works.
import ResilientOpenAIDefault, { ResilientOpenAI, type ResilientOptions, type SwitchedEvent } from 'resilient-openai';
import { OpenAI } from 'openai';

interface Upstreams {
  check(Resilient: typeof ResilientOpenAI, Base: typeof OpenAI, label: string): Promise<void>;
}
const upstreams: Upstreams = require('../upstreams.cjs');

const options: ResilientOptions = {
  apiKey: 'sk-cjs',
  baseURL: 'http://127.0.0.1:1/v1',
  fallback: { apiKey: 'sk-cjs-2', baseURL: 'http://127.0.0.1:2/v1' },
  healthCheck: false,
};
const asOpenAI: OpenAI = new ResilientOpenAIDefault(options);
(asOpenAI as ResilientOpenAI).on('switched', (event: SwitchedEvent) => void event.to);
(asOpenAI as ResilientOpenAI).close();

if (ResilientOpenAIDefault !== ResilientOpenAI) throw new Error('default import differs from the named import');
upstreams.check(ResilientOpenAI, OpenAI, 'TypeScript CommonJS (module node16)').catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
