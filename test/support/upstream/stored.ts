/**
 * A backend with stored state, as the real API has: responses, conversations, files, vector
 * stores and batches live on the upstream that created them (ids carry its name), and any other
 * upstream answers what the real API answers for an id it does not know: a 404 (for a previous
 * response, the "previous response not found" error), or a 400 for reasoning it cannot decrypt.
 */
import { parseMultipart } from './multipart.js';
import { responsesReply } from './responses.js';
import type { RouteRequest } from './routes.js';
import { asArr, asObj, asStr, nowSec, type Obj } from './values.js';
import type { Reply } from './wire.js';

type Kind = 'response' | 'item' | 'conversation' | 'file' | 'vector_store' | 'batch';

const json = (body: unknown): Reply => ({ kind: 'json', status: 200, body });

function notFound(what: string, id: string, param: string | null = null, code = 'not_found'): Reply {
  return {
    kind: 'json',
    status: 404,
    body: { error: { message: `${what} with id '${id}' not found.`, type: 'invalid_request_error', param, code } },
  };
}

export class StoredObjects {
  readonly #objects = new Map<string, { kind: Kind; body: Obj }>();
  /** Reasoning items this upstream produced: only it can read their `encrypted_content`. */
  readonly #encrypted = new Set<string>();

  constructor(readonly name: string) {}

  /** Ids this upstream created, of one kind or all. */
  ids(kind?: Kind): string[] {
    return [...this.#objects].filter(([, o]) => !kind || o.kind === kind).map(([id]) => id);
  }

  #has(id: unknown, kind: Kind): boolean {
    return typeof id === 'string' && this.#objects.get(id)?.kind === kind;
  }

