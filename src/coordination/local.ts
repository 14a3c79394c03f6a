import type { Coordination } from '../options/contracts.js';

/** Nothing shared: every process decides alone (the default). */
export function localCoordination(instanceId: string): Coordination {
  return {
    backend: 'local',
    instanceId,
    start: () => {},
    publish: () => {},
    shouldProbe: () => Promise.resolve(true),
    status: () => ({ backend: 'local', active: false, instanceId, probeLeaseHolder: null }),
    close: () => Promise.resolve(),
  };
}
