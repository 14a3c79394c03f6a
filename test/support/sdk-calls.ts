/** SDK calls several test files make the same way, against the fake upstream's fixed data. */
import type OpenAI from 'openai';
import type { Upstream } from './upstream.js';

/** Every model and every batch, through the SDK's auto-pagination (the fake has 2 models, and 5 batches at 2 a page). */
export async function listEverything(client: OpenAI): Promise<{ models: string[]; batches: string[] }> {
  const models: string[] = [];
  for await (const model of client.models.list()) models.push(model.id);
  const batches: string[] = [];
  for await (const batch of client.batches.list()) batches.push(batch.id);
  return { models, batches };
}

export const ALL_PAGES = { models: ['model-a', 'model-b'], batches: ['batch_1', 'batch_2', 'batch_3', 'batch_4', 'batch_5'] };

/** The `after` cursor of each batch page an upstream served: the first page has none. */
export const batchCursors = (upstream: Upstream) => upstream.requests.filter((r) => r.path.endsWith('/batches')).map((r) => r.query.after);

/** The text of a chat completion stream. */
export async function streamText(stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  return text;
}