  #put(kind: Kind, id: string, body: Obj): Reply {
    this.#objects.set(id, { kind, body });
    return json(body);
  }

  /** The reply for a stored-state route, or undefined for routes it does not own. */
  route(r: RouteRequest): Reply | undefined {
    const method = r.req.method ?? 'GET';
    const parts = (r.sub ?? '').split('/').filter(Boolean);
    const [root, id, sub] = parts;
    const body = asObj(r.json);
    switch (root) {
      case 'responses':
        if (method === 'POST' && id === undefined) return this.#createResponse(r, body);
        if (id === undefined || id === 'input_tokens' || id === 'compact') return undefined;
        if (!this.#has(id, 'response')) return notFound('Response', id);
        if (method === 'DELETE') return this.#delete(id, 'response');
        if (sub === 'input_items') return json({ object: 'list', data: [], has_more: false, first_id: null, last_id: null });
        return json(this.#objects.get(id)!.body);
      case 'conversations':
        if (method === 'POST' && id === undefined) {
          const cid = `conv_${this.name}_${r.n}`;
          return this.#put('conversation', cid, { id: cid, object: 'conversation', created_at: nowSec(), metadata: {} });
        }
        if (id === undefined) return undefined;
        if (!this.#has(id, 'conversation')) return notFound('Conversation', id);
        return json(this.#objects.get(id)!.body);
      case 'files':
        return this.#files(r, method, id, sub);
      case 'vector_stores':
        return this.#vectorStores(method, body, id, sub, r.n);
      case 'batches':
        if (method === 'POST' && id === undefined) {
          if (!this.#has(body.input_file_id, 'file')) return notFound('File', asStr(body.input_file_id), 'input_file_id');
          const bid = `batch_${this.name}_${r.n}`;
          return this.#put('batch', bid, {
            id: bid,
            object: 'batch',
            endpoint: body.endpoint,
            input_file_id: body.input_file_id,
            status: 'validating',
            created_at: nowSec(),
          });
        }
        if (id === undefined) return undefined;
        if (!this.#has(id, 'batch')) return notFound('Batch', id);
        return json(this.#objects.get(id)!.body);
      default:
        return undefined;
    }
  }

  #delete(id: string, kind: Kind): Reply {
    this.#objects.delete(id);
    return json({ id, object: `${kind}.deleted`, deleted: true });
  }

  #createResponse(r: RouteRequest, body: Obj): Reply {
    const previous = body.previous_response_id;
    if (previous != null && !this.#has(previous, 'response')) {
      return notFound('Previous response', asStr(previous), 'previous_response_id', 'previous_response_not_found');
    }
    const conversation = typeof body.conversation === 'string' ? body.conversation : asStr(asObj(body.conversation).id) || undefined;
    if (conversation !== undefined && !this.#has(conversation, 'conversation'))
      return notFound('Conversation', conversation, 'conversation');
    for (const item of asArr(body.input).map(asObj)) {
      if (item.type === 'item_reference' && !this.#objects.has(asStr(item.id))) return notFound('Item', asStr(item.id), 'input');
      if (typeof item.encrypted_content === 'string' && !this.#encrypted.has(asStr(item.id))) {
        return {
          kind: 'json',
          status: 400,
          body: {
            error: {
              message: 'The encrypted content could not be decrypted.',
              type: 'invalid_request_error',
              param: 'input',
              code: 'invalid_encrypted_content',
            },
          },
        };
      }
    }
    const rid = `resp_${this.name}_${r.n}`;
    const mid = `msg_${this.name}_${r.n}`;
    const reasoning = asArr(body.include).includes('reasoning.encrypted_content');
    const rsid = `rs_${this.name}_${r.n}`;
    // The plain reply, with this upstream's own ids (and a reasoning item when it was asked for).
    const reply = JSON.parse(
      JSON.stringify(responsesReply(this.name, r.n, body))
        .replaceAll(`"resp_${r.n}"`, JSON.stringify(rid))
        .replaceAll('"msg_1"', JSON.stringify(mid)),
    ) as Reply;
    const withReasoning = (response: Obj): Obj =>
      reasoning && Array.isArray(response.output) && response.status === 'completed' ?
        {
          ...response,
          output: [{ type: 'reasoning', id: rsid, summary: [], encrypted_content: `sealed-by-${this.name}` }, ...response.output],
        }
      : response;
    if (reasoning) this.#encrypted.add(rsid);
    if (reply.kind === 'json') {
      const response = withReasoning(asObj(reply.body));
      if (body.store !== false) this.#put('response', rid, response);
      this.#items(response);
      return { ...reply, body: response };
    }
    if (reply.kind === 'sse') {
      for (const event of reply.events) {
        const data = asObj(event.data);
        if (data.response) data.response = withReasoning(asObj(data.response));
        if (event.event === 'response.completed' && body.store !== false) {
          this.#objects.set(rid, { kind: 'response', body: asObj(data.response) });
          this.#items(asObj(data.response));
        }
      }
    }
    return reply;
  }

  /** Output items are stored items too (an `item_reference` may name them). */
  #items(response: Obj): void {
    for (const item of asArr(response.output).map(asObj))
      if (typeof item.id === 'string') this.#objects.set(item.id, { kind: 'item', body: item });
  }

  #files(r: RouteRequest, method: string, id: string | undefined, sub: string | undefined): Reply | undefined {
    if (method === 'POST' && id === undefined) {
      const parts = parseMultipart(r.raw, String(r.req.headers['content-type'] ?? ''));
      const file = parts.find((p) => p.name === 'file');
      const purpose = parts.find((p) => p.name === 'purpose')?.data.toString() ?? 'assistants';
      const fid = `file-${this.name}-${r.n}`;
      return this.#put('file', fid, {
        id: fid,
        object: 'file',
        bytes: file?.data.length ?? 0,
        created_at: nowSec(),
        filename: file?.filename ?? 'file',
        purpose,
        status: 'processed',
      });
    }
    if (method === 'GET' && id === undefined) {
      const all = this.ids('file').map((fid) => this.#objects.get(fid)!.body);
      const limit = Math.max(1, Number.parseInt(r.query.limit ?? '20', 10) || 20);
      const start = r.query.after ? all.findIndex((f) => f.id === r.query.after) + 1 : 0;
      // An unknown cursor is an error, as the real API answers it.
      if (r.query.after && start === 0) return notFound('File', r.query.after, 'after');
      const data = all.slice(start, start + limit);
      return json({
        object: 'list',
        data,
        has_more: start + data.length < all.length,
        first_id: data[0]?.id ?? null,
        last_id: data.at(-1)?.id ?? null,
      });
    }
    if (id === undefined) return undefined;
    if (!this.#has(id, 'file')) return notFound('File', id);
    if (method === 'DELETE') return this.#delete(id, 'file');
    if (sub === 'content')
      return { kind: 'text', status: 200, contentType: 'application/octet-stream', text: `content of ${id} from ${this.name}` };
    return json(this.#objects.get(id)!.body);
  }

  #vectorStores(method: string, body: Obj, id: string | undefined, sub: string | undefined, n: number): Reply | undefined {
    if (method === 'POST' && id === undefined) {
      for (const fid of asArr(body.file_ids)) if (!this.#has(fid, 'file')) return notFound('File', asStr(fid), 'file_ids');
      const vid = `vs_${this.name}_${n}`;
      return this.#put('vector_store', vid, {
        id: vid,
        object: 'vector_store',
        name: body.name ?? null,
        created_at: nowSec(),
        status: 'completed',
        file_counts: {},
      });
    }
    if (id === undefined) return undefined;
    if (!this.#has(id, 'vector_store')) return notFound('Vector store', id);
    if (sub === 'files' && method === 'POST') {
      if (!this.#has(body.file_id, 'file')) return notFound('File', asStr(body.file_id), 'file_id');
      return json({ id: body.file_id, object: 'vector_store.file', vector_store_id: id, status: 'completed', created_at: nowSec() });
    }
    return json(this.#objects.get(id)!.body);
  }
}
