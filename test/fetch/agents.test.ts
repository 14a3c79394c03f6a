// The OpenAI Agents SDK given a ResilientOpenAI: its models call the client's resources (never
// `client.fetch`), and every run fails over to the fallback with exact counts (a loop would show
// as extra requests or a run that never ends).
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ResilientOpenAI } from '../../src/index.js';
import { chat, FALLBACK_KEY, PRIMARY_KEY, setup } from '../support/harness.js';
import { countFetchReads } from './support.js';

// Nothing of the Agents SDK's tracing leaves the machine (its exporter posts to api.openai.com).
process.env.OPENAI_AGENTS_DISABLE_TRACING = '1';

type AgentsOpenAI = typeof import('@openai/agents-openai');
type AgentsCore = typeof import('@openai/agents-core');
/** The Agents SDK types its client as openai 7's `OpenAI`; ours is the installed openai's. */
type AgentsClient = ConstructorParameters<AgentsOpenAI['OpenAIResponsesModel']>[0];
const asAgentsClient = (client: ResilientOpenAI) => client as unknown as AgentsClient;

async function failing() {
  const ctx = await setup();
  ctx.primary.setFault({ kind: 'bad-gateway' });
  return ctx;
}

// @openai/agents-openai depends on openai 7, which needs Node 22: on Node 20 this suite is skipped
// (and its modules are imported only when it runs).
describe.skipIf(Number(process.versions.node.split('.')[0]) < 22)('the OpenAI Agents SDK over a ResilientOpenAI', () => {
  let agents: AgentsOpenAI;
  let core: AgentsCore;

  beforeAll(async () => {
    agents = await import('@openai/agents-openai');
    core = await import('@openai/agents-core');
    core.setTracingDisabled(true);
  });

  afterEach(() => {
    agents.setDefaultOpenAIClient(undefined as unknown as AgentsClient);
  });

  const agentNamed = (model?: ConstructorParameters<AgentsCore['Agent']>[0]['model']) =>
    new core.Agent({ name: 'greeter', instructions: 'Answer briefly.', model: model ?? 'gpt-test' });

  it('OpenAIProvider({ openAIClient }): a Responses run ends with the fallback’s text; client.fetch is never read', async () => {
    const { client, primary, fallback, events } = await failing();
    const reads = countFetchReads(client);
    const runner = new core.Runner({ modelProvider: new agents.OpenAIProvider({ openAIClient: asAgentsClient(client) }) });
    const result = await runner.run(agentNamed(), 'hi');
    expect(result.finalOutput).toBe('hello from fallback');
    expect(reads()).toBe(0);
    expect(primary.count()).toBe(1);
    expect(primary.count('/responses')).toBe(1);
    expect(fallback.count()).toBe(1);
    expect(fallback.count('/responses')).toBe(1);
    expect(events.switched).toHaveLength(1);
    expect(primary.requests[0]!.headers.authorization).toBe(`Bearer ${PRIMARY_KEY}`);
    expect(fallback.requests[0]!.headers.authorization).toBe(`Bearer ${FALLBACK_KEY}`);
    expect(fallback.requests[0]!.json).toMatchObject({ model: 'gpt-test', instructions: 'Answer briefly.', stream: false });
  });

  it('a streamed Responses run: the text stream and the final output are the fallback’s', async () => {
    const { client, primary, fallback } = await failing();
    const runner = new core.Runner({ modelProvider: new agents.OpenAIProvider({ openAIClient: asAgentsClient(client) }) });
    const result = await runner.run(agentNamed(), 'hi', { stream: true });
    let text = '';
    for await (const delta of result.toTextStream()) text += delta;
    await result.completed;
    expect(text).toBe('hello from fallback');
    expect(result.finalOutput).toBe('hello from fallback');
    expect(primary.count()).toBe(1);
    expect(fallback.count()).toBe(1);
    expect(fallback.requests[0]!.json).toMatchObject({ model: 'gpt-test', stream: true });
  });

  it('new OpenAIResponsesModel(client, model) as the agent’s model', async () => {
    const { client, primary, fallback } = await failing();
    const model = new agents.OpenAIResponsesModel(asAgentsClient(client), 'gpt-test');
    const result = await core.run(agentNamed(model), 'hi');
    expect(result.finalOutput).toBe('hello from fallback');
    expect(primary.count('/responses')).toBe(1);
    expect(fallback.count('/responses')).toBe(1);
    expect(primary.count() + fallback.count()).toBe(2);
  });

  it('OpenAIChatCompletionsModel: a run and a streamed run', async () => {
    const { client, primary, fallback } = await failing();
    const model = new agents.OpenAIChatCompletionsModel(asAgentsClient(client), 'gpt-test');
    const result = await core.run(agentNamed(model), 'hi');
    expect(result.finalOutput).toBe('hello from fallback');
    const streamed = await core.run(agentNamed(model), 'hi', { stream: true });
    let text = '';
    for await (const delta of streamed.toTextStream()) text += delta;
    await streamed.completed;
    expect(text).toBe('hello from fallback');
    expect(streamed.finalOutput).toBe('hello from fallback');
    expect(primary.count()).toBe(1);
    expect(fallback.count('/chat/completions')).toBe(2);
    expect(fallback.count()).toBe(2);
    expect(fallback.requests.map((r) => (r.json as { stream?: unknown }).stream)).toEqual([false, true]);
  });

  it('a chat agent with a function tool: the tool call and the answer to its result, both on the fallback', async () => {
    const { client, primary, fallback } = await failing();
    const weather = core.tool({
      name: 'weather',
      description: 'The weather in a city',
      parameters: z.object({ city: z.string() }),
      execute: ({ city }) => `sunny in ${city}`,
    });
    const agent = new core.Agent({
      name: 'forecaster',
      instructions: 'Use the tool.',
      model: new agents.OpenAIChatCompletionsModel(asAgentsClient(client), 'gpt-test'),
      tools: [weather],
    });
    const result = await core.run(agent, 'weather in Paris?');
    expect(result.finalOutput).toBe('tool result was: sunny in Paris (from fallback)');
    expect(primary.count()).toBe(1);
    expect(fallback.count('/chat/completions')).toBe(2);
    expect(fallback.count()).toBe(2);
    const last = (fallback.requests[1]!.json as { messages: { role: string; content: unknown }[] }).messages.at(-1);
    expect(last).toMatchObject({ role: 'tool', content: 'sunny in Paris' });
  });

  it('setDefaultOpenAIClient(client) with the default OpenAIProvider', async () => {
    const { client, primary, fallback } = await failing();
    agents.setDefaultOpenAIClient(asAgentsClient(client));
    const runner = new core.Runner({ modelProvider: new agents.OpenAIProvider() });
    const result = await runner.run(agentNamed(), 'hi');
    expect(result.finalOutput).toBe('hello from fallback');
    expect(primary.count()).toBe(1);
    expect(fallback.count('/responses')).toBe(1);
    expect(fallback.count()).toBe(1);
    // The same client answers an SDK call afterwards, still on the fallback.
    expect((await client.chat.completions.create(chat)).choices[0]!.message.content).toBe('hello from fallback');
    expect(primary.count()).toBe(1);
    expect(fallback.count()).toBe(2);
  });
});
