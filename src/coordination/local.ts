import type { Coordination } from '../options/contracts.js';
import { randomInstanceId } from './instance-id.js';

/** Nothing shared: every process decides alone (the default). */
export function localCoordination(instanceId?: string): Coordination {
  let id = instanceId;
  const self = () => (id ??= randomInstanceId());
  return {
    backend: 'local',
    get instanceId() {
      return self();
    },
    start: () => {},
    publish: () => {},
    shouldProbe: () => Promise.resolve(true),
    status: () => ({ backend: 'local', active: false, instanceId: self(), probeLeaseHolder: null }),
    close: () => Promise.resolve(),
  };
}
