// What the in-memory fetch of steps 1b, 5 and 9 answers: a chat completion, and chat stream events.

/** A chat completion of one short message, as its object (step 9 adds usage). */
export const COMPLETION = {
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 1,
  model: 'bench',
  choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'hi' } }],
};

/** One chat stream event on the wire: a delta, and the finish reason of the last one. */
export const event = (delta, finish = null) =>
  `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'bench', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
