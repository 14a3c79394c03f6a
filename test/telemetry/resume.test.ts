import { afterEach, describe, expect, it } from 'vitest';
import { ResilientOpenAI } from '../../src/index.js';
import { FIRST_OUTPUT, ID, frames, server } from '../support/background-stream.js';
import { scriptedUpstream } from '../support/scripted-sse.js';
import { useTracing } from './tracing.js';

const tracing = useTracing();
const open: { close(): unknown }[] = [];
afterEach(async () => {
  while (open.length) await open.pop()!.close();
});

describe('telemetry of a continued stream', () => {
  it("a background stream continued after a cut: a resumed event on the call's span, which ends once, whole", async () => {
    const primary = await scriptedUpstream(server);
    open.push(primary);
    const client = new ResilientOpenAI({
      apiKey: 'sk-primary-0123456789',
      baseURL: primary.url,
      fallback: { apiKey: 'sk-fb-0123456789', baseURL: primary.url },
      healthCheck: false,
      resume: { delayMs: 1 },
    });
    open.push(client);
    primary.queue([{ write: frames(0, FIRST_OUTPUT + 1) }, { cut: true }]);
    for await (const _ of await client.responses.create({ model: 'gpt-test', input: 'hi', background: true, stream: true }));
    // The call's span (the GenAI operation) and its one attempt's; the continuation is part of the call.
    const [call, ...others] = tracing.byName('chat gpt-test');
    expect(others).toEqual([]);
    expect(tracing.byName('POST')).toHaveLength(1);
    const resumed = call!.events.filter((e) => e.name === 'resilient_openai.resumed');
    expect(resumed).toHaveLength(1);
    expect(resumed[0]!.attributes).toMatchObject({
      'resilient_openai.endpoint': 'primary',
      'gen_ai.response.id': ID,
      'resilient_openai.from_sequence_number': FIRST_OUTPUT,
      'resilient_openai.resume_attempt': 1,
    });
    expect(call!.attributes['error.type']).toBeUndefined();
  });
});
