/**
 * The names of a namespace's keys and channel. All of them carry the namespace as one hash tag
 * (`{my-app}:...`), so on a Redis Cluster they live in one slot: the periodic re-read reads the
 * lease and every endpoint's state with one MGET, and a cluster refuses a multi-key command whose
 * keys hash to different slots (CROSSSLOT). On a single server or behind Sentinel the tag is just
 * part of the name.
 */
export interface NamespaceKeys {
  readonly lease: string;
  /** The pub/sub channel of breaker changes. */
  readonly channel: string;
  /** An endpoint's last shared breaker change. */
  state(endpointId: string): string;
  /** The endpoint that created a stored id. */
  home(id: string): string;
}

export function namespaceKeys(namespace: string): NamespaceKeys {
  const tag = `{${namespace}}`;
  return {
    lease: `${tag}:probe-lease`,
    channel: `${tag}:changes`,
    state: (endpointId) => `${tag}:endpoint:${endpointId}`,
    home: (id) => `${tag}:home:${id}`,
  };
}
