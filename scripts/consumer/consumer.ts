// @ts-nocheck -- this line is removed when check-package.sh copies the file into a consumer project.
// Root `npm run typecheck` includes scripts/, but this file is only meaningful against the packed
// tarball installed in a consumer's node_modules (dist/ does not exist when CI type-checks).
//
// A TypeScript user of the published package: compile-only (tsc --noEmit) under moduleResolution
// node16, nodenext and bundler, with openai 6 and 7. Nothing here runs.
import ResilientOpenAI, {
  ResilientOpenAI as NamedResilientOpenAI,
  IncompleteStreamError,
  createRetryPolicy,
  getAttemptErrors,
  isIncompleteStreamError,
  withFailover,
  type ResilientOptions,
  type AffinityOptions,
  type AffinityStatus,
  type ResilientStatus,
  type RetryPolicy,
  type SwitchedEvent,
} from 'resilient-openai';
import OpenAI, { APIConnectionError } from 'openai';

const sameClass: typeof NamedResilientOpenAI = ResilientOpenAI;

const retry: RetryPolicy = {
  maxAttempts: 2,
  shouldRetry: ({ attempt }) => attempt < 2,
  delayMs: () => 100,
};
const options: ResilientOptions = {
  apiKey: 'sk-primary',
  baseURL: 'http://127.0.0.1:1/v1',
  fallback: [{ name: 'backup', apiKey: 'sk-fallback', baseURL: 'http://127.0.0.1:2/v1', models: { 'gpt-4o': 'backup-4o' } }],
  retry,
  healthCheck: false,
};
const client = new sameClass(options);
const withDefaultPolicy = new ResilientOpenAI({ ...options, retry: createRetryPolicy({ maxAttempts: 3 }) });

// Wherever the SDK (or a library) expects an OpenAI instance, a ResilientOpenAI fits.
function takesOpenAI(sdk: OpenAI): OpenAI['chat'] {
  return sdk.chat;
}
const asOpenAI: OpenAI = client;
takesOpenAI(withDefaultPolicy);
const derived: ResilientOpenAI = client.withOptions({ timeout: 5_000 });

client.on('switched', (event: SwitchedEvent) => {
  const route: string = `${event.from} -> ${event.to}`;
  const reason: 'error' | 'healthcheck' | 'recovered' | 'remote' | 'quota' | 'rate-limit' = event.reason;
  const callId: string | undefined = event.callId;
  void [route, reason, callId];
});
client.once('recovered', (event) => {
  const ms: number = event.downtimeMs;
  void ms;
});
// @ts-expect-error -- event names are checked: a typo must not compile.
client.on('switch', () => {});
// @ts-expect-error -- listener payloads are typed: `switched` has no `downtimeMs`.
client.on('switched', (event) => event.downtimeMs.toFixed());

async function main(): Promise<void> {
  const completion = await asOpenAI.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
  const text: string | null | undefined = completion.choices[0]?.message.content;
  const stream = await client.chat.completions.create(
    { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], stream: true },
    withFailover('deny', { timeout: 10_000 }),
  );
  try {
    for await (const chunk of stream) void chunk.choices[0]?.delta.content;
  } catch (error) {
    if (isIncompleteStreamError(error)) {
      const endpoint: string = error.endpoint;
      void endpoint;
    }
    if (error instanceof IncompleteStreamError) {
      const asConnectionError: APIConnectionError = error;
      void asConnectionError;
    }
    for (const failure of getAttemptErrors(error)) void failure.endpoint;
  }
  const status: ResilientStatus = client.getStatus();
  const active: string = status.activeEndpoint;
  const up: boolean = status.isMainApiAvailable && status.endpoints.every((e) => e.available);
  const remembered: AffinityStatus = status.affinity;
  const bounds: AffinityOptions = { maxIds: remembered.maxIds, ttlMs: remembered.ttlMs };
  void new ResilientOpenAI({ affinity: bounds }).close();
  void new ResilientOpenAI({ affinity: false }).close();
  const recovered: boolean = await client.checkPrimary();
  void [text, active, up, recovered, derived];
  client.close();
}
void main;
