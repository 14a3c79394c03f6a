import ResilientOpenAI, { createRedisCoordination, IncompleteStreamError, ResilientOpenAI as Named } from 'resilient-openai';
import OpenAI from 'openai';
import upstreams from './upstreams.cjs';

if (ResilientOpenAI !== Named) throw new Error('default export differs from the named export');
await upstreams.check(ResilientOpenAI, OpenAI, 'import');
await upstreams.checkRedis(createRedisCoordination, ResilientOpenAI, 'import');
await upstreams.checkTelemetry(ResilientOpenAI, 'import');
await upstreams.checkStreams(ResilientOpenAI, IncompleteStreamError, 'import');
