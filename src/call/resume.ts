import { APIConnectionError, APIUserAbortError } from 'openai';
import type { CallTrace } from '../observe/telemetry/call-trace.js';
import type { Endpoint } from '../routing/router.js';
import { statusOf } from '../routing/classify.js';
import type { Resumer } from '../streams/guarded-source.js';
import { ResumePoint } from '../streams/resume-point.js';
import { prepareAttempt } from './attempt-options.js';
import type { CallPlan } from './plan.js';
import { abortableSleep } from './signals.js';
import type { Core, RequestOptions } from './types.js';

/**
 * The stream a call asked for, when it can continue after a cut: a Responses run started with
 * `background: true` lives on the server, and so does any stream `responses.retrieve(id,
 * { stream: true })` reads. Its id comes from the path, or later from the stream's first event.
 */
function resumable(options: RequestOptions): { responseId: string | undefined } | undefined {
  if (options.stream !== true) return undefined;
  const method = options.method.toLowerCase();
  if (method === 'post' && options.path === '/responses') {
    const body = options.body as { background?: unknown } | undefined;
    return body?.background === true ? { responseId: undefined } : undefined;
  }
  const retrieve = method === 'get' ? /^\/responses\/([^/]+)$/.exec(options.path) : null;
  return retrieve ? { responseId: decodeURIComponent(retrieve[1]!) } : undefined;
}

/**
 * How the call's stream continues when it breaks after output: on the same endpoint (the one that
 * holds the response, never another), `GET /responses/{id}?stream=true&starting_after=N`, after
 * a wait that doubles each time; undefined for a stream that cannot continue or with `resume: false`.
 */
export function resumerFor(core: Core, plan: CallPlan, endpoint: Endpoint, trace: CallTrace | undefined): Resumer | undefined {
  const settings = core.resume;
  const target = settings ? resumable(plan.options) : undefined;
  if (!settings || !target) return undefined;
  const point = new ResumePoint(target.responseId);
  const { signal, defaults } = plan;
  return {
    point,
    attempts: settings.attempts,
    async open(attempt, error) {
      try {
        const delayMs = settings.delayMs * 2 ** (attempt - 1);
        if (delayMs > 0) await abortableSleep(delayMs, signal);
        const responseId = point.responseId!;
        const event = { endpoint: endpoint.name, responseId, from: point.lastSeq, attempt, error, callId: plan.requestLogID };
        core.emitter.emit('resumed', event);
        trace?.event('resumed', event);
        const request: RequestOptions = {
          method: 'get',
          path: `/responses/${encodeURIComponent(responseId)}`,
          query: { stream: true, starting_after: point.lastSeq },
          stream: true,
          ...(plan.options.headers !== undefined && { headers: plan.options.headers }),
        };
        const options = prepareAttempt(request, endpoint, signal, core.timeouts.streamHeadersMs, defaults, plan.override !== undefined);
        const response = await endpoint.client.request(options).asResponse();
        const type = response.headers.get('content-type') ?? '';
        if (!response.body || !type.includes('text/event-stream')) {
          await response.body?.cancel().catch(() => {});
          throw new APIConnectionError({ message: 'The continued stream is not an event stream.' });
        }
        return response.body.getReader();
      } catch (failure) {
        // Gone (404), or the caller stopped: no more tries. Anything else: the next try may work.
        if (statusOf(failure) === 404 || failure instanceof APIUserAbortError || signal?.aborted) return undefined;
        throw failure;
      }
    },
  };
}
