// What records a call's spans once a provider is there: loaded by Telemetry at the first call
// that has one, so that an app without OpenTelemetry never compiles it (BENCHMARKS.md step 7).
// The instruments stay with Telemetry: events outside calls (a probe) record at once.
export { CallTrace } from './call-trace.js';
