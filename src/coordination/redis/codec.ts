// The wire format of a shared change (a JSON string in a key and on the channel), and the reply
// shapes the two client libraries give back.

/** A change as stored in Redis and sent on the channel. */
export interface SharedChange {
  endpoint: string;
  state: 'open' | 'closed';
  epoch: number;
  instanceId: string;
  /** With `open`: held out of traffic until then (a quota, a long rate-limit wait). */
  hold?: { until: number; reason: 'quota' | 'rate-limit' };
}

function parseHold(value: unknown): SharedChange['hold'] {
  if (typeof value !== 'object' || value === null) return undefined;
  const { until, reason } = value as { until?: unknown; reason?: unknown };
  if (typeof until !== 'number' || !Number.isFinite(until) || (reason !== 'quota' && reason !== 'rate-limit')) return undefined;
  return { until, reason };
}

export function text(reply: unknown): string | null {
  if (reply === null || reply === undefined) return null;
  if (typeof reply === 'string') return reply;
  if (reply instanceof Uint8Array) return new TextDecoder().decode(reply);
  return typeof reply === 'number' || typeof reply === 'bigint' ? String(reply) : null;
}

export function parseChange(raw: string | null): SharedChange | null {
  if (raw === null) return null;
  try {
    const value = JSON.parse(raw) as Partial<SharedChange> | null;
    if (
      value &&
      typeof value.endpoint === 'string' &&
      (value.state === 'open' || value.state === 'closed') &&
      typeof value.epoch === 'number' &&
      Number.isFinite(value.epoch) &&
      typeof value.instanceId === 'string'
    ) {
      const hold = parseHold(value.hold);
      const change: SharedChange = { endpoint: value.endpoint, state: value.state, epoch: value.epoch, instanceId: value.instanceId };
      return hold ? { ...change, hold } : change;
    }
  } catch {
    // Not ours, or damaged: ignored.
  }
  return null;
}

export function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 200);
  return typeof error;
}
